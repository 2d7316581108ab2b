"""Sentence embeddings of utterances: one float32 vector per utterance, tagged with the model that produced it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class UtteranceEmbedding(SQLModel, table=True):
    """The embedding of one utterance (of its redacted text when redaction is on).

    One row per utterance: re-embedding with another model replaces the row in the transaction that writes the new
    one, so an utterance is never without a vector while its call is re-embedded. Vectors of different models live in
    different spaces; every reader filters on ``model``. ``vector`` is ``dim`` little-endian float32 values.
    """

    __tablename__ = "utterance_embedding"
    __table_args__ = (Index("ix_utterance_embedding_model_call", "model", "call_id"),)

    utterance_id: int = Field(
        sa_column=Column(Integer, ForeignKey("utterance.id", ondelete="CASCADE"), primary_key=True)
    )
    call_id: int = Field(
        sa_column=Column(Integer, ForeignKey("call.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    model: str = Field(max_length=255)
    dim: int
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
