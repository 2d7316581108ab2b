"""A recorded sales conversation and its processing state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field

from models.base import TimestampMixin, UTCDateTime


class CallStatus(StrEnum):
    queued = "queued"
    processing = "processing"
    done = "done"
    failed = "failed"


class Call(TimestampMixin, table=True):
    """One uploaded recording. The audio is stored once per sha256; the call is per owner: the same bytes uploaded
    twice by one user are one call, by two users two calls (sharing the stored file, neither told of the other)."""

    # One call per owner and recording. (Calls without an owner are told apart by the upload path alone: NULLs
    # are distinct in a unique index.)
    __table_args__ = (Index("uq_call_owner_audio", "owner_id", "audio_sha256", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    audio_sha256: str = Field(max_length=64, index=True)
    audio_bytes: int
    filename: str = Field(max_length=255)
    media_format: str = Field(max_length=64)
    codec: str = Field(max_length=64)
    duration_s: float
    sample_rate: int
    channels: int
    dual_mono: bool = False

    customer_external_id: str | None = Field(default=None, max_length=255, index=True)
    deal_external_id: str | None = Field(default=None, max_length=255, index=True)
    # Resolved from the external ids at upload, or back-filled when the customer/deal is imported later.
    customer_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("customer.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    deal_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("deal.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    language_hint: str | None = Field(default=None, max_length=8)
    rep_channel: int | None = Field(default=None, description="Stereo only: 0 = left is the rep, 1 = right.")
    rep_key: str | None = Field(default=None, max_length=255, index=True, description="Who the rep is (voice profile).")
    # The uploading user: reps see their own calls, managers their team's. None for calls from before accounts
    # existed, which only admins see until one assigns them.
    owner_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    num_speakers: int | None = Field(default=None, description="Known number of speakers (mono diarization).")
    recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    status: str = Field(default=CallStatus.queued, max_length=16, index=True)
    stage: str | None = Field(default=None, max_length=32)
    progress: float = 0.0
    error: str | None = None
    error_code: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=8)
    language_probability: float | None = None
    processing_s: float | None = None
    # Set when retention removed the audio and transcript; the row stays for anonymous aggregates (metrics).
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
