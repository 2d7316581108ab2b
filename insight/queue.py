"""Queues: one Huey instance per queue, plus the app-owned job table that makes work survive crashes.

The job table (``models.Job``) is the source of truth. A Huey message is only a wake-up that says "there is work
on this queue": the consumer claims the oldest due job with a conditional UPDATE, renews a lease from a heartbeat
thread (which also writes progress), and writes results only while its attempt number still matches. A reaper
returns jobs whose lease lapsed (their worker was killed) to ``queued`` and tops up wake-ups when the broker holds
fewer messages than there are due jobs (a message lost with a killed worker). Extra wake-ups are harmless: a
consumer that finds nothing to claim does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from insight import telemetry
from insight.db import session_scope
from insight.errors import InsightError, JobTimeout, RetryableError
from insight.repositories import calls as calls_repo
from insight.repositories import jobs as jobs_repo
from insight.settings import QUEUE_NAMES, Settings
from models import Job
from models.base import utcnow

log = logging.getLogger(__name__)


class LeaseLost(InsightError):
    """This worker's attempt lost its lease (the reaper gave the job to another worker)."""

    code = "lease_lost"


def make_huey(settings: Settings, queue: str) -> Huey:
    """The Huey instance for ``queue``: SQLite file in the data dir, or Redis when ``queue_url`` is set."""
    name = f"{settings.queue_namespace}-{queue}"
    if settings.queue_url:
        return RedisHuey(name, url=settings.queue_url, results=False, store_none=False)
    settings.queue_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(settings.queue_dir / f"{queue}.db"), results=False, store_none=False)


@dataclass
class JobContext:
    """Handed to a stage handler: where to report progress and how to learn it must stop."""

    job_id: int
    attempt: int
    call_id: int | None
    deadline: float  # time.monotonic() value
    time_limit_s: float
    name: str = ""
    progress: float = 0.0
    lost: threading.Event = field(default_factory=threading.Event)

    def report(self, fraction: float) -> None:
        """Record progress; raises when the job is over its time limit or lost its lease."""
        self.progress = max(self.progress, min(1.0, fraction))
        self.check()

    def check(self) -> None:
        """Stop the handler if it must no longer run; call it between units of work.

        Raises:
            LeaseLost: The reaper gave the job to another worker.
            JobTimeout: The job ran past its time limit.
        """
        if self.lost.is_set():
            raise LeaseLost(f"job {self.job_id} attempt {self.attempt} lost its lease")
        if time.monotonic() > self.deadline:
            raise JobTimeout(
                f"The job ran longer than its time limit of {self.time_limit_s:.0f} s and was stopped.",
                hint="Retry it; if it keeps timing out, split the recording or raise INSIGHT_JOB_TIME_LIMIT_S.",
            )


# A stage handler does the slow work outside any transaction and returns a function that writes the results;
# the runner calls it in the same transaction that marks the job done (only if the attempt still owns it).
Apply = Callable[[Session], list[str]]


class Handler(Protocol):
    """A stage handler: runs one attempt of ``job`` and returns what to apply to the call."""

    def __call__(self, job: Job, ctx: JobContext) -> Apply:
        """Run one attempt of ``job``; call ``ctx.check()`` often enough to honour leases and time limits."""


