"""The stage registry: a stage registered there alone runs after the existing ones, through the real embedded
worker (SQLite and PostgreSQL), and the call is done only after it; corrections run the stale stages again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from insight.calls.service import CallChanges, UploadMeta, ingest, update_call
from insight.db import session_scope
from insight.pipeline import REGISTRY, Stage, redo_hook
from insight.queue import Apply, Handler, JobContext
from insight.repositories import calls as calls_repo
from insight.runtime import Runtime
from insight.stages import Change
from insight.worker import EmbeddedWorker
from models import Call, CallStatus, Job, JobState
from tests.fixtures import bad_audio

EXTRA = "test.extra"
EXISTING = ("transcribe.call", "diarize.call", "analyze.call", "topics.assign")


class SilentTranscriber:
    """Hears nothing: the call goes through every stage without the Whisper model."""

    def detect_language(self, audio: Any) -> tuple[str, float]:
        return "en", 1.0

    def transcribe(self, audio: Any, **kw: Any) -> list[Any]:
        return []


@dataclass(frozen=True)
class Seen:
    """What the extra stage saw of its call, in the transaction that writes its result."""

    key: str
    status: str
    stage: str | None
    progress: float


@pytest.fixture
def extra_stage() -> Iterator[list[Seen]]:
    """A throw-away stage after the last one, registered through the registry alone and removed afterwards."""
    seen: list[Seen] = []

    def make_handler(runtime: Runtime) -> Handler:
        def handle(job: Job, ctx: JobContext) -> Apply:
            ctx.check()

            def apply(session: Session) -> list[str]:
                assert job.call_id is not None
                call = calls_repo.get(session, job.call_id)
                assert call is not None
                seen.append(Seen(job.key, call.status, call.stage, call.progress))
                return []

            return apply

        return handle

    remove = REGISTRY.add_stage(Stage(name=EXTRA, queue="analyze", make_handler=make_handler, weight=0.1))
    yield seen
    remove()
    assert [s.name for s in REGISTRY.stages] == list(EXISTING)


def wait_for_jobs(runtime: Runtime, call_id: int, n: int, timeout: float = 120.0) -> Call:
    """Wait until the call has ``n`` jobs, all done, and the call is done; fail early when something failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(runtime.engine) as s:
            call = s.get(Call, call_id)
            jobs = s.exec(select(Job).where(Job.call_id == call_id)).all()
        assert call is not None
        assert call.status != CallStatus.failed, call.error
        assert not [j for j in jobs if j.state == JobState.failed], [(j.name, j.error) for j in jobs]
        if len(jobs) == n and all(j.state == JobState.done for j in jobs) and call.status == CallStatus.done:
            return call
        time.sleep(0.1)
    raise AssertionError(f"call {call_id} did not finish {n} jobs in {timeout} s")


def job_names(runtime: Runtime, call_id: int) -> list[str]:
    with Session(runtime.engine) as s:
        return [j.name for j in s.exec(select(Job).where(Job.call_id == call_id).order_by(col(Job.id))).all()]


def test_a_registered_stage_runs_last_and_the_call_is_done_after_it(
    runtime: Runtime, tmp_path: Path, extra_stage: list[Seen]
) -> None:
    runtime.models.set_transcriber(SilentTranscriber())
    wav = bad_audio.good_wav(tmp_path / "tones.wav", seconds=1.0, channels=1)
    worker = EmbeddedWorker(runtime)
    worker.start()
    try:
        with wav.open("rb") as fh:
            call_id = ingest(runtime, fh, UploadMeta(filename=wav.name)).call.id
        assert call_id is not None
        call = wait_for_jobs(runtime, call_id, n=len(EXISTING) + 1)
        assert job_names(runtime, call_id) == [*EXISTING, EXTRA]
        # While the extra stage wrote its result the call was still processing, at the extra stage, short of 100%.
        (first,) = extra_stage
        assert first == Seen(f"{EXTRA}:call:{call_id}:v1", CallStatus.processing, EXTRA, first.progress)
        assert 0.85 < first.progress < 1.0  # the earlier stages' weights (1.0) over all weights (1.1)
        assert (call.stage, call.progress) == (None, 1.0)

        # A correction of the processed call: the stage that depends on it (the minutes) runs again with a fresh
        # key, and so does every stage after it; then the call is done again.
        redo = redo_hook(runtime.settings.job_max_attempts)
        recorded_at = datetime(2026, 11, 25, 10, tzinfo=UTC)
        wake = update_call(runtime.engine, call_id, CallChanges(recorded_at=recorded_at), on_stale=redo)
        assert wake == ["analyze"]
        assert update_call(runtime.engine, call_id, CallChanges(recorded_at=recorded_at), on_stale=redo) == []
        for queue in wake:
            runtime.queues.wake(queue)
        wait_for_jobs(runtime, call_id, n=2 * len(EXISTING))
    finally:
        worker.stop()
    assert job_names(runtime, call_id) == [*EXISTING, EXTRA, *EXISTING[2:], EXTRA]
    with Session(runtime.engine) as s:
        redone = s.exec(select(Job).where(Job.call_id == call_id, Job.name == "analyze.call")).all()
    tag = max(redone, key=lambda j: j.id or 0).key.partition(":redo:")[2]
    assert tag
    assert extra_stage[1].key == f"{EXTRA}:call:{call_id}:v1:redo:{tag}"


def test_a_correction_of_a_call_in_progress_submits_nothing(runtime: Runtime, tmp_path: Path) -> None:
    wav = bad_audio.good_wav(tmp_path / "tones.wav", seconds=1.0, channels=1)
    with wav.open("rb") as fh:
        call_id = ingest(runtime, fh, UploadMeta(filename=wav.name)).call.id
    assert call_id is not None
    # The minutes stage still ahead reads the corrected data.
    changes = CallChanges(recorded_at=datetime(2026, 11, 25, 10, tzinfo=UTC))
    assert update_call(runtime.engine, call_id, changes, on_stale=redo_hook(3)) == []
    with session_scope(runtime.engine) as s:
        assert REGISTRY.redo_after(s, call_id, Change.speakers, max_attempts=3) == []
    assert job_names(runtime, call_id) == ["transcribe.call"]


def test_registering_a_name_twice_is_refused() -> None:
    existing = REGISTRY.stage("analyze.call")
    with pytest.raises(ValueError, match="already registered"):
        REGISTRY.add_stage(existing)
    with pytest.raises(ValueError, match="already registered"):
        REGISTRY.add_stage(Stage(name="retention.purge", queue="analyze", make_handler=existing.make_handler))
    with pytest.raises(ValueError, match="no stage"):
        REGISTRY.add_stage(Stage(name=EXTRA, queue="analyze", make_handler=existing.make_handler), after="nope")
    assert [s.name for s in REGISTRY.stages] == list(EXISTING)
