"""Queue handler and schedule of the retention purge (``retention.purge`` on ``analyze``), one job per period.

Like the segment schedule, every worker may submit the period's job; its unique key lets one exist and one run.
"""

from __future__ import annotations

from sqlmodel import Session

from insight.queue import Apply, Handler, JobContext
from insight.retention.service import purge_expired
from insight.runtime import Runtime
from insight.settings import Settings
from insight.stages import Schedule
from models import Job


def make_handler(runtime: Runtime) -> Handler:
    """The ``retention.purge`` job handler: purges the calls older than ``retention_days``.

    The purge commits batch by batch itself, so the job has nothing to apply when it ends.
    """

    def handle(job: Job, ctx: JobContext) -> Apply:
        ctx.check()
        # Each batch commits on its own; a retried job simply finds fewer expired calls.
        purge_expired(runtime.engine, runtime.store, days=runtime.settings.retention_days)

        def apply(session: Session) -> list[str]:
            return []

        return apply

    return handle


def _interval_s(settings: Settings) -> float:
    return settings.retention_interval_s if settings.retention_days > 0 else 0


SCHEDULES = (
    # The purge once per ``retention_interval_s`` while ``retention_days`` is set.
    Schedule(name="retention.purge", queue="analyze", make_handler=make_handler, interval_s=_interval_s),
)
