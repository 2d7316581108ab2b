"""The heavy models of a process (Whisper, the voice encoder, spaCy pipelines, the sentence encoder), in one place.

:class:`Models` is what jobs, the API and the local CLI paths ask for a model. Each model is built from the settings
on first use and loaded once per process: loads go through one process-wide :class:`ModelCache`, so two runtimes
with the same settings (the API server and its embedded worker, or many test runtimes) share one copy. Every model has
its own lock, so loading spaCy does not wait for Whisper, and two threads asking for the same cold model load it once.
Overrides (``set_transcriber`` and friends) belong to one holder: a test's fake transcriber is what that runtime's jobs
get, and no other runtime sees it.

Nothing heavy is imported here until a model is loaded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from insight.nlp.types import LANGS, Lang
from insight.settings import Settings, get_settings

if TYPE_CHECKING:
    from spacy.language import Language

    from insight.nlp.embeddings import Embedder
    from insight.transcribe.diarize import VoiceEncoder
    from insight.transcribe.engine import Transcriber

log = logging.getLogger(__name__)

T = TypeVar("T")

# BLAS threads of the sentence encoder's forward pass (it runs beside ASR and spaCy on the same cores).
EMBEDDER_THREADS = 2


class ModelCache:
    """Loaded models by key, each key with its own lock; a failed load is not cached (the next use retries)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._loaded: dict[Hashable, Any] = {}

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The model under ``key``, loaded with ``load`` by the first caller while later ones wait for it."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._loaded:
                self._loaded[key] = load()
            return cast(T, self._loaded[key])

    def clear(self) -> None:
        """Forget every loaded model (they are freed once nothing else refers to them)."""
        with self._guard:
            self._loaded.clear()


PROCESS_CACHE = ModelCache()


def load_transcriber(settings: Settings) -> Transcriber:
    """Whisper as configured (``INSIGHT_WHISPER_MODEL``, device, compute type, CPU threads).

    Raises:
        ModelNotAvailable: the model is not on disk and downloads are off.
    """
    from insight.transcribe.engine import WhisperTranscriber
    from insight.transcribe.provision import resolve_whisper_model

    s = settings
    path = resolve_whisper_model(s.whisper_model, s.models_dir, allow_download=s.allow_model_download)
    return WhisperTranscriber(
        path,
        device=s.device,
        compute_type=s.whisper_compute_type,
        cpu_threads=s.cpu_threads,
        allow_download=s.allow_model_download,
    )


def load_voice_encoder() -> VoiceEncoder:
    """Resemblyzer's speaker encoder (its weights ship in the wheel)."""
    from insight.transcribe.diarize import VoiceEncoder

    return VoiceEncoder()


def load_nlp(lang: Lang) -> Language:
    """The spaCy pipeline of ``lang`` with the entity rules (see :mod:`insight.nlp.pipelines`).

    Raises:
        ModelNotAvailable: the model's wheel is not installed.
        UnsupportedLanguage: ``lang`` has no pipeline.
    """
    from insight.nlp.pipelines import load_pipeline

    return load_pipeline(lang)


def load_embedder(model: str, *, allow_download: bool = False, device: str = "cpu") -> Embedder:
    """The sentence encoder named ``model`` (see :mod:`insight.nlp.embeddings`).

    Args:
        model: The configured name (``INSIGHT_EMBEDDING_MODEL``).
        allow_download: Whether a sentence-transformers Hub model may be fetched (``INSIGHT_ALLOW_MODEL_DOWNLOAD``).
        device: The torch device of a sentence-transformers model.

    Raises:
        ModelNotAvailable: the model is unknown, its package is missing, or it is not on disk and downloads are off.
    """
    from insight.nlp.embeddings import build_embedder

    return build_embedder(model, threads=EMBEDDER_THREADS, allow_download=allow_download, device=device)