class Queues:
    """The Huey instances of every queue and the wake-up task registered on each."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.hueys: dict[str, Huey] = {}
        self._tasks: dict[str, Any] = {}
        self._dispatch: Callable[[str], object] | None = None
        for queue in QUEUE_NAMES:
            huey = make_huey(settings, queue)
            self.hueys[queue] = huey
            self._tasks[queue] = huey.task(name=f"{queue}.run_next", retries=0)(self._make_entry(queue))

    def _make_entry(self, queue: str) -> Callable[[], None]:
        def run_next() -> None:
            if self._dispatch is None:
                raise RuntimeError("no job runner attached to this process's queues")
            self._dispatch(queue)

        run_next.__name__ = f"run_next_{queue}"
        return run_next

    def attach(self, dispatch: Callable[[str], object]) -> None:
        """Route every wake-up of this process's queues to ``dispatch`` (called with the queue name)."""
        self._dispatch = dispatch

    def wake(self, queue: str, n: int = 1) -> None:
        """Enqueue ``n`` wake-ups on ``queue`` (call only after the job rows are committed)."""
        for _ in range(n):
            self._tasks[queue]()

    def pending(self, queue: str) -> int:
        """Number of wake-ups waiting in ``queue``'s Huey storage (not the number of job rows)."""
        return int(self.hueys[queue].pending_count())

    def flush(self) -> None:
        """Drop every pending wake-up on all queues; job rows are untouched."""
        for huey in self.hueys.values():
            huey.flush()


def submit(
    session: Session, *, key: str, queue: str, name: str, call_id: int | None, max_attempts: int
) -> tuple[Job, bool]:
    """Create the job for ``key`` unless it exists (a double submit makes one job). Wake the queue after commit."""
    return jobs_repo.get_or_create(session, key=key, queue=queue, name=name, call_id=call_id, max_attempts=max_attempts)


def period_key(name: str, now: datetime, interval_s: float) -> str:
    """The job key of the period ``now`` falls in: ``<name>:periodic:<period number>``."""
    return f"{name}:periodic:{int(now.timestamp() // interval_s)}"


def submit_periodic(
    session: Session, *, name: str, queue: str, now: datetime, interval_s: float, max_attempts: int
) -> bool:
    """Submit this period's job unless some worker already did. Returns True when it was created."""
    _, created = submit(
        session, key=period_key(name, now, interval_s), queue=queue, name=name, call_id=None, max_attempts=max_attempts
    )
    return created


