"""The one place that states the stage order for a call.

Each stage is a job on a queue. When a stage's job finishes, the runner writes its results and submits the next
stage in the same transaction; the last stage marks the call done.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session

from insight.queue import submit
from insight.repositories import calls as calls_repo
from models import CallStatus


@dataclass(frozen=True)
class Stage:
    name: str  # job name, "<domain>.<verb>"
    queue: str
    version: int = 1  # bump to re-run a stage for every call after a model or logic change
    weight: float = 1.0  # share of the call's overall progress


STAGES: tuple[Stage, ...] = (
    Stage(name="transcribe.call", queue="transcribe", weight=0.8),
    # Speakers, roles and metrics: CPU work on the analysis queue, so GPU hosts consume only transcription.
    Stage(name="diarize.call", queue="analyze", weight=0.12),
    # PII redaction of the utterances, then the minutes (needs the speakers' roles).
    Stage(name="analyze.call", queue="analyze", weight=0.08),
)


def overall_progress(stage_name: str, fraction: float) -> float:
    """A call's progress in [0, 1] while stage ``stage_name`` is ``fraction`` done (stages weighted)."""
    names = [s.name for s in STAGES]
    if stage_name not in names:
        return fraction
    total = sum(s.weight for s in STAGES)
    i = names.index(stage_name)
    done = sum(s.weight for s in STAGES[:i])
    return (done + STAGES[i].weight * min(1.0, max(0.0, fraction))) / total


def job_key(stage: Stage, call_id: int) -> str:
    return f"{stage.name}:call:{call_id}:v{stage.version}"


def redo(session: Session, call_id: int, stage_name: str, *, max_attempts: int) -> list[str]:
    """Run ``stage_name`` again for a processed call (e.g. minutes after a user corrected the speakers).

    A fresh job key per request: each correction gets its own run. Returns the queues to wake after commit.
    """
    stage = next(s for s in STAGES if s.name == stage_name)
    _, created = submit(
        session,
        key=f"{job_key(stage, call_id)}:redo:{uuid.uuid4().hex[:12]}",
        queue=stage.queue,
        name=stage.name,
        call_id=call_id,
        max_attempts=max_attempts,
    )
    return [stage.queue] if created else []


def submit_first(session: Session, call_id: int, *, max_attempts: int) -> list[str]:
    """Submit the first stage of a new call. Returns the queues to wake after commit."""
    stage = STAGES[0]
    _, created = submit(
        session,
        key=job_key(stage, call_id),
        queue=stage.queue,
        name=stage.name,
        call_id=call_id,
        max_attempts=max_attempts,
    )
    return [stage.queue] if created else []


def advance(session: Session, call_id: int, finished: str, *, max_attempts: int) -> list[str]:
    """After stage ``finished``: submit the next stage, or mark the call done. Returns queues to wake."""
    names = [s.name for s in STAGES]
    i = names.index(finished)
    if i + 1 < len(STAGES):
        nxt = STAGES[i + 1]
        calls_repo.update_fields(
            session,
            call_id,
            stage=nxt.name,
            status=CallStatus.processing,
            progress=round(overall_progress(nxt.name, 0.0), 4),
        )
        _, created = submit(
            session,
            key=job_key(nxt, call_id),
            queue=nxt.queue,
            name=nxt.name,
            call_id=call_id,
            max_attempts=max_attempts,
        )
        return [nxt.queue] if created else []
    calls_repo.update_fields(session, call_id, stage=None, status=CallStatus.done, progress=1.0)
    return []
