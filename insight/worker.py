"""Worker start-up: attach a job runner to the queues and run consumers (standalone or embedded)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from sqlmodel import Session

from insight.errors import InsightError
from insight.pipeline import REGISTRY
from insight.queue import EmbeddedConsumer, JobRunner, start_consumers, stop_consumers
from insight.repositories import calls as calls_repo
from insight.runtime import Runtime
from insight.settings import QUEUE_NAMES
from models import CallStatus, Job

log = logging.getLogger(__name__)


def _on_failure(session: Session, job: Job, exc: InsightError | Exception, will_retry: bool) -> None:
    if job.call_id is None:
        return
    message = exc.message if isinstance(exc, InsightError) else f"{type(exc).__name__}: {exc}"
    code = exc.code if isinstance(exc, InsightError) else "internal_error"
    if isinstance(exc, InsightError) and exc.hint:
        message = f"{message} {exc.hint}"
    calls_repo.update_fields(
        session,
        job.call_id,
        status=CallStatus.queued if will_retry else CallStatus.failed,
        error=message,
        error_code=code,
    )


def build_runner(runtime: Runtime) -> JobRunner:
    """A job runner with the handler of every registered stage and schedule, attached to the runtime's queues."""
    runner = JobRunner(
        engine=runtime.engine,
        settings=runtime.settings,
        queues=runtime.queues,
        handlers=REGISTRY.handlers(runtime),
        on_failure=_on_failure,
        call_progress=REGISTRY.overall_progress,
    )
    runtime.queues.attach(runner.run_next)
    return runner


class EmbeddedWorker:
    """Consumers, a reaper and the schedules of the consumed queues, running inside another process (the API
    server, or ``insight worker``).
    """

    def __init__(self, runtime: Runtime, queues: tuple[str, ...] = QUEUE_NAMES, *, warm: bool = False) -> None:
        """Prepare the consumers of ``queues``; nothing runs before :meth:`start`.

        Args:
            runtime: What the jobs use.
            queues: The queues to consume.
            warm: On start, load the analysis models (voice encoder, spaCy pipelines, sentence encoder) in the
                background when ``analyze`` is consumed, so its first job does not wait for them; off for the API
                server, whose start-up and tests should not load them.
        """
        self.runtime = runtime
        self.runner = build_runner(runtime)
        self.names = queues
        self.warm = warm and "analyze" in queues
        self.threads = runtime.settings.worker_threads
        self.consumers: list[EmbeddedConsumer] = []
        self.schedules = REGISTRY.periodic_jobs(runtime, queues)

    def start(self) -> None:
        """Start the consumers, the reaper and the schedules; warm the analysis models in the background if asked."""
        if self.warm:
            threading.Thread(target=_warm_analysis, args=(self.runtime,), name="insight-warm", daemon=True).start()
        self.consumers = start_consumers(self.runner.queues, self.names, threads=self.threads)
        self.runner.start_reaper()
        for schedule in self.schedules:
            schedule.start()

    def stop(self) -> None:
        """Stop the schedules and the reaper, then the consumers (running tasks finish first)."""
        for schedule in self.schedules:
            schedule.stop()
        self.runner.stop()
        stop_consumers(self.consumers)


def _warm_analysis(runtime: Runtime) -> None:
    try:
        runtime.models.warm(analysis=True)
    except Exception:
        # Not fatal here: the first job that needs the model reports the same error on its call.
        log.exception("could not preload the analysis models")


def run_worker(runtime: Runtime, queues: tuple[str, ...] = QUEUE_NAMES, *, preload: bool = True) -> None:
    """Run consumers for ``queues`` until SIGINT/SIGTERM (``insight worker``)."""
    if preload and "transcribe" in queues:
        runtime.models.transcriber()  # load the model once, before the first job
    worker = EmbeddedWorker(runtime, queues, warm=preload)
    done = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, finishing current jobs", signal.Signals(signum).name)
        done.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    worker.start()
    log.info("worker %s consuming %s", worker.runner.worker_id, ", ".join(queues))
    done.wait()
    worker.stop()
