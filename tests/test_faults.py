"""Faults under load: 100 concurrent uploads through a real ``insight serve`` while the real ``insight worker`` is
SIGKILLed twice and the database connections are dropped once. Every upload ends processed, exactly once.

Embedded mode (SQLite + SqliteHuey) and distributed mode (PostgreSQL + Redis). The recordings are tiny distinct
WAVs (tones of different pitch and length): they still go through the real transcription (the model loads, VAD
finds no speech, the transcript is empty) and every later stage, so the run stays within about two minutes.

"Dropping the database" is ``pg_terminate_backend`` on every other connection for PostgreSQL; SQLite has no
connections to drop, so there an exclusive lock holds every writer off for a few seconds instead.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, func, select

from insight import pipeline
from insight.runtime import Runtime
from models import Call, Job, JobState, Speaker, Utterance
from tests.conftest import MODEL_DIR, make_settings, truncate_pg
from tests.fixtures import auth, bad_audio
from tests.fixtures.server import free_port

pytestmark = [pytest.mark.model, pytest.mark.slow]

UPLOADS = 100
REPS = 4


class Worker:
    """The ``insight worker`` process, restartable; every start appends to one log."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "insight.cli", "worker", "--queues", "transcribe,analyze", "--threads", "2"],
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        self.starts += 1

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def observe(runtime: Runtime, read):  # type: ignore[no-untyped-def]
    """Run a read for the test's own bookkeeping; the dropped-database fault cuts this process's connections too,
    so a read that loses its connection is simply made again."""
    for _ in range(50):
        try:
            with Session(runtime.engine) as s:
                return read(s)
        except OperationalError:
            time.sleep(0.2)
    raise AssertionError("the database stayed unreachable for the test's own reads")


def counts(runtime: Runtime) -> tuple[int, int]:
    """(calls done, jobs running)."""

    def read(s: Session) -> tuple[int, int]:
        done = s.exec(select(func.count()).select_from(Call).where(Call.status == "done")).one()
        running = s.exec(select(func.count()).select_from(Job).where(Job.state == JobState.running)).one()
        return int(done), int(running)

    return observe(runtime, read)  # type: ignore[no-any-return]


def created(runtime: Runtime) -> int:
    return observe(runtime, lambda s: int(s.exec(select(func.count()).select_from(Call)).one()))  # type: ignore[no-any-return]


