"""The app-owned job table: the source of truth for queued work (the broker only carries wake-ups)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field

from models.base import TimestampMixin, UTCDateTime


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Job(TimestampMixin, table=True):
    """One stage of work for one object.

    ``key`` is unique per (stage, object, version), so a double submit makes one job. Workers claim a job with a
    conditional UPDATE that bumps ``attempt``; results are written only while ``attempt`` still matches, so a worker
    that lost its lease cannot overwrite a newer attempt.
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, unique=True)
    queue: str = Field(max_length=32, index=True)
    name: str = Field(max_length=64)
    call_id: int | None = Field(default=None, index=True)
    state: str = Field(default=JobState.queued, max_length=16, index=True)
    attempt: int = 0
    max_attempts: int = 3
    progress: float = 0.0
    worker_id: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = None
    error_code: str | None = Field(default=None, max_length=64)
