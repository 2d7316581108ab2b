"""Queue handler and schedule for the periodic segment recomputation (``segments.compute`` on ``analyze``).

The schedule is a job key per period (``segments.compute:periodic:<period number>``): every worker may try to
submit it, the job table's unique key lets exactly one job per period exist, and one worker runs it.
"""

from __future__ import annotations

from sqlmodel import Session

from insight.queue import Apply, Handler, JobContext
from insight.runtime import Runtime
from insight.segments.service import compute_segments
from insight.stages import Schedule
from models import Job


def make_handler(runtime: Runtime) -> Handler:
    """The ``segments.compute`` job handler: computes a new segment run triggered as ``periodic``.

    The run commits itself, so the job has nothing to apply when it ends.
    """

    def handle(job: Job, ctx: JobContext) -> Apply:
        ctx.check()
        # The run is its own transaction (a dated snapshot); a retry after a lost lease adds one more snapshot.
        compute_segments(runtime.engine, trigger="periodic")

        def apply(session: Session) -> list[str]:
            return []

        return apply

    return handle


SCHEDULES = (
    # The recomputation once per ``segments_interval_s`` (off when 0).
    Schedule(
        name="segments.compute",
        queue="analyze",
        make_handler=make_handler,
        interval_s=lambda settings: settings.segments_interval_s,
    ),
)