class Models:
    """The models of one runtime: built from ``settings`` on first use, shared through ``cache``, overridable.

    Args:
        settings: Which Whisper model and sentence encoder to load, and how.
        cache: Where loaded models live; the process-wide one unless a test wants a private one.
    """

    def __init__(self, settings: Settings, *, cache: ModelCache | None = None) -> None:
        self.settings = settings
        self.cache = cache if cache is not None else PROCESS_CACHE
        self._overrides: dict[Hashable, Any] = {}

    def _get(self, key: Hashable, load: Callable[[], T]) -> T:
        override = self._overrides.get(key)
        if override is not None:
            return cast(T, override)
        return self.cache.get(key, load)

    def _transcriber_key(self) -> Hashable:
        s = self.settings
        return (
            "transcriber",
            s.whisper_model,
            str(s.models_dir),
            s.allow_model_download,
            s.device,
            s.whisper_compute_type,
            s.cpu_threads,
        )

    def transcriber(self) -> Transcriber:
        """The ASR model.

        Raises:
            ModelNotAvailable: the configured model cannot be found.
        """
        return self._get(self._transcriber_key(), lambda: load_transcriber(self.settings))

    def voice_encoder(self) -> VoiceEncoder:
        """The speaker encoder used for diarization and voice prints."""
        return self._get("voice_encoder", load_voice_encoder)

    def nlp(self, lang: Lang) -> Language:
        """The spaCy pipeline of ``lang`` (``ja`` or ``en``).

        Raises:
            ModelNotAvailable: the model's wheel is not installed.
            UnsupportedLanguage: ``lang`` has no pipeline.
        """
        return self._get(("nlp", lang), lambda: load_nlp(lang))

    def embedder(self) -> Embedder:
        """The sentence encoder (``INSIGHT_EMBEDDING_MODEL``).

        Raises:
            ModelNotAvailable: the model is unknown or its package is missing.
        """
        model = self.settings.embedding_model
        allow = self.settings.allow_model_download
        # Whisper's "auto" means the GPU when there is one; the sentence encoder is small enough to stay on the CPU.
        device = "cuda" if self.settings.device == "cuda" else "cpu"
        if allow or device != "cpu":
            return self._get(
                ("embedder", model, allow, device), lambda: load_embedder(model, allow_download=allow, device=device)
            )
        return self._get(("embedder", model), lambda: load_embedder(model))

    def set_transcriber(self, transcriber: Transcriber) -> None:
        """Use ``transcriber`` instead of the configured model (tests, or a model built elsewhere)."""
        self._overrides[self._transcriber_key()] = transcriber

    def set_voice_encoder(self, encoder: VoiceEncoder) -> None:
        """Use ``encoder`` instead of the bundled speaker encoder."""
        self._overrides["voice_encoder"] = encoder

    def set_nlp(self, lang: Lang, nlp: Language) -> None:
        """Use ``nlp`` as the pipeline of ``lang``."""
        self._overrides[("nlp", lang)] = nlp

    def set_embedder(self, embedder: Embedder) -> None:
        """Use ``embedder`` instead of the configured sentence encoder."""
        s = self.settings
        device = "cuda" if s.device == "cuda" else "cpu"
        self._overrides[("embedder", s.embedding_model)] = embedder
        self._overrides[("embedder", s.embedding_model, s.allow_model_download, device)] = embedder

    def warm(self, *, transcriber: bool = False, analysis: bool = False, languages: Iterable[Lang] = LANGS) -> None:
        """Load models now rather than in the first job that needs them.

        Args:
            transcriber: Load Whisper (the transcription stage).
            analysis: Load the voice encoder (speakers stage), the pipelines of ``languages`` and the sentence
                encoder (analysis stage).
            languages: The languages whose pipelines to load.

        Raises:
            InsightError: a model cannot be loaded.
        """
        if transcriber:
            self.transcriber()
        if analysis:
            self.voice_encoder()
            for lang in languages:
                self.nlp(lang)
            self.embedder()


_shared: Models | None = None
_shared_lock = threading.Lock()


def shared_models() -> Models:
    """A holder built from the environment's settings, for library defaults, tests and benches.

    It shares loaded models with every runtime of the process (the same :data:`PROCESS_CACHE`).
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Models(get_settings())
        return _shared
