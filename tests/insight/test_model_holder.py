"""The model holder: each model loads once per process under concurrent first use, one lock per model, overrides
reach the jobs of their runtime only."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import spacy
from sqlmodel import Session

from insight import model_holder
from insight.calls.service import UploadMeta, ingest
from insight.errors import ModelNotAvailable
from insight.model_holder import ModelCache, Models
from insight.runtime import Runtime
from insight.settings import Settings
from insight.worker import build_runner
from models import Minutes
from tests.fixtures import bad_audio

THREADS = 8


class Loads:
    """Stand-in loaders that count their calls; each load takes a while, so concurrent first uses overlap it."""

    def __init__(self, delay_s: float = 0.05) -> None:
        self.delay_s = delay_s
        self.counts: Counter[str] = Counter()
        self.gates: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def _load(self, key: str) -> object:
        with self._lock:
            self.counts[key] += 1
        gate = self.gates.get(key)
        if gate is not None:
            assert gate.wait(5.0), f"{key} was never released"
        time.sleep(self.delay_s)
        return object()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(model_holder, "load_transcriber", lambda settings: self._load("transcriber"))
        monkeypatch.setattr(model_holder, "load_voice_encoder", lambda: self._load("voice_encoder"))
        monkeypatch.setattr(model_holder, "load_nlp", lambda lang: self._load(f"nlp:{lang}"))
        monkeypatch.setattr(model_holder, "load_embedder", lambda model: self._load(f"embedder:{model}"))


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Loads:
    counted = Loads()
    counted.install(monkeypatch)
    return counted


@pytest.fixture
def holder(tmp_path: Path) -> Models:
    """A holder with a cache of its own, so models loaded by other tests of the session do not count."""
    return Models(Settings(data_dir=tmp_path), cache=ModelCache())


def all_at_once(get: Callable[[], object]) -> list[object]:
    """``get`` called from THREADS threads released together; what each got."""
    start = threading.Barrier(THREADS)
    got: list[object] = []
    lock = threading.Lock()

    def run() -> None:
        start.wait()
        value = get()
        with lock:
            got.append(value)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10.0)
    assert len(got) == THREADS
    return got


@pytest.mark.parametrize(
    ("key", "get"),
    [
        ("transcriber", lambda m: m.transcriber()),
        ("voice_encoder", lambda m: m.voice_encoder()),
        ("nlp:ja", lambda m: m.nlp("ja")),
        ("nlp:en", lambda m: m.nlp("en")),
        ("embedder:use-multilingual-v3", lambda m: m.embedder()),
    ],
)
def test_each_model_loads_once_under_concurrent_first_use(
    holder: Models, loads: Loads, key: str, get: Callable[[Models], object]
) -> None:
    got = all_at_once(lambda: get(holder))
    assert loads.counts == {key: 1}
    assert all(value is got[0] for value in got)
    assert get(holder) is got[0]
    # Another holder over the same cache (another runtime of the process) gets the same model.
    assert get(Models(holder.settings, cache=holder.cache)) is got[0]
    assert loads.counts == {key: 1}


def test_languages_are_distinct_and_cached(holder: Models, loads: Loads) -> None:
    ja, en = holder.nlp("ja"), holder.nlp("en")
    assert ja is not en
    assert holder.nlp("ja") is ja
    assert holder.nlp("en") is en
    assert loads.counts == {"nlp:ja": 1, "nlp:en": 1}


def test_loading_one_model_does_not_wait_for_another(holder: Models, loads: Loads) -> None:
    loads.gates["transcriber"] = gate = threading.Event()
    whisper = threading.Thread(target=holder.transcriber)
    whisper.start()
    try:
        while loads.counts["transcriber"] == 0:
            time.sleep(0.01)
        # Whisper is still loading (held at its gate): spaCy and the sentence encoder load meanwhile.
        holder.nlp("ja")
        holder.embedder()
        assert whisper.is_alive()
    finally:
        gate.set()
        whisper.join(5.0)
    assert loads.counts == {"transcriber": 1, "nlp:ja": 1, "embedder:use-multilingual-v3": 1}


def test_a_failed_load_is_retried(holder: Models, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[str] = []

    def flaky(model: str) -> object:
        attempts.append(model)
        if len(attempts) == 1:
            raise ModelNotAvailable("not yet")
        return object()

    monkeypatch.setattr(model_holder, "load_embedder", flaky)
    with pytest.raises(ModelNotAvailable):
        holder.embedder()
    first = holder.embedder()
    assert holder.embedder() is first
    assert len(attempts) == 2


def test_warm_loads_what_the_stages_need(holder: Models, loads: Loads) -> None:
    holder.warm(analysis=True)
    assert loads.counts == {"voice_encoder": 1, "nlp:ja": 1, "nlp:en": 1, "embedder:use-multilingual-v3": 1}
    holder.warm(transcriber=True, analysis=True)
    assert loads.counts["transcriber"] == 1
    assert sum(loads.counts.values()) == 5


def test_overrides_belong_to_their_holder(holder: Models, loads: Loads) -> None:
    fake = object()
    holder.set_transcriber(fake)  # type: ignore[arg-type]
    assert holder.transcriber() is fake
    other = Models(holder.settings, cache=holder.cache)
    assert other.transcriber() is not fake
    assert loads.counts == {"transcriber": 1}


# ---- through the jobs: what a runtime's models are set to is what its jobs use ----


class EnglishTranscriber:
    """One English sentence in every window."""

    def __init__(self) -> None:
        self.calls = 0

    def detect_language(self, audio: Any) -> tuple[str, float]:
        return "en", 0.99

    def transcribe(self, audio: Any, *, language: str, offset_s: float = 0.0, **kw: Any) -> list[Any]:
        from insight.transcribe.types import Segment, Word

        self.calls += 1
        words = (" Thanks", " for", " your", " time,", " we", " will", " send", " the", " proposal", " on", " Friday.")
        timed = tuple(Word(offset_s + 0.3 * i, offset_s + 0.3 * i + 0.25, w, 0.9) for i, w in enumerate(words))
        return [Segment(start=timed[0].start, end=timed[-1].end, text="".join(words).strip(), words=timed)]


class SilentEncoder:
    """A voice encoder that hears no particular voice."""

    def __init__(self) -> None:
        self.calls = 0

    def embed_windows(self, audio: Any, regions: Sequence[Any], windows: Sequence[Any]) -> np.ndarray:
        self.calls += 1
        return np.zeros((len(windows), 256), dtype=np.float32)


class ConstantEmbedder:
    name = "constant"

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return np.ones((len(texts), 4), dtype=np.float32) / 2.0


def test_jobs_get_the_overrides(runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> object:
        raise AssertionError("a job loaded a model instead of using the override")

    for name in ("load_transcriber", "load_voice_encoder", "load_nlp", "load_embedder"):
        monkeypatch.setattr(model_holder, name, refuse)
    runtime.models = Models(runtime.settings, cache=ModelCache())
    transcriber, encoder, embedder = EnglishTranscriber(), SilentEncoder(), ConstantEmbedder()
    nlp = spacy.blank("en")
    parsed: list[int] = []
    pipe = nlp.pipe

    def counting_pipe(texts: Any, **kw: Any) -> Any:
        parsed.append(1)
        return pipe(texts, **kw)

    monkeypatch.setattr(nlp, "pipe", counting_pipe)
    runtime.models.set_transcriber(transcriber)
    runtime.models.set_voice_encoder(encoder)  # type: ignore[arg-type]
    runtime.models.set_nlp("en", nlp)
    runtime.models.set_embedder(embedder)

    wav = bad_audio.good_wav(tmp_path / "call.wav", seconds=4.0, channels=1)
    with wav.open("rb") as fh:
        result = ingest(runtime, fh, UploadMeta(filename=wav.name))
    runner = build_runner(runtime)
    while runner.run_next("transcribe") or runner.run_next("analyze"):
        pass
    call_id = result.call.id
    with Session(runtime.engine) as session:
        minutes = session.get(Minutes, call_id)
        assert minutes is not None
        assert minutes.language == "en"
    assert transcriber.calls >= 1
    assert encoder.calls >= 1
    assert parsed
