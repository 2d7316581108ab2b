"""Worker start-up: attach a job runner to the queues and run consumers (standalone or embedded)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from sqlmodel import Session

from insight import pipeline
from insight.errors import InsightError
from insight.nlp import tasks as nlp_tasks
from insight.queue import EmbeddedConsumer, Handler, JobRunner, start_consumers, stop_consumers
from insight.repositories import calls as calls_repo
from insight.retention import tasks as retention_tasks
from insight.runtime import Runtime
from insight.segments import tasks as segments_tasks
from insight.settings import QUEUE_NAMES
from insight.transcribe import tasks as transcribe_tasks
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
    handlers: dict[str, Handler] = {
        transcribe_tasks.NAME: transcribe_tasks.make_handler(runtime),
        transcribe_tasks.DIARIZE: transcribe_tasks.make_diarize_handler(runtime),
        nlp_tasks.NAME: nlp_tasks.make_handler(runtime),
        segments_tasks.NAME: segments_tasks.make_handler(runtime),
        retention_tasks.NAME: retention_tasks.make_handler(runtime),
    }
    runner = JobRunner(
        engine=runtime.engine,
        settings=runtime.settings,
        queues=runtime.queues,
        handlers=handlers,
        on_failure=_on_failure,
        call_progress=pipeline.overall_progress,
    )
    runtime.queues.attach(runner.run_next)
    return runner


class EmbeddedWorker:
    """Consumers and a reaper running inside another process (the API server)."""

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
        self.scheduler = segments_tasks.scheduler(runtime) if segments_tasks.QUEUE in queues else None
        self.retention = retention_tasks.scheduler(runtime) if retention_tasks.QUEUE in queues else None

    def start(self) -> None:
        if self.warm:
            threading.Thread(target=_warm_analysis, args=(self.runtime,), name="insight-warm", daemon=True).start()
        self.consumers = start_consumers(self.runner.queues, self.names, threads=self.threads)
        self.runner.start_reaper()
        if self.scheduler is not None:
            self.scheduler.start()
        if self.retention is not None:
            self.retention.start()

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.retention is not None:
            self.retention.stop()
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
