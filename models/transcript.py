"""Transcript rows: one per utterance, words with timestamps in a JSON column."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel


class Utterance(SQLModel, table=True):
    """A stretch of speech by one speaker (one Whisper segment after clean-up)."""

    __table_args__ = (UniqueConstraint("call_id", "idx", name="uq_utterance_call_idx"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(
        sa_column=Column(Integer, ForeignKey("call.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    idx: int
    start: float
    end: float
    channel: int | None = None
    speaker: str = Field(max_length=64)
    language: str | None = Field(default=None, max_length=8)
    text: str
    # The text with personal data replaced by placeholders, and the replaced spans (kind, offsets into ``text``,
    # original, placeholder). ``None`` until the analyze stage ran, or when redaction is switched off.
    text_redacted: str | None = None
    pii: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    words: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
