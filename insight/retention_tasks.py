"""Queue handler and schedule of the retention purge (``retention.purge`` on ``analyze``), one job per period.

Like the segment schedule, every worker may submit the period's job; its unique key lets one exist and one run.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlmodel import Session

from insight.db import session_scope
from insight.queue import Apply, Handler, JobContext, submit
from insight.retention import purge_expired
from insight.runtime import Runtime
from models import Job
from models.base import utcnow

log = logging.getLogger(__name__)

NAME = "retention.purge"
QUEUE = "analyze"


def make_handler(runtime: Runtime) -> Handler:
    def handle(job: Job, ctx: JobContext) -> Apply:
        ctx.check()
        # Each batch commits on its own; a retried job simply finds fewer expired calls.
        purge_expired(runtime.engine, runtime.store, days=runtime.settings.retention_days)

        def apply(session: Session) -> list[str]:
            return []

        return apply

    return handle


def period_key(now: datetime, interval_s: float) -> str:
    return f"{NAME}:periodic:{int(now.timestamp() // interval_s)}"


class RetentionScheduler:
    """Submits the purge once per ``retention_interval_s`` while ``retention_days`` is set."""

    def __init__(self, runtime: Runtime, *, check_every_s: float = 60.0) -> None:
        self.runtime = runtime
        self.interval_s = runtime.settings.retention_interval_s
        self.check_every_s = min(check_every_s, self.interval_s)
        self._stop = threading.Event()

    def tick(self, now: datetime | None = None) -> bool:
        with session_scope(self.runtime.engine) as session:
            _, created = submit(
                session,
                key=period_key(now or utcnow(), self.interval_s),
                queue=QUEUE,
                name=NAME,
                call_id=None,
                max_attempts=self.runtime.settings.job_max_attempts,
            )
        if created:
            self.runtime.queues.wake(QUEUE)
        return created

    def _loop(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the schedule must outlive a transient database error
                log.exception("could not submit the retention purge")
            if self._stop.wait(self.check_every_s):
                return

    def start(self) -> None:
        if self.runtime.settings.retention_days > 0:
            threading.Thread(target=self._loop, daemon=True, name="retention-scheduler").start()

    def stop(self) -> None:
        self._stop.set()
