"""The audit log: who did what to which object, append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    """One audited action. Actor and object are plain ids (no foreign keys): the log outlives what it mentions.

    ``details`` never holds personal data of customers (no transcript text, names or e-mail addresses of customers).
    """

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    actor_user_id: int | None = Field(default=None, index=True)
    actor_token_id: int | None = None
    actor: str = Field(default="", max_length=255, description="E-mail of the acting user, or 'system'/'cli'.")
    action: str = Field(max_length=64, index=True)
    object_type: str | None = Field(default=None, max_length=32)
    object_id: str | None = Field(default=None, max_length=255)
    outcome: str = Field(default="ok", max_length=16)
    request_id: str | None = Field(default=None, max_length=64)
    ip: str | None = Field(default=None, max_length=64)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
