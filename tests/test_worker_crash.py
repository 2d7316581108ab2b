"""A worker SIGKILLed mid-transcription: after a restart the job completes once, nothing lost or duplicated.

Runs the real ``insight worker`` process with the real model, in the embedded mode (SQLite + SqliteHuey) and in
the distributed mode (PostgreSQL + Redis).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from insight import pipeline
from insight.calls.service import UploadMeta, ingest
from insight.runtime import Runtime
from models import Call, Job, JobState, Utterance
from tests.conftest import AUDIO_EN, MODEL_DIR, make_settings, shared, truncate_pg

pytestmark = [pytest.mark.model, pytest.mark.slow]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "insight.cli", "worker", "--queues", "transcribe,analyze"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen[bytes] | None = None):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"worker exited with {proc.returncode} while waiting for {what}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("mode", ["sqlite", "postgresql+redis"])
def test_sigkill_mid_transcription_recovers_without_duplicates(
    mode: str, tmp_path: Path, model_dir: Path, request: pytest.FixtureRequest
) -> None:
    audio = shared(AUDIO_EN / "test_call_audio.wav")
    if mode == "sqlite":
        settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'insight.db'}")
    else:
        pg = request.getfixturevalue("pg_url")
        settings = make_settings(tmp_path, pg, queue_url=request.getfixturevalue("redis_url"))
        request.addfinalizer(lambda: truncate_pg(pg))
    settings = settings.model_copy(update={"job_lease_s": 4.0, "job_heartbeat_s": 1.0, "reaper_interval_s": 1.0})
    runtime = Runtime.build(settings)
    env = {
        **os.environ,
        "INSIGHT_DATA_DIR": str(settings.data_dir),
        "INSIGHT_DATABASE_URL": settings.resolved_database_url,
        "INSIGHT_MODEL_DIR": str(MODEL_DIR),
        "INSIGHT_QUEUE_NAMESPACE": settings.queue_namespace,
        "INSIGHT_JOB_LEASE_S": "4",
        "INSIGHT_JOB_HEARTBEAT_S": "1",
        "INSIGHT_REAPER_INTERVAL_S": "1",
        "INSIGHT_RETRY_BACKOFF_S": "0",
        "INSIGHT_LOG_LEVEL": "INFO",
    }
    if settings.queue_url:
        env["INSIGHT_QUEUE_URL"] = settings.queue_url
    else:
        env.pop("INSIGHT_QUEUE_URL", None)

    with audio.open("rb") as fh:
        call_id = ingest(runtime, fh, UploadMeta(filename=audio.name)).call.id
    with audio.open("rb") as fh:  # a double submit changes nothing
        assert ingest(runtime, fh, UploadMeta(filename="again.wav")).call.id == call_id

    def job() -> Job:
        with Session(runtime.engine) as s:
            return s.exec(select(Job).where(Job.name == "transcribe.call")).one()

    def call_done() -> bool:
        with Session(runtime.engine) as s:
            return s.exec(select(Call)).one().status == "done"

    log = tmp_path / "worker.log"
    first = start_worker(env, log)
    try:
        wait_for(lambda: job().state == JobState.running, 60, "the first worker to claim the job", first)
        time.sleep(3.0)  # well into decoding (the call takes ~10 s to transcribe)
        assert job().state == JobState.running
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    killed = job()
    assert killed.state == JobState.running
    assert killed.attempt == 1
    with Session(runtime.engine) as s:
        assert s.exec(select(Utterance)).all() == []

    second = start_worker(env, log)
    try:
        wait_for(call_done, 180, "the restarted worker to finish every stage", second)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(30)
        except subprocess.TimeoutExpired:
            second.kill()

    with Session(runtime.engine) as s:
        calls = s.exec(select(Call)).all()
        jobs = s.exec(select(Job).where(Job.call_id == call_id)).all()
        utterances = s.exec(select(Utterance).order_by(Utterance.idx)).all()  # type: ignore[arg-type]
    assert len(calls) == 1, log.read_text()[-3000:]
    stages = sorted(stage.name for stage in pipeline.REGISTRY.stages)
    assert sorted(j.name for j in jobs) == stages, log.read_text()[-3000:]
    assert calls[0].status == "done"
    assert calls[0].progress == 1.0
    attempts = {j.name: j.attempt for j in jobs}
    assert attempts["transcribe.call"] == 2, "the job ran exactly twice: the killed attempt and the recovery"
    assert all(attempts[name] == 1 for name in stages if name != "transcribe.call"), attempts
    assert [u.idx for u in utterances] == list(range(len(utterances)))
    assert len({(u.start, u.channel) for u in utterances}) == len(utterances)
    text = " ".join(u.text for u in utterances).lower()
    assert "azure" in text
    assert "dimitri" in text
    assert "lease expired" in log.read_text()
    runtime.close()
