"""The periodic recomputation of tracker hits (``trackers.recompute`` on ``analyze``)."""

from __future__ import annotations

from sqlmodel import Session

from insight.queue import Apply, Handler, JobContext
from insight.runtime import Runtime
from insight.stages import Schedule
from insight.trackers.service import recompute_stale
from models import Job

# Calls recomputed per run (one commit each); the next run takes the rest.
CALLS_PER_RUN = 200


def make_handler(runtime: Runtime) -> Handler:
    """The ``trackers.recompute`` job: recompute the hits of calls computed with other trackers or another model.

    Each call commits on its own, so the job has nothing to apply when it ends.
    """

    def handle(job: Job, ctx: JobContext) -> Apply:
        ctx.check()
        recompute_stale(runtime.engine, runtime.models.embedder(), limit=CALLS_PER_RUN, check=ctx.check)

        def apply(session: Session) -> list[str]:
            return []

        return apply

    return handle


SCHEDULES = (
    # A tracker added, changed or deleted (or a new embedding model) makes every call's hits stale.
    Schedule(
        name="trackers.recompute",
        queue="analyze",
        make_handler=make_handler,
        interval_s=lambda settings: settings.trackers_interval_s,
    ),
)
