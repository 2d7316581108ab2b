"""Speakers of a call with their roles, per-call conversation metrics, and reps' voice profiles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import TimestampMixin, UTCDateTime


class Role(StrEnum):
    rep = "rep"
    customer = "customer"
    other = "other"


class RoleSource(StrEnum):
    """How a speaker's role was decided, strongest last: a user's correction is never overwritten."""

    heuristic = "heuristic"
    voice = "voice"
    channel = "channel"
    user = "user"


class Speaker(SQLModel, table=True):
    """One voice in a call: a stereo channel, or a cluster found by diarization."""

    __table_args__ = (UniqueConstraint("call_id", "label", name="uq_speaker_call_label"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(
        sa_column=Column(Integer, ForeignKey("call.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    label: str = Field(max_length=16, description="S1, S2, ... in order of first appearance.")
    name: str | None = Field(default=None, max_length=255)
    role: str = Field(default=Role.other, max_length=16)
    role_source: str = Field(default=RoleSource.heuristic, max_length=16)
    channel: int | None = None
    talk_s: float = 0.0
    # Mean resemblyzer embedding (256 floats) of the speaker's speech: matched against reps' voice profiles.
    embedding: list[float] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class CallMetrics(SQLModel, table=True):
    """Conversation metrics of a call (recomputed whenever speakers or roles change)."""

    __tablename__ = "call_metrics"

    call_id: int = Field(sa_column=Column(Integer, ForeignKey("call.id", ondelete="CASCADE"), primary_key=True))
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    speakers: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    computed_at: datetime = Field(sa_type=UTCDateTime)


class VoiceProfile(TimestampMixin, table=True):
    """A rep's enrolled voice: the running mean of their speaker embeddings in calls with confirmed roles."""

    __tablename__ = "voice_profile"

    id: int | None = Field(default=None, primary_key=True)
    rep_key: str = Field(max_length=255, unique=True, index=True)
    embedding: list[float] = Field(sa_column=Column(JSON, nullable=False))
    n_calls: int = 0
    call_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
