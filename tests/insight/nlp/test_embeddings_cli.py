"""`insight embeddings status|rebuild`: vectors per model, and re-embedding the analysed calls that lack the
configured model's vectors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from insight.cli import app
from insight.db import make_engine, migrate, session_scope
from models import Call, Minutes, Utterance

LINES = ["今日の天気はどうでしたか？", "how's the weather?", "Warm and rainy here."]  # ../shared/data/conversations


def test_status_and_rebuild(tmp_path: Path) -> None:
    env = {
        "INSIGHT_DATA_DIR": str(tmp_path / "data"),
        "INSIGHT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "INSIGHT_LOG_FORMAT": "text",
    }
    engine = make_engine(env["INSIGHT_DATABASE_URL"])
    migrate(engine)
    with session_scope(engine) as session:
        for n in range(2):
            call = Call(
                audio_sha256=str(n) * 64, audio_bytes=1, filename="call.wav", media_format="wav",
                codec="pcm_s16le", duration_s=9.0, sample_rate=16000, channels=1,
            )  # fmt: skip
            session.add(call)
            session.flush()
            assert call.id is not None
            session.add_all(
                Utterance(call_id=call.id, idx=i, start=i, end=i + 1, speaker="S1", text=t, text_redacted=t)
                for i, t in enumerate(LINES)
            )
            session.add(
                Minutes(call_id=call.id, language="ja", backend="offline", content={}, generated_at=datetime.now(UTC))
            )
    engine.dispose()
    runner = CliRunner()

    status = runner.invoke(app, ["embeddings", "status", "--json"], env=env)
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout) == {"model": "use-multilingual-v3", "vectors": {}, "calls_to_embed": 2}

    one = runner.invoke(app, ["embeddings", "rebuild", "--limit", "1"], env=env)
    assert one.exit_code == 0, one.output
    assert "re-embedded 1 calls with use-multilingual-v3" in one.stdout
    rest = runner.invoke(app, ["embeddings", "rebuild"], env=env)
    assert "re-embedded 1 calls" in rest.stdout
    status = runner.invoke(app, ["embeddings", "status", "--json"], env=env)
    assert json.loads(status.stdout) == {
        "model": "use-multilingual-v3",
        "vectors": {"use-multilingual-v3": 6},
        "calls_to_embed": 0,
    }

    # Another model configured: every call is to be embedded again, and the old vectors are still counted.
    minilm = {**env, "INSIGHT_EMBEDDING_MODEL": "all-MiniLM-L6-v2"}
    status = runner.invoke(app, ["embeddings", "status", "--json"], env=minilm)
    assert json.loads(status.stdout)["calls_to_embed"] == 2
    assert runner.invoke(app, ["embeddings", "rebuild"], env=minilm).exit_code == 0
    status = runner.invoke(app, ["embeddings", "status", "--json"], env=minilm)
    assert json.loads(status.stdout) == {
        "model": "all-MiniLM-L6-v2",
        "vectors": {"all-MiniLM-L6-v2": 6},
        "calls_to_embed": 0,
    }

    bad = runner.invoke(app, ["embeddings", "status"], env={**env, "INSIGHT_EMBEDDING_MODEL": "word2vec"})
    assert bad.exit_code == 1
    assert "unknown embedding model" in bad.output
