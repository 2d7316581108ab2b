"""Utterance embeddings: both backends place a Japanese and an English sentence about the same thing closer than an
unrelated one (real sentences from ../shared/data/conversations); the analyze stage stores one vector per utterance
with its model; a model change re-embeds through the ``nlp.reembed`` job and readers never mix two models."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlmodel import Session, col, select

from insight.calls.service import UploadMeta, ingest
from insight.db import session_scope
from insight.errors import ModelNotAvailable
from insight.model_holder import ModelCache, Models
from insight.nlp.embeddings import (
    DEFAULT_EMBEDDING_MODEL,
    MINILM_MODEL,
    Embedder,
    build_embedder,
    embedding_model_name,
    minilm_path,
)
from insight.pipeline import REGISTRY
from insight.queue import submit
from insight.repositories import embeddings as embeddings_repo
from insight.runtime import Runtime
from insight.trackers import service as trackers_service
from insight.trackers.types import TrackerInput
from insight.worker import build_runner
from models import Job, JobState, TrackerCallState, TrackerHit, Utterance, UtteranceEmbedding
from tests.fixtures import bad_audio

WEATHER_JA = "今日の天気はどうでしたか？"  # ja/real_persona_chat
WEATHER_EN = "how's the weather?"  # en/persuasionforgood
DONATION_EN = "If I donate money, it doesn't cost me anything? "  # en/persuasionforgood
RAIN_EN = "Warm and rainy here."  # en/persuasionforgood

# What the fake transcriber "hears" in every window: real dialogue lines, each with a phone number that the
# redaction replaces before the text is embedded (the transcript clean-up may drop some lines of the test tone).
LINES = (
    "Thanks for your time. Call me at 090-1234-5678 tomorrow.",
    "If I donate money, it doesn't cost me anything? My number is 090-1234-5678.",
    "how's the weather? Ring 090-1234-5678 after six.",
)


@pytest.fixture(scope="module")
def use() -> Embedder:
    return build_embedder(DEFAULT_EMBEDDING_MODEL)


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return build_embedder(MINILM_MODEL)


def cos(e: Embedder, a: str, b: str) -> float:
    va, vb = e.encode([a, b])
    return float(va @ vb)


def test_use_puts_japanese_and_english_about_the_weather_together(use: Embedder) -> None:
    assert use.name == DEFAULT_EMBEDDING_MODEL
    same = cos(use, WEATHER_JA, WEATHER_EN)
    assert same > cos(use, WEATHER_JA, DONATION_EN) + 0.3  # measured 0.74 against 0.07
    vectors = use.encode([WEATHER_JA, ""])
    assert vectors.shape == (2, 512)
    assert vectors.dtype == np.float32
    assert abs(float(np.linalg.norm(vectors[0])) - 1.0) < 1e-4
    assert not vectors[1].any()  # empty text: a zero row


def test_minilm_from_its_wheel(minilm: Embedder) -> None:
    assert minilm.name == MINILM_MODEL
    vectors = minilm.encode([WEATHER_EN, RAIN_EN, DONATION_EN, " "])
    assert vectors.shape == (4, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-4)
    assert not vectors[3].any()
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.1
    # all-MiniLM-L6-v2 is an English model: Japanese and English about the same thing are only weakly related
    # (measured 0.11 against -0.04); the multilingual default is the one for Japanese calls.
    assert cos(minilm, WEATHER_JA, WEATHER_EN) > cos(minilm, WEATHER_JA, DONATION_EN)


def test_sentence_transformers_by_directory_and_unknown_names(minilm: Embedder, tmp_path: Path) -> None:
    name = f"sentence-transformers:{minilm_path()}"
    by_path = build_embedder(name)
    assert by_path.name == name
    assert np.allclose(by_path.encode([WEATHER_EN]), minilm.encode([WEATHER_EN]), atol=1e-5)
    assert embedding_model_name("use") == DEFAULT_EMBEDDING_MODEL
    with pytest.raises(ModelNotAvailable, match="unknown embedding model"):
        build_embedder("word2vec")
    # A Hub name that is not in the local cache is not fetched unless downloads are allowed.
    with pytest.raises(ModelNotAvailable, match="could not be loaded"):
        build_embedder("sentence-transformers:insight-test/no-such-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotAvailable, match="could not be loaded"):
        build_embedder(f"sentence-transformers:{tmp_path / 'empty'}")


def test_models_builds_the_configured_backend(tmp_path: Path) -> None:
    from insight.settings import Settings

    holder = Models(Settings(_env_file=None, data_dir=tmp_path, embedding_model=MINILM_MODEL), cache=ModelCache())
    assert holder.embedder().name == MINILM_MODEL
    assert holder.embedder() is holder.embedder()


class LinesTranscriber:
    """Hears the same three English lines in every window (no Whisper)."""

    def detect_language(self, audio: Any) -> tuple[str, float]:
        return "en", 1.0

    def transcribe(self, audio: Any, *, language: str, offset_s: float = 0.0, **kw: Any) -> list[Any]:
        from insight.transcribe.types import Segment, Word

        out = []
        at = offset_s
        for line in LINES:
            words = tuple(Word(at + 0.2 * i, at + 0.2 * i + 0.15, f" {w}", 0.9) for i, w in enumerate(line.split()))
            out.append(Segment(start=words[0].start, end=words[-1].end, text=line, words=words))
            at = words[-1].end + 0.3
        return out


class SilentEncoder:
    def embed_windows(self, audio: Any, regions: Sequence[Any], windows: Sequence[Any]) -> np.ndarray:
        return np.zeros((len(windows), 256), dtype=np.float32)


def analyse_calls(runtime: Runtime, tmp_path: Path, n: int) -> list[int]:
    runtime.models.set_transcriber(LinesTranscriber())
    runtime.models.set_voice_encoder(SilentEncoder())  # type: ignore[arg-type]
    ids = []
    for i in range(n):
        wav = bad_audio.good_wav(tmp_path / f"call{i}.wav", seconds=6.0 + i, channels=1)
        with wav.open("rb") as fh:
            call_id = ingest(runtime, fh, UploadMeta(filename=wav.name)).call.id
        assert call_id is not None
        ids.append(call_id)
    runner = build_runner(runtime)
    while runner.run_next("transcribe") or runner.run_next("analyze"):
        pass
    return ids


def stored(runtime: Runtime) -> list[UtteranceEmbedding]:
    with Session(runtime.engine) as s:
        return list(s.exec(select(UtteranceEmbedding).order_by(col(UtteranceEmbedding.utterance_id))).all())


def test_analyze_stores_one_vector_per_utterance_and_a_model_change_reembeds(
    runtime: Runtime, tmp_path: Path, use: Embedder, minilm: Embedder
) -> None:
    with session_scope(runtime.engine) as s:
        tracker = trackers_service.create_tracker(s, TrackerInput(name="test money", phrases=("cost", "お金")))
        tracker_id = tracker.id
    call_ids = analyse_calls(runtime, tmp_path, 2)
    with Session(runtime.engine) as s:
        utterances = list(s.exec(select(Utterance).order_by(col(Utterance.id))).all())
    assert {u.call_id for u in utterances} == set(call_ids)
    rows = stored(runtime)
    assert [r.utterance_id for r in rows] == [u.id for u in utterances]
    assert {(r.model, r.dim) for r in rows} == {(DEFAULT_EMBEDDING_MODEL, 512)}
    # The vectors encode the redacted text: the phone number is gone from what was embedded.
    for phone, row in zip(utterances, rows, strict=True):
        assert phone.text_redacted is not None
        assert "090-1234-5678" not in phone.text_redacted
        vector = embeddings_repo.from_bytes(row.vector, row.dim)
        assert np.allclose(vector, use.encode([phone.text_redacted])[0], atol=1e-5)
        assert not np.allclose(vector, use.encode([phone.text])[0], atol=1e-3)

    # The analyze stage counted the tracker in the same pass: one exact hit per utterance that says "cost".
    with Session(runtime.engine) as s:
        hits = s.exec(select(TrackerHit).where(col(TrackerHit.tracker_id) == tracker_id)).all()
        assert sorted(h.utterance_id for h in hits) == [u.id for u in utterances if "cost" in u.text]
        assert {(h.kind, h.phrase) for h in hits} <= {("exact", "cost")}
        assert {st.call_id for st in s.exec(select(TrackerCallState)).all()} == set(call_ids)

    # Read back per call and streamed in small batches, filtered by role and calls.
    with Session(runtime.engine) as s:
        one = embeddings_repo.for_call(s, call_ids[0], DEFAULT_EMBEDDING_MODEL)
        assert one.matrix.shape[1] == 512
        assert set(one.call_ids.tolist()) == {call_ids[0]}
        batches = list(embeddings_repo.iter_batches(s, DEFAULT_EMBEDDING_MODEL, batch_size=4))
        assert [len(b) for b in batches][:-1] == [4] * (len(batches) - 1)
        assert sum(len(b) for b in batches) == len(utterances)
        only = list(embeddings_repo.iter_batches(s, DEFAULT_EMBEDDING_MODEL, call_ids=[call_ids[1]]))
        assert set(np.concatenate([b.call_ids for b in only]).tolist()) == {call_ids[1]}
        roles = list(embeddings_repo.iter_batches(s, DEFAULT_EMBEDDING_MODEL, roles=["nobody"]))
        assert roles == []
        assert embeddings_repo.calls_to_embed(s, DEFAULT_EMBEDDING_MODEL) == []
        assert embeddings_repo.calls_to_embed(s, MINILM_MODEL) == call_ids

    # Re-running the stage replaces the call's vectors (no duplicates).
    from insight.nlp.service import reembed_call

    assert reembed_call(runtime.engine, call_ids[0], use) == len(one)
    assert len(stored(runtime)) == len(utterances)

    # The model changes: the nlp.reembed job re-embeds call by call; until a call is done, readers of the new model
    # do not see it, readers of the old one still do, and no read returns two models.
    runtime.models = Models(runtime.settings.model_copy(update={"embedding_model": MINILM_MODEL}))
    runtime.models.set_embedder(minilm)
    from insight.nlp import tasks as nlp_tasks

    monkey_limit = nlp_tasks.REEMBED_CALLS_PER_RUN
    nlp_tasks.REEMBED_CALLS_PER_RUN = 1
    try:
        runner = build_runner(runtime)
        with Session(runtime.engine) as s, s.begin():
            submit(s, key="nlp.reembed:test:1", queue="analyze", name="nlp.reembed", call_id=None, max_attempts=1)
        assert runner.run_next("analyze")
    finally:
        nlp_tasks.REEMBED_CALLS_PER_RUN = monkey_limit
    with Session(runtime.engine) as s:
        new = list(embeddings_repo.iter_batches(s, MINILM_MODEL))
        old = list(embeddings_repo.iter_batches(s, DEFAULT_EMBEDDING_MODEL))
        assert set(np.concatenate([b.call_ids for b in new]).tolist()) == {call_ids[0]}
        assert all(b.matrix.shape[1] == 384 for b in new)
        assert set(np.concatenate([b.call_ids for b in old]).tolist()) == {call_ids[1]}
        assert all(b.matrix.shape[1] == 512 for b in old)
    with Session(runtime.engine) as s, s.begin():
        submit(s, key="nlp.reembed:test:2", queue="analyze", name="nlp.reembed", call_id=None, max_attempts=1)
    assert runner.run_next("analyze")
    rows = stored(runtime)
    assert len(rows) == len(utterances)
    assert {(r.model, r.dim) for r in rows} == {(MINILM_MODEL, 384)}
    with Session(runtime.engine) as s:
        assert list(embeddings_repo.iter_batches(s, DEFAULT_EMBEDDING_MODEL)) == []
        assert embeddings_repo.counts_by_model(s) == {MINILM_MODEL: len(utterances)}
        jobs = s.exec(select(Job).where(col(Job.name) == "nlp.reembed")).all()
        assert [j.state for j in jobs] == [JobState.done, JobState.done]

    # The tracker hits were computed with the old model: trackers.recompute brings every call to the new one.
    with Session(runtime.engine) as s:
        current = trackers_service.fingerprint(trackers_service.active_trackers(s), MINILM_MODEL)
        assert {st.fingerprint for st in s.exec(select(TrackerCallState)).all()} != {current}
    with Session(runtime.engine) as s, s.begin():
        submit(
            s, key="trackers.recompute:test", queue="analyze", name="trackers.recompute", call_id=None, max_attempts=1
        )
    assert runner.run_next("analyze")
    with Session(runtime.engine) as s:
        assert {st.fingerprint for st in s.exec(select(TrackerCallState)).all()} == {current}
        hits = s.exec(select(TrackerHit).where(col(TrackerHit.tracker_id) == tracker_id)).all()
        assert sorted(h.utterance_id for h in hits) == [u.id for u in utterances if "cost" in u.text]


def test_the_schedules_are_registered() -> None:
    names = {s.name for s in REGISTRY.schedules}
    assert {"nlp.reembed", "trackers.recompute"} <= names


def test_embedding_throughput_is_measurable(use: Embedder) -> None:
    # Not a timed test: makes sure a batch of 64 real lines embeds in one call (the analyze stage's batch).
    texts = [WEATHER_EN, WEATHER_JA, DONATION_EN, RAIN_EN] * 16
    start = time.perf_counter()
    assert use.encode(texts).shape == (64, 512)
    assert time.perf_counter() - start < 120
