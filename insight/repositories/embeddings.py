"""Queries on utterance embeddings: write a call's vectors, read them back, stream many in bounded batches.

Every read names the model: vectors of two models live in different spaces and are never returned together.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from models import Minutes, Speaker, Utterance, UtteranceEmbedding

# Rows per batch when streaming: 2,000 x 512 float32 is 4 MB, whatever the number of calls.
DEFAULT_BATCH = 2000


@dataclass(frozen=True)
class EmbeddingBatch:
    """Vectors of one model: row ``i`` of ``matrix`` belongs to utterance ``utterance_ids[i]`` of ``call_ids[i]``."""

    utterance_ids: npt.NDArray[np.int64]
    call_ids: npt.NDArray[np.int64]
    matrix: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.utterance_ids)


def to_bytes(vector: npt.NDArray[np.float32]) -> bytes:
    """A vector as little-endian float32 bytes (the stored form)."""
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes, dim: int) -> npt.NDArray[np.float32]:
    """A stored vector back as float32.

    Raises:
        ValueError: the bytes do not hold ``dim`` float32 values.
    """
    if len(data) != 4 * dim:
        raise ValueError(f"stored vector has {len(data)} bytes, expected {4 * dim}")
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def replace_for_call(
    session: Session, call_id: int, model: str, utterance_ids: Sequence[int], matrix: npt.NDArray[np.float32]
) -> int:
    """Replace a call's vectors with ``matrix`` (row ``i`` for ``utterance_ids[i]``) of ``model``.

    The call's rows of any model go in the same transaction, so a reader sees either the old or the new set.
    Returns the number of rows written.

    Raises:
        ValueError: the ids and the rows do not pair up.
    """
    if matrix.ndim != 2 or matrix.shape[0] != len(utterance_ids):
        raise ValueError(f"{len(utterance_ids)} utterance ids for a matrix of shape {matrix.shape}")
    session.execute(delete(UtteranceEmbedding).where(col(UtteranceEmbedding.call_id) == call_id))
    dim = int(matrix.shape[1])
    session.add_all(
        UtteranceEmbedding(utterance_id=uid, call_id=call_id, model=model, dim=dim, vector=to_bytes(matrix[i]))
        for i, uid in enumerate(utterance_ids)
    )
    session.flush()
    return len(utterance_ids)


def for_call(session: Session, call_id: int, model: str) -> EmbeddingBatch:
    """The call's vectors of ``model``, in spoken order (empty when it has none of that model)."""
    query = (
        select(UtteranceEmbedding)
        .join(Utterance, col(Utterance.id) == col(UtteranceEmbedding.utterance_id))
        .where(col(UtteranceEmbedding.call_id) == call_id, col(UtteranceEmbedding.model) == model)
        .order_by(col(Utterance.idx))
    )
    return _batch(list(session.exec(query).all()))


def iter_batches(
    session: Session,
    model: str,
    *,
    roles: Collection[str] | None = None,
    call_ids: Collection[int] | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> Iterator[EmbeddingBatch]:
    """Every vector of ``model`` in batches of at most ``batch_size`` rows, in utterance id order.

    Memory stays bounded by one batch: each batch is its own query after the last id seen.

    Args:
        session: The session to read with.
        model: The embedding model; other models' vectors are never returned.
        roles: Keep only utterances whose speaker has one of these roles (``customer``, ``rep``, ``other``).
        call_ids: Keep only these calls.
        batch_size: Rows per batch.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if call_ids is not None and not call_ids:
        return
    after = 0
    while True:
        query = select(UtteranceEmbedding).where(
            col(UtteranceEmbedding.model) == model, col(UtteranceEmbedding.utterance_id) > after
        )
        if call_ids is not None:
            query = query.where(col(UtteranceEmbedding.call_id).in_(list(call_ids)))
        if roles is not None:
            query = (
                query.join(Utterance, col(Utterance.id) == col(UtteranceEmbedding.utterance_id))
                .join(
                    Speaker,
                    (col(Speaker.call_id) == col(Utterance.call_id)) & (col(Speaker.label) == col(Utterance.speaker)),
                )
                .where(col(Speaker.role).in_(list(roles)))
            )
        rows = list(session.exec(query.order_by(col(UtteranceEmbedding.utterance_id)).limit(batch_size)).all())
        if not rows:
            return
        after = rows[-1].utterance_id
        batch = _batch(rows)
        # The rows are read; drop them from the session so a long stream does not keep them all.
        for row in rows:
            session.expunge(row)
        yield batch
        if len(rows) < batch_size:
            return


def calls_to_embed(session: Session, model: str, *, limit: int = 100) -> list[int]:
    """Analysed calls (they have minutes) with an utterance that has no vector of ``model``, oldest first."""
    has_vector = (
        select(UtteranceEmbedding.utterance_id)
        .where(
            col(UtteranceEmbedding.utterance_id) == col(Utterance.id),
            col(UtteranceEmbedding.model) == model,
        )
        .exists()
    )
    query = (
        select(Utterance.call_id)
        .join(Minutes, col(Minutes.call_id) == col(Utterance.call_id))
        .where(~has_vector)
        .group_by(col(Utterance.call_id))
        .order_by(col(Utterance.call_id))
        .limit(limit)
    )
    return [int(c) for c in session.exec(query).all()]


def count_calls_to_embed(session: Session, model: str) -> int:
    """How many analysed calls have an utterance without a vector of ``model``."""
    has_vector = (
        select(UtteranceEmbedding.utterance_id)
        .where(
            col(UtteranceEmbedding.utterance_id) == col(Utterance.id),
            col(UtteranceEmbedding.model) == model,
        )
        .exists()
    )
    stale = (
        select(Utterance.call_id)
        .join(Minutes, col(Minutes.call_id) == col(Utterance.call_id))
        .where(~has_vector)
        .distinct()
        .subquery()
    )
    return int(session.exec(select(func.count()).select_from(stale)).one())


def counts_by_model(session: Session) -> dict[str, int]:
    """How many vectors each model has stored."""
    query = select(UtteranceEmbedding.model, func.count()).group_by(col(UtteranceEmbedding.model))
    return {str(model): int(n) for model, n in session.exec(query).all()}


def _batch(rows: Sequence[UtteranceEmbedding]) -> EmbeddingBatch:
    dim = rows[0].dim if rows else 0
    matrix = np.empty((len(rows), dim), dtype=np.float32)
    for i, row in enumerate(rows):
        matrix[i] = from_bytes(row.vector, row.dim)
    return EmbeddingBatch(
        utterance_ids=np.array([r.utterance_id for r in rows], dtype=np.int64),
        call_ids=np.array([r.call_id for r in rows], dtype=np.int64),
        matrix=matrix,
    )
