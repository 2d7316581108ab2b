"""Trackers (named phrase lists watched for in every call) and where they were heard."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from models.base import TimestampMixin, UTCDateTime, utcnow


class TrackerSide(StrEnum):
    """Whose utterances a tracker listens to."""

    customer = "customer"
    rep = "rep"
    any = "any"


class TrackerMatch(StrEnum):
    """How a phrase was found: in the normalised text, or by embedding similarity."""

    exact = "exact"
    semantic = "semantic"


class Tracker(TimestampMixin, table=True):
    """A named list of phrases (Japanese and English mixed freely) counted in every call.

    ``threshold`` overrides the embedding model's calibrated cosine threshold for semantic matches; ``semantic``
    off keeps the tracker to exact matches.
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    side: str = Field(default=TrackerSide.any, max_length=16)
    phrases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    semantic: bool = True
    threshold: float | None = None
    enabled: bool = True


class TrackerHit(SQLModel, table=True):
    """One utterance where a tracker's phrase was heard (the best phrase per tracker and utterance)."""

    __tablename__ = "tracker_hit"

    id: int | None = Field(default=None, primary_key=True)
    tracker_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tracker.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    call_id: int = Field(
        sa_column=Column(Integer, ForeignKey("call.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    utterance_id: int = Field(
        sa_column=Column(Integer, ForeignKey("utterance.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    phrase: str = Field(max_length=255)
    kind: str = Field(max_length=16, description="exact or semantic")
    score: float = Field(description="1.0 for an exact match, the cosine similarity for a semantic one.")
    side: str = Field(max_length=16, description="The speaker's role when the hit was found.")


class TrackerCallState(SQLModel, table=True):
    """Which trackers (and embedding model) a call's hits were computed with: a fingerprint of both.

    The recomputation job finds the calls whose fingerprint differs from the current one.
    """

    __tablename__ = "tracker_call_state"

    call_id: int = Field(sa_column=Column(Integer, ForeignKey("call.id", ondelete="CASCADE"), primary_key=True))
    fingerprint: str = Field(max_length=64)
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
