"""API contracts for accounts, tokens and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class LoginIn(BaseModel):
    """An e-mail and password to sign in with; the answer also sets the session cookie."""

    email: str = Field(max_length=255, examples=["sato@example.jp"])
    password: str = Field(max_length=1024)


class UserPublic(BaseModel):
    """A user account as the API shows it (never its password)."""

    id: int
    email: str
    name: str | None
    role: str = Field(description="rep, manager or admin")
    team: str | None
    active: bool
    created_at: datetime


class MePublic(BaseModel):
    """The signed-in user, the scopes in force for the request and how it authenticated."""

    user: UserPublic
    scopes: list[str]
    via: str = Field(description="session or token")
    csrf_token: str | None = Field(default=None, description="Send as X-CSRF-Token on unsafe requests (sessions)")


class UserCreate(BaseModel):
    """A new user account; without a password the user can only use API tokens (a service account)."""

    email: str = Field(max_length=255)
    role: str = Field(default="rep", pattern="^(rep|manager|admin)$")
    team: str | None = Field(default=None, max_length=128)
    name: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, max_length=1024)


class UserUpdate(BaseModel):
    """Changes to a user account; null fields are left alone."""

    role: str | None = Field(default=None, pattern="^(rep|manager|admin)$")
    team: str | None = Field(default=None, max_length=128, description="A team name; empty string: no team")
    name: str | None = Field(default=None, max_length=255)
    active: bool | None = None
    password: str | None = Field(default=None, max_length=1024)
    keep_tokens: bool = Field(
        default=False, description="With a new password: leave the user's API tokens working (default: revoke them)"
    )


class TokenCreate(BaseModel):
    """A request for a new API token: its name, scopes and lifetime in days."""

    name: str = Field(default="token", min_length=1, max_length=128)
    scopes: list[str] | None = Field(
        default=None, max_length=10, description="Default: every scope the user's role allows"
    )
    expires_days: float | None = Field(
        default=90,
        gt=0,
        le=3650,
        description="Lifetime, at most INSIGHT_TOKEN_MAX_DAYS (365 by default). null: never expires, only for an "
        "admin issuing a service account's token (a user without a password) when INSIGHT_TOKEN_ALLOW_NO_EXPIRY "
        "is on",
    )


class TokenPublic(BaseModel):
    """An API token's details; the token itself is shown only once, when it is created."""

    id: int
    user_id: int
    name: str
    prefix: str
    scopes: list[str]
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class TokenCreated(TokenPublic):
    """A token just created, with the token itself."""

    token: str = Field(description="The token itself: shown only now, store it safely")


class AuditEventPublic(BaseModel):
    """One audit log entry: who did what to which object, when, from where, and the outcome."""

    id: int
    at: datetime
    actor: str
    actor_user_id: int | None
    actor_token_id: int | None
    action: str
    object_type: str | None
    object_id: str | None
    outcome: str
    request_id: str | None
    ip: str | None
    details: dict[str, Any]


class AuditEventsPublic(BaseModel):
    """A page of the audit log, newest first, with the total count."""

    data: list[AuditEventPublic]
    count: int
    offset: int
    limit: int


class UnlockReport(BaseModel):
    """What clearing a user's waits after failed sign-ins removed."""

    user_id: int
    email: str
    cleared: int = Field(description="Records of failed sign-ins cleared (one per client address)")


class CallOwnerUpdate(BaseModel):
    """The user who is to own a call."""

    owner_id: int


class RetentionReport(BaseModel):
    """What a retention run purged; cutoff (the upload time purged before) is null when retention is off."""

    calls_purged: int
    audio_files_deleted: int
    cutoff: datetime | None


class ErasureReport(BaseModel):
    """What erasing a customer deleted: rows per table and audio files."""

    customer_id: int
    rows_deleted: dict[str, int]
    audio_files_deleted: int
