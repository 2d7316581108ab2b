"""The one place that states the stage order for a call, and the periodic jobs.

Each tasks module declares its stages and schedules as data (``insight.stages``); ``REGISTRY`` below puts the call
stages in order and lists the schedules. Adding a stage is a tasks module plus one line here.

Each stage is a job on a queue. A stage handler returns its writer; the runner calls it in the transaction that
marks the job done, and the registry's chaining (see ``Registry.handlers``) submits the next stage in that same
transaction, or marks the call done after the last stage. A worker killed anywhere in between leaves either the
finished job with its successor, or neither (the job is then run again).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Collection, Iterable

from sqlmodel import Session

from insight.nlp import tasks as nlp_tasks
from insight.patterns import tasks as patterns_tasks
from insight.queue import Apply, Handler, JobContext, PeriodicJob, submit
from insight.repositories import calls as calls_repo
from insight.retention import tasks as retention_tasks
from insight.runtime import Runtime
from insight.segments import tasks as segments_tasks
from insight.stages import Change, Schedule, Stage, StaleHook
from insight.topics import tasks as topics_tasks
from insight.trackers import tasks as trackers_tasks
from insight.transcribe import tasks as transcribe_tasks
from models import CallStatus, Job

__all__ = ["REGISTRY", "Registry", "Schedule", "Stage", "job_key", "periodic_job", "redo_hook", "submit_first"]

_REDO = ":redo:"


def job_key(stage: Stage, call_id: int) -> str:
    """The job key of ``stage`` for a call: one job per call and stage version."""
    return f"{stage.name}:call:{call_id}:v{stage.version}"


def periodic_job(runtime: Runtime, schedule: Schedule) -> PeriodicJob:
    """The thread that submits ``schedule``'s job once per interval (the worker starts it)."""
    return PeriodicJob(
        runtime.engine,
        runtime.queues,
        name=schedule.name,
        queue=schedule.queue,
        interval_s=schedule.interval_s(runtime.settings),
        max_attempts=runtime.settings.job_max_attempts,
    )