class PeriodicJob:
    """A thread that submits the job ``name`` once per ``interval_s`` (off when 0).

    Every worker may run one: the period's job key lets exactly one job per period exist, and one worker runs it.
    """

    def __init__(
        self,
        engine: Engine,
        queues: Queues,
        *,
        name: str,
        queue: str,
        interval_s: float,
        max_attempts: int,
        check_every_s: float = 60.0,
    ) -> None:
        self.engine, self.queues = engine, queues
        self.name, self.queue = name, queue
        self.interval_s = interval_s
        self.max_attempts = max_attempts
        self.check_every_s = min(check_every_s, interval_s) if interval_s > 0 else check_every_s
        self._stop = threading.Event()

    def tick(self, now: datetime | None = None) -> bool:
        """Submit the current period's job if it does not exist yet; wake the queue when it was created."""
        with session_scope(self.engine) as session:
            created = submit_periodic(
                session,
                name=self.name,
                queue=self.queue,
                now=now or utcnow(),
                interval_s=self.interval_s,
                max_attempts=self.max_attempts,
            )
        if created:
            self.queues.wake(self.queue)
        return created

    def _loop(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the schedule must outlive a transient database error
                log.exception("could not submit the periodic job %s", self.name)
            if self._stop.wait(self.check_every_s):
                return

    def start(self) -> None:
        """Start the background thread that submits the job each period; does nothing when ``interval_s`` is 0."""
        if self.interval_s > 0:
            threading.Thread(target=self._loop, daemon=True, name=f"schedule-{self.name}").start()

    def stop(self) -> None:
        """Ask the schedule thread to exit at its next wait."""
        self._stop.set()


class JobRunner:
    """Claims and runs jobs for one process; owns the heartbeat and reaper threads."""

    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        queues: Queues,
        handlers: dict[str, Handler],
        on_failure: Callable[[Session, Job, InsightError | Exception, bool], None] | None = None,
        call_progress: Callable[[str, float], float] | None = None,
    ) -> None:
        self.engine = engine
        # Maps (job name, job progress) to the call's overall progress when a call has several stages.
        self.call_progress = call_progress or (lambda _name, fraction: fraction)
        self.settings = settings
        self.queues = queues
        self.handlers = handlers
        self.on_failure = on_failure
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    # -- running one job -------------------------------------------------------------------------------------
    def run_next(self, queue: str) -> bool:
        """Claim and run the oldest due job on ``queue``. Returns False when there was nothing to claim."""
        with session_scope(self.engine) as session:
            job = jobs_repo.claim_next(
                session,
                queue=queue,
                worker_id=self.worker_id,
                lease_s=self.settings.job_lease_s,
                max_running_per_owner=self.settings.max_running_jobs_per_user,
            )
            if job is not None and job.call_id is not None:
                calls_repo.update_fields(
                    session, job.call_id, status="processing", stage=job.name, error=None, error_code=None
                )
        if job is None:
            return False
        assert job.id is not None
        ctx = JobContext(
            job_id=job.id,
            name=job.name,
            attempt=job.attempt,
            call_id=job.call_id,
            deadline=time.monotonic() + self.settings.job_time_limit_s,
            time_limit_s=self.settings.job_time_limit_s,
        )
        log.info("job %s (%s) attempt %s started", job.id, job.name, job.attempt)
        stop_beat = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(ctx, stop_beat), daemon=True, name=f"beat-{job.id}")
        beat.start()
        started = time.monotonic()
        try:
            handler = self.handlers[job.name]
            apply = handler(job, ctx)
            ctx.check()
            stop_beat.set()
            beat.join()
            wakeups: list[str] = []
            with session_scope(self.engine) as session:
                if jobs_repo.finish(session, job_id=ctx.job_id, attempt=ctx.attempt):
                    wakeups = apply(session)
                else:
                    log.warning(
                        "job %s attempt %s finished after losing its lease; result dropped",
                        job.id,
                        job.attempt,
                    )
            for q in wakeups:
                self.queues.wake(q)
            elapsed = time.monotonic() - started
            telemetry.JOB_DURATION.labels(queue=job.queue, name=job.name, outcome="done").observe(elapsed)
            log.info("job %s done in %.1f s", job.id, elapsed, extra={"job_id": job.id, "job_name": job.name})
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the job, none is swallowed
            stop_beat.set()
            beat.join()
            telemetry.JOB_DURATION.labels(queue=job.queue, name=job.name, outcome="error").observe(
                time.monotonic() - started
            )
            self._record_failure(job, ctx, exc)
        if self.settings.max_running_jobs_per_user > 0:
            # A job passed over for its owner's cap may be claimable now: make sure a consumer looks again.
            self._top_up(queue)
        return True

    def _top_up(self, queue: str) -> None:
        try:
            with Session(self.engine) as session:
                due = jobs_repo.count_due(session, queue=queue)
            if due > self.queues.pending(queue):
                self.queues.wake(queue)
        except Exception:  # noqa: BLE001 - the reaper tops up wake-ups too; this is only a shortcut
            log.warning("could not top up wake-ups on %s", queue, exc_info=True)

    def _record_failure(self, job: Job, ctx: JobContext, exc: Exception) -> None:
        if isinstance(exc, LeaseLost):
            log.warning("job %s attempt %s stopped: lease lost", job.id, ctx.attempt)
            return
        permanent = isinstance(exc, InsightError) and not isinstance(exc, RetryableError)
        retry = not permanent and ctx.attempt < job.max_attempts
        message = exc.message if isinstance(exc, InsightError) else f"{type(exc).__name__}: {exc}"
        code = exc.code if isinstance(exc, InsightError) else "internal_error"
        if not isinstance(exc, InsightError):
            log.error("job %s attempt %s crashed:\n%s", job.id, ctx.attempt, traceback.format_exc())
        else:
            log.warning("job %s attempt %s failed: %s", job.id, ctx.attempt, message)
        retry_at = utcnow() + timedelta(seconds=self.settings.retry_backoff_s * ctx.attempt) if retry else None
        for _ in range(3):
            try:
                with session_scope(self.engine) as session:
                    if (
                        jobs_repo.fail(
                            session,
                            job_id=ctx.job_id,
                            attempt=ctx.attempt,
                            error=message,
                            error_code=code,
                            retry_at=retry_at,
                        )
                        and self.on_failure is not None
                    ):
                        self.on_failure(session, job, exc, retry)
                return
            except OperationalError:
                # The database went away mid-failure: the lease will lapse and the reaper will retry the job.
                time.sleep(1.0)

    def _heartbeat(self, ctx: JobContext, stop: threading.Event) -> None:
        while not stop.wait(self.settings.job_heartbeat_s):
            try:
                with session_scope(self.engine) as session:
                    ok = jobs_repo.renew_lease(
                        session,
                        job_id=ctx.job_id,
                        attempt=ctx.attempt,
                        lease_s=self.settings.job_lease_s,
                        progress=ctx.progress,
                    )
                    if ok and ctx.call_id is not None:
                        overall = self.call_progress(ctx.name, ctx.progress)
                        calls_repo.update_fields(session, ctx.call_id, progress=round(overall, 4))
                if not ok:
                    ctx.lost.set()
                    return
            except OperationalError as exc:
                # A dropped connection: keep beating; the pool reconnects (pre-ping) on the next try.
                log.warning("heartbeat for job %s failed: %s", ctx.job_id, exc)

    # -- reaping ---------------------------------------------------------------------------------------------
    def reap_once(self) -> int:
        """Requeue jobs with lapsed leases and top up lost wake-ups. Returns how many wake-ups were sent."""
        sent = 0
        with session_scope(self.engine) as session:
            reaped = jobs_repo.reap_expired(session)
            for job in reaped:
                log.warning("job %s lease expired (worker %s); requeued", job.id, job.worker_id)
            due = {q: jobs_repo.count_due(session, queue=q) for q in QUEUE_NAMES}
        for queue, n_due in due.items():
            missing = n_due - self.queues.pending(queue)
            if missing > 0:
                self.queues.wake(queue, missing)
                sent += missing
        return sent

    def _reap_loop(self) -> None:
        while not self._stop.wait(self.settings.reaper_interval_s):
            try:
                self.reap_once()
            except Exception:  # noqa: BLE001 - the reaper must outlive transient DB/broker errors
                log.exception("reaper pass failed")

    def start_reaper(self) -> None:
        """Run one reaper pass now, then start the thread that repeats it every ``reaper_interval_s`` seconds."""
        # One pass right away: a restarted worker picks up what its predecessor left without waiting.
        try:
            self.reap_once()
        except Exception:  # noqa: BLE001
            log.exception("initial reaper pass failed")
        self._reaper = threading.Thread(target=self._reap_loop, daemon=True, name="reaper")
        self._reaper.start()

    def stop(self) -> None:
        """Ask the reaper thread to exit at its next wait; running jobs are not interrupted."""
        self._stop.set()


class EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """A Huey consumer that leaves signal handling to its host (uvicorn or ``insight worker``)."""

    def _set_signal_handlers(self) -> None:
        pass


def start_consumers(queues: Queues, names: tuple[str, ...], *, threads: int) -> list[EmbeddedConsumer]:
    """Start a consumer (worker threads) for each queue in ``names``."""
    consumers = []
    for name in names:
        consumer = EmbeddedConsumer(
            queues.hueys[name],
            workers=threads,
            worker_type="thread",
            periodic=False,
            initial_delay=0.05,
            max_delay=1.0,
            check_worker_health=False,
        )
        consumer.start()
        consumers.append(consumer)
    return consumers


def stop_consumers(consumers: list[EmbeddedConsumer]) -> None:
    """Stop each consumer gracefully (its running tasks finish first)."""
    for consumer in consumers:
        consumer.stop(graceful=True)
