"""Queue handler and schedule for the periodic segment recomputation (``segments.compute`` on ``analyze``).

The schedule is a job key per period (``segments.compute:periodic:<period number>``): every worker may try to
submit it, the job table's unique key lets exactly one job per period exist, and one worker runs it.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlmodel import Session

from insight.db import session_scope
from insight.queue import Apply, Handler, JobContext, submit
from insight.runtime import Runtime
from insight.segments.service import compute_segments
from models import Job
from models.base import utcnow

log = logging.getLogger(__name__)

NAME = "segments.compute"
QUEUE = "analyze"


def make_handler(runtime: Runtime) -> Handler:
    def handle(job: Job, ctx: JobContext) -> Apply:
        ctx.check()
        # The run is its own transaction (a dated snapshot); a retry after a lost lease adds one more snapshot.
        compute_segments(runtime.engine, trigger="periodic")

        def apply(session: Session) -> list[str]:
            return []

        return apply

    return handle


def period_key(now: datetime, interval_s: float) -> str:
    return f"{NAME}:periodic:{int(now.timestamp() // interval_s)}"


def submit_periodic(session: Session, *, now: datetime, interval_s: float, max_attempts: int) -> bool:
    """Submit this period's recomputation unless some worker already did. Returns True when it was created."""
    _, created = submit(
        session, key=period_key(now, interval_s), queue=QUEUE, name=NAME, call_id=None, max_attempts=max_attempts
    )
    return created


class SegmentScheduler:
    """A thread that submits the recomputation job once per ``segments_interval_s`` (off when 0)."""

    def __init__(self, runtime: Runtime, *, check_every_s: float = 60.0) -> None:
        self.runtime = runtime
        self.interval_s = runtime.settings.segments_interval_s
        self.check_every_s = min(check_every_s, self.interval_s) if self.interval_s else check_every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, now: datetime | None = None) -> bool:
        with session_scope(self.runtime.engine) as session:
            created = submit_periodic(
                session,
                now=now or utcnow(),
                interval_s=self.interval_s,
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
                log.exception("could not submit the segment recomputation")
            if self._stop.wait(self.check_every_s):
                return

    def start(self) -> None:
        if not self.interval_s:
            return
        self._thread = threading.Thread(target=self._loop, daemon=True, name="segment-scheduler")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
