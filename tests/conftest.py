"""Shared fixtures: real databases (SQLite file and PostgreSQL), the real Whisper model, shared test data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from insight.runtime import Runtime
from insight.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
AUDIO_EN = SHARED_DATA / "audio" / "en"
AUDIO_JA = SHARED_DATA / "audio" / "ja"
MODEL_DIR = Path(os.environ.get("INSIGHT_TEST_MODEL_DIR", ROOT / ".insight" / "models"))
PG_ADMIN_URL = os.environ.get("INSIGHT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("INSIGHT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("INSIGHT_TEST_REQUIRE_SERVICES") == "1"
TABLES = (
    "utterance_topic",
    "topic",
    "topic_fit_run",
    "audit_event",
    "login_failure",
    "auth_state",
    "web_session",
    "api_token",
    "win_pattern",
    "pattern_run",
    "customer_segment",
    "segment_run",
    "customer_transaction",
    "tracker_hit",
    "tracker",
    "tracker_call_state",
    "utterance_embedding",
    "minutes",
    "voice_profile",
    "call_metrics",
    "speaker",
    "utterance",
    "job",
    "call",
    "deal",
    "customer_external_id",
    "customer",
    "app_user",
    "team",
)


def shared(path: Path) -> Path:
    """A file from ../shared/data; the test is skipped (or fails in CI) when it is absent."""
    if not path.exists():
        if REQUIRE_SERVICES:
            pytest.fail(f"test data missing: {path}")
        pytest.skip(f"test data not present: {path}")
    return path


def _service_unavailable(what: str, exc: Exception) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required but unreachable: {exc}")
    pytest.skip(f"{what} unreachable: {exc}")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    name = f"insight_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        _service_unavailable("PostgreSQL", exc)
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as exc:  # noqa: BLE001
        _service_unavailable("Redis", exc)
    return REDIS_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs twice: on a SQLite file and on PostgreSQL (tables emptied afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'insight.db'}"
        return
    url: str = request.getfixturevalue("pg_url")
    yield url
    truncate_pg(url)


def truncate_pg(url: str) -> None:
    """Empty every table of the session's PostgreSQL database (ids restart)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        existing = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname='public'")).scalars())
        present = [t for t in TABLES if t in existing]
        missing = existing - set(TABLES) - {"alembic_version", "segment_definition"}
        assert not missing, f"add these tables to TABLES in tests/conftest.py: {sorted(missing)}"
        if present:
            conn.execute(text(f"TRUNCATE {', '.join(present)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The bundled Whisper model, provisioned once into a cache shared by test runs."""
    from insight.transcribe.provision import provision_bundled_whisper

    provision_bundled_whisper(MODEL_DIR)
    return MODEL_DIR


@pytest.fixture(scope="session")
def transcriber(model_dir: Path):  # type: ignore[no-untyped-def]
    """The real Whisper base model (int8, CPU), loaded once per test session."""
    from insight.transcribe.engine import WhisperTranscriber
    from insight.transcribe.provision import provision_bundled_whisper

    return WhisperTranscriber(provision_bundled_whisper(model_dir), compute_type="int8")


def make_settings(tmp_path: Path, db_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "database_url": db_url,
        "model_dir": MODEL_DIR,
        "queue_namespace": f"t{uuid.uuid4().hex[:8]}",
        "job_lease_s": 5.0,
        "job_heartbeat_s": 0.5,
        "reaper_interval_s": 0.5,
        "retry_backoff_s": 0.0,
        "embedded_worker": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path, db_url)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime.build(settings)
    yield rt
    rt.close()