class Registry:
    """The call stages in order and the periodic jobs; the worker builds its handlers and schedules from it."""

    def __init__(self, stages: Iterable[Stage], schedules: Iterable[Schedule]) -> None:
        self._lock = threading.Lock()
        self._stages: tuple[Stage, ...] = ()
        self._schedules: tuple[Schedule, ...] = ()
        for stage in stages:
            self.add_stage(stage)
        for schedule in schedules:
            self.add_schedule(schedule)

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The call stages, in the order they run."""
        return self._stages

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        """The periodic schedules, in registration order."""
        return self._schedules

    # -- registration ----------------------------------------------------------------------------------------
    def add_stage(self, stage: Stage, *, after: str | None = None) -> Callable[[], None]:
        """Add a call stage after the stage named ``after`` (default: last).

        Returns:
            A function that removes the stage again.

        Raises:
            ValueError: a job of that name is already registered, or there is no stage ``after``.
        """
        with self._lock:
            self._check_new(stage.name)
            names = [s.name for s in self._stages]
            if after is not None and after not in names:
                raise ValueError(f"no stage {after!r} to add {stage.name!r} after")
            at = names.index(after) + 1 if after is not None else len(names)
            self._stages = (*self._stages[:at], stage, *self._stages[at:])

        def remove() -> None:
            with self._lock:
                self._stages = tuple(s for s in self._stages if s is not stage)

        return remove

    def add_schedule(self, schedule: Schedule) -> Callable[[], None]:
        """Add a periodic job. Returns a function that removes it again.

        Raises:
            ValueError: a job of that name is already registered.
        """
        with self._lock:
            self._check_new(schedule.name)
            self._schedules = (*self._schedules, schedule)

        def remove() -> None:
            with self._lock:
                self._schedules = tuple(s for s in self._schedules if s is not schedule)

        return remove

    def _check_new(self, name: str) -> None:
        if any(s.name == name for s in self._stages) or any(s.name == name for s in self._schedules):
            raise ValueError(f"a job named {name!r} is already registered")

    def stage(self, name: str) -> Stage:
        """The stage named ``name``. Raises KeyError when there is none."""
        for stage in self._stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    # -- what the worker runs --------------------------------------------------------------------------------
    def handlers(self, runtime: Runtime) -> dict[str, Handler]:
        """Every job name's handler: stage handlers chain the next stage after their writer, schedules run as
        they are.
        """
        max_attempts = runtime.settings.job_max_attempts
        handlers: dict[str, Handler] = {
            s.name: self._chained(s.make_handler(runtime), max_attempts) for s in self.stages
        }
        handlers.update({s.name: s.make_handler(runtime) for s in self.schedules})
        return handlers

    def periodic_jobs(self, runtime: Runtime, queues: Collection[str]) -> list[PeriodicJob]:
        """The schedule threads of a worker consuming ``queues``: every schedule whose queue it consumes."""
        return [periodic_job(runtime, s) for s in self.schedules if s.queue in queues]

    def _chained(self, handler: Handler, max_attempts: int) -> Handler:
        def handle(job: Job, ctx: JobContext) -> Apply:
            write = handler(job, ctx)

            def apply(session: Session) -> list[str]:
                wake = write(session)
                return [*wake, *self.advance(session, job, max_attempts=max_attempts)]

            return apply

        return handle

    # -- a call's way through the stages ---------------------------------------------------------------------
    def overall_progress(self, stage_name: str, fraction: float) -> float:
        """A call's progress in [0, 1] while stage ``stage_name`` is ``fraction`` done (stages weighted)."""
        stages = self.stages
        names = [s.name for s in stages]
        if stage_name not in names:
            return fraction
        total = sum(s.weight for s in stages)
        i = names.index(stage_name)
        done = sum(s.weight for s in stages[:i])
        return (done + stages[i].weight * min(1.0, max(0.0, fraction))) / total

    def submit_first(self, session: Session, call_id: int, *, max_attempts: int) -> list[str]:
        """Submit the first stage of a new call. Returns the queues to wake after commit."""
        stage = self.stages[0]
        _, created = submit(
            session,
            key=job_key(stage, call_id),
            queue=stage.queue,
            name=stage.name,
            call_id=call_id,
            max_attempts=max_attempts,
        )
        return [stage.queue] if created else []

    def advance(self, session: Session, job: Job, *, max_attempts: int) -> list[str]:
        """After the stage job ``job`` wrote its results: submit the call's next stage, or mark the call done.

        The next stage of a redo is a redo too (same tag in its key), so it runs again instead of finding the
        call's first run of it done. Returns the queues to wake after commit.
        """
        assert job.call_id is not None, f"stage job {job.id} has no call"
        call_id = job.call_id
        stages = self.stages
        i = [s.name for s in stages].index(job.name)
        if i + 1 < len(stages):
            nxt = stages[i + 1]
            calls_repo.update_fields(
                session,
                call_id,
                stage=nxt.name,
                status=CallStatus.processing,
                progress=round(self.overall_progress(nxt.name, 0.0), 4),
            )
            _, sep, tag = job.key.partition(_REDO)
            _, created = submit(
                session,
                key=f"{job_key(nxt, call_id)}{_REDO}{tag}" if sep else job_key(nxt, call_id),
                queue=nxt.queue,
                name=nxt.name,
                call_id=call_id,
                max_attempts=max_attempts,
            )
            return [nxt.queue] if created else []
        calls_repo.update_fields(session, call_id, stage=None, status=CallStatus.done, progress=1.0)
        return []

    def redo_after(self, session: Session, call_id: int, change: Change, *, max_attempts: int) -> list[str]:
        """Run again what ``change`` made stale in a processed call (e.g. its minutes after a speaker correction).

        The first stage whose results depend on ``change`` runs again, then the stages after it. A fresh job key
        per request: each correction gets its own run. A call still being processed gets nothing: the stages
        still ahead read the corrected data. Returns the queues to wake after commit.
        """
        stage = next((s for s in self.stages if change in s.redo_on), None)
        call = calls_repo.get(session, call_id)
        if stage is None or call is None or call.status != CallStatus.done:
            return []
        _, created = submit(
            session,
            key=f"{job_key(stage, call_id)}{_REDO}{uuid.uuid4().hex[:12]}",
            queue=stage.queue,
            name=stage.name,
            call_id=call_id,
            max_attempts=max_attempts,
        )
        return [stage.queue] if created else []


REGISTRY = Registry(
    stages=(
        transcribe_tasks.TRANSCRIBE,
        # Speakers, roles and metrics: CPU work on the analysis queue, so GPU hosts consume only transcription.
        transcribe_tasks.DIARIZE,
        # PII redaction of the utterances, then the minutes (needs the speakers' roles).
        nlp_tasks.STAGE,
        # The call's utterances join the topics in force (reads the vectors analyze stored).
        topics_tasks.STAGE,
    ),
    schedules=(
        *segments_tasks.SCHEDULES,
        *patterns_tasks.SCHEDULES,
        *retention_tasks.SCHEDULES,
        *nlp_tasks.SCHEDULES,
        *trackers_tasks.SCHEDULES,
        *topics_tasks.SCHEDULES,
    ),
)


def submit_first(session: Session, call_id: int, *, max_attempts: int) -> list[str]:
    """Submit the first stage of a new call. Returns the queues to wake after commit."""
    return REGISTRY.submit_first(session, call_id, max_attempts=max_attempts)


def redo_hook(max_attempts: int) -> StaleHook:
    """The hook a correcting service calls when it made a processed call's results stale (see ``redo_after``)."""

    def redo(session: Session, call_id: int, change: Change) -> list[str]:
        return REGISTRY.redo_after(session, call_id, change, max_attempts=max_attempts)

    return redo
