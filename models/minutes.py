"""Minutes of a call: the structured items (each citing its evidence utterances) in original and redacted form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime


class Minutes(SQLModel, table=True):
    """One row per call, replaced when the minutes are regenerated.

    ``content`` is written from the original transcript; ``content_redacted`` is the same document with every piece
    of personal data found in the transcript replaced by its placeholder (``None`` when redaction was off). Readers
    get the redacted form unless they are allowed the original.
    """

    call_id: int = Field(sa_column=Column(Integer, ForeignKey("call.id", ondelete="CASCADE"), primary_key=True))
    language: str = Field(max_length=8)
    backend: str = Field(max_length=32, description="offline, or llm when an LLM endpoint wrote them.")
    model: str | None = Field(default=None, max_length=255, description="The LLM model name, when one was used.")
    schema_version: int = 1
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_redacted: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    generated_at: datetime = Field(sa_type=UTCDateTime)