def wait_until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def drop_database(mode: str, settings_url: str, sqlite_path: Path | None) -> int:
    """Cut every other connection (PostgreSQL) or hold the database for 3 s (SQLite). Returns connections cut."""
    if mode == "sqlite":
        assert sqlite_path is not None
        conn = sqlite3.connect(sqlite_path, timeout=30, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        time.sleep(3.0)
        conn.execute("ROLLBACK")
        conn.close()
        return 0
    engine = create_engine(settings_url.replace("+psycopg", "+psycopg"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    engine.dispose()
    return int(killed)


@pytest.mark.parametrize("mode", ["sqlite", "postgresql+redis"])
def test_uploads_survive_kills_and_a_dropped_database(
    mode: str, tmp_path: Path, model_dir: Path, request: pytest.FixtureRequest
) -> None:
    if mode == "sqlite":
        sqlite_path: Path | None = tmp_path / "insight.db"
        settings = make_settings(tmp_path, f"sqlite:///{sqlite_path}")
    else:
        sqlite_path = None
        pg = request.getfixturevalue("pg_url")
        settings = make_settings(tmp_path, pg, queue_url=request.getfixturevalue("redis_url"))
        request.addfinalizer(lambda: truncate_pg(pg))
    settings = settings.model_copy(update={"job_lease_s": 4.0, "job_heartbeat_s": 1.0, "reaper_interval_s": 1.0})
    runtime = Runtime.build(settings)
    reps = [auth.make_user(runtime, f"rep{i}@example.com", team="load", password=None) for i in range(REPS)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSIGHT_")}
    env.update(
        {
            "INSIGHT_DATA_DIR": str(settings.data_dir),
            "INSIGHT_DATABASE_URL": settings.resolved_database_url,
            "INSIGHT_MODEL_DIR": str(MODEL_DIR),
            "INSIGHT_QUEUE_NAMESPACE": settings.queue_namespace,
            "INSIGHT_JOB_LEASE_S": "4",
            "INSIGHT_JOB_HEARTBEAT_S": "1",
            "INSIGHT_REAPER_INTERVAL_S": "1",
            "INSIGHT_RETRY_BACKOFF_S": "0",
            "INSIGHT_LOG_LEVEL": "INFO",
            "INSIGHT_LOG_FORMAT": "text",
            "INSIGHT_SEGMENTS_INTERVAL_S": "0",
        }
    )
    if settings.queue_url:
        env["INSIGHT_QUEUE_URL"] = settings.queue_url
    port = free_port()
    server_log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--no-worker", "--port", str(port)],
        env=env,
        stdout=server_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    worker = Worker(env, tmp_path / "worker.log")
    url = f"http://127.0.0.1:{port}"
    files = [
        bad_audio.good_wav(tmp_path / f"u{i:03d}.wav", seconds=1.0 + (i % 10) / 10, channels=1, sample_rate=8000 + i)
        for i in range(UPLOADS)
    ]
    retried = Counter[str]()
    faults: list[str] = []
    try:
        wait_until(lambda: _ready(url), 60, "the server")
        worker.start()

        def upload(i: int) -> int:
            headers = reps[i % REPS].headers
            for _ in range(20):
                try:
                    with files[i].open("rb") as fh:
                        r = httpx.post(
                            f"{url}/api/calls", files={"file": (files[i].name, fh)}, headers=headers, timeout=60
                        )
                except httpx.TransportError:
                    retried["transport"] += 1
                    time.sleep(0.5)
                    continue
                if r.status_code == 503:  # the database was briefly away: the upload is idempotent, so retry
                    retried["503"] += 1
                    time.sleep(0.5)
                    continue
                assert r.status_code in (200, 201), r.text + server_log.read_text()[-4000:]
                if r.status_code == 200:
                    retried["duplicate_answer"] += 1
                return int(r.json()["id"])
            raise AssertionError(f"upload {i} never succeeded")

        def kill_twice() -> None:
            wait_until(lambda: counts(runtime)[1] > 0, 90, "a running job")
            worker.kill()
            faults.append(f"SIGKILL 1 at {counts(runtime)[0]} done")
            worker.start()
            wait_until(lambda: counts(runtime)[0] >= UPLOADS // 2 and counts(runtime)[1] > 0, 120, "half done")
            worker.kill()
            faults.append(f"SIGKILL 2 at {counts(runtime)[0]} done")
            worker.start()

        def drop_once() -> None:
            # While uploads are still arriving: in-flight requests and jobs lose their connections.
            wait_until(lambda: created(runtime) >= UPLOADS * 3 // 10, 60, "30 uploads")
            cut = drop_database(mode, settings.resolved_database_url, sqlite_path)
            faults.append(f"database dropped at {created(runtime)} uploaded ({cut} connections cut)")

        injector_errors: list[BaseException] = []

        def guarded(f):  # type: ignore[no-untyped-def]
            def run() -> None:
                try:
                    f()
                except BaseException as exc:  # reported below: a dead injector must fail the test, not hide
                    injector_errors.append(exc)

            return run

        injectors = [threading.Thread(target=guarded(f), daemon=True) for f in (kill_twice, drop_once)]
        started = time.monotonic()
        for t in injectors:
            t.start()
        with ThreadPoolExecutor(max_workers=UPLOADS) as pool:  # all 100 in flight at once
            ids = list(pool.map(upload, range(UPLOADS)))
        upload_s = time.monotonic() - started
        for t in injectors:
            t.join(240)
            assert not t.is_alive(), "the fault schedule did not finish"
        assert not injector_errors, injector_errors
        wait_until(lambda: counts(runtime)[0] == UPLOADS, 240, "every call processed")
        total_s = time.monotonic() - started
    finally:
        worker.stop()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()

    log = (tmp_path / "worker.log").read_text()
    assert len(set(ids)) == UPLOADS, "every upload is its own call"
    with Session(runtime.engine) as s:
        calls = s.exec(select(Call)).all()
        jobs = s.exec(select(Job).where(Job.call_id.is_not(None))).all()  # type: ignore[union-attr]
        utterances = s.exec(select(Utterance)).all()
        speakers = s.exec(select(Speaker)).all()
    assert len(calls) == UPLOADS
    assert len({c.audio_sha256 for c in calls}) == UPLOADS
    assert {c.status for c in calls} == {"done"}
    assert {c.id for c in calls} == set(ids)
    assert Counter(c.owner_id for c in calls) == {r.user_id: UPLOADS // REPS for r in reps}
    per_call = Counter((j.call_id, j.name) for j in jobs)
    assert len(jobs) == len(pipeline.REGISTRY.stages) * UPLOADS, Counter(j.name for j in jobs)
    assert set(per_call.values()) == {1}
    assert {j.state for j in jobs} == {JobState.done}
    assert len({(u.call_id, u.idx) for u in utterances}) == len(utterances)
    assert len({(sp.call_id, sp.label) for sp in speakers}) == len(speakers)
    attempts = Counter(j.attempt for j in jobs)
    assert worker.starts == 3
    assert "lease expired" in log, log[-3000:]
    assert sum(n for a, n in attempts.items() if a > 1) >= 1, "the killed attempts were redone"
    print(  # noqa: T201 - the figures reported for this run
        f"\n{mode}: {UPLOADS} uploads in {upload_s:.1f} s, all processed in {total_s:.1f} s; faults: {faults}; "
        f"client retries: {dict(retried)}; job attempts: {dict(sorted(attempts.items()))}; "
        f"calls {len(calls)}, jobs {len(jobs)}, utterances {len(utterances)}, speakers {len(speakers)}"
    )
    runtime.close()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
