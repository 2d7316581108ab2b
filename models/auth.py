"""Accounts: teams, users with a role, hashed API tokens with scopes, and server-side web sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from models.base import TimestampMixin, UTCDateTime, utcnow


class UserRole(StrEnum):
    rep = "rep"
    manager = "manager"
    admin = "admin"


class Team(SQLModel, table=True):
    """A sales team: a manager sees the calls of every member of their team."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class User(TimestampMixin, table=True):
    """A person who signs in (web UI) or owns API tokens. ``password_hash`` is argon2id; None: tokens only."""

    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=255, unique=True, index=True)
    name: str | None = Field(default=None, max_length=255)
    role: str = Field(default=UserRole.rep, max_length=16)
    team_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = True


class ApiToken(SQLModel, table=True):
    """An API token: only its sha256 is stored; the token itself is shown once, at creation."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    name: str = Field(max_length=128)
    prefix: str = Field(max_length=16, description="The token's first characters, to recognise it in lists.")
    token_hash: str = Field(max_length=64, unique=True)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie carries a random id; only its sha256 is stored, so a leaked table is useless."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    session_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class AuthState(SQLModel, table=True):
    """A single row whose ``generation`` grows in the transaction of every change to users, tokens or sessions.

    Each API process reads it once per request and drops the credentials it cached under an older generation, so a
    change committed by any process (another API replica, the CLI) takes effect on the next request everywhere.
    """

    __tablename__ = "auth_state"

    id: int = Field(default=1, primary_key=True)
    generation: int = Field(default=0, nullable=False)


class LoginFailure(SQLModel, table=True):
    """Failed sign-ins for one (address, e-mail): the backoff slows that source only, never the account's owner."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_address_email", "address", "email", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=64)
    email: str = Field(max_length=255, index=True)
    failures: int = Field(default=0, nullable=False)
    last_failure_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
