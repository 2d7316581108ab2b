"""`insight minutes FILE_OR_CALL_ID`: a local file through the whole pipeline in memory, a call from the database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from insight.cli import app
from insight.db import make_engine, migrate, session_scope
from insight.nlp.minutes.schemas import MinutesDoc, MinutesItem, NextAction, Owner, Participant
from insight.repositories import minutes as minutes_repo
from models import Call, Minutes
from tests.conftest import AUDIO_EN, MODEL_DIR, shared


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "INSIGHT_DATA_DIR": str(tmp_path / "data"),
        "INSIGHT_MODEL_DIR": str(MODEL_DIR),
        "INSIGHT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "INSIGHT_LOG_FORMAT": "text",
    }


@pytest.mark.model
def test_minutes_of_a_file(env: dict[str, str], model_dir: Path) -> None:
    jfk = shared(AUDIO_EN / "jfk.flac")
    result = CliRunner().invoke(app, ["minutes", str(jfk), "--json", "--call-date", "2026-11-25"], env=env)
    assert result.exit_code == 0, result.output
    doc = MinutesDoc.model_validate(json.loads(result.stdout))
    assert (doc.language, doc.status, doc.reference_date) == ("en", "ok", date(2026, 11, 25))
    assert any("ask not what your country" in s.text.lower() for s in doc.summary)
    shown = CliRunner().invoke(app, ["minutes", str(jfk)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "Summary" in shown.stdout
    assert "0:0" in shown.stdout  # each item with the time of its evidence


def test_minutes_of_a_call_from_the_local_database(env: dict[str, str]) -> None:
    engine = make_engine(env["INSIGHT_DATABASE_URL"])
    migrate(engine)
    doc = MinutesDoc(
        language="en",
        reference_date=date(2026, 11, 25),
        participants=[Participant(speaker="S2", role="customer", name="Priya Shah")],
        next_actions=[
            NextAction(
                text="Priya Shah will send the signed form.",
                utterance_ids=[7],
                start=65.0,
                role="customer",
                confidence=0.9,
                owner=Owner(role="customer", name="Priya Shah", speaker="S2"),
                due=date(2026, 11, 27),
                due_text="Friday",
            )
        ],
        summary=[MinutesItem(text="The customer will sign.", utterance_ids=[7], start=65.0, confidence=0.8)],
    )
    content = doc.model_dump(mode="json")
    redacted = json.loads(json.dumps(content).replace("Priya Shah", "[NAME]"))
    with session_scope(engine) as session:
        call = Call(
            audio_sha256="a" * 64, audio_bytes=1, filename="call.wav", media_format="wav", codec="pcm_s16le",
            duration_s=90.0, sample_rate=16000, channels=1,
        )  # fmt: skip
        session.add(call)
        session.flush()
        assert call.id is not None
        minutes_repo.save(
            session,
            Minutes(
                call_id=call.id,
                language="en",
                backend="offline",
                content=content,
                content_redacted=redacted,
                generated_at=datetime.now(UTC),
            ),
        )
    engine.dispose()
    runner = CliRunner()
    shown = runner.invoke(app, ["minutes", "1", "--local"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "Next actions" in shown.stdout
    assert "2026-11-27" in shown.stdout
    assert "Priya" not in shown.stdout  # redacted unless the original is asked for
    original = runner.invoke(app, ["minutes", "1", "--local", "--view", "original", "--markdown"], env=env)
    assert original.exit_code == 0, original.output
    assert "**owner: customer (Priya Shah) · due: 2026-11-27 (Friday)** — Priya Shah will send the signed form." in (
        original.stdout
    )
    missing = runner.invoke(app, ["minutes", "2", "--local"], env=env)
    assert missing.exit_code == 1
    assert "no minutes" in missing.output
    assert runner.invoke(app, ["minutes", "not-a-call"], env=env).exit_code == 2
    assert runner.invoke(app, ["minutes", "1", "--local", "--view", "raw"], env=env).exit_code == 2
