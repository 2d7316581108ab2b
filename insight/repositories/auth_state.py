"""Queries on the credential-cache generation and on failed sign-ins per (address, e-mail)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, or_, update
from sqlmodel import Session, col, select

from models import AuthState, LoginFailure

STATE_ID = 1


def generation(session: Session) -> int:
    """The current generation (0 before the first change)."""
    value = session.exec(select(AuthState.generation).where(AuthState.id == STATE_ID)).first()
    return int(value) if value is not None else 0


def bump_generation(session: Session) -> None:
    """Add one to the generation in this transaction: it becomes visible to every process when the caller commits."""
    result = session.execute(
        update(AuthState).where(col(AuthState.id) == STATE_ID).values(generation=col(AuthState.generation) + 1)
    )
    if not getattr(result, "rowcount", 0):
        # The migration seeds the row; a database emptied by hand gets it back here.
        session.add(AuthState(id=STATE_ID, generation=1))
        session.flush()


def login_failure(session: Session, address: str, email: str) -> LoginFailure | None:
    """The failed sign-in record of this (address, e-mail), or None when there is none."""
    return session.exec(
        select(LoginFailure).where(LoginFailure.address == address, LoginFailure.email == email)
    ).first()


def save_login_failure(session: Session, row: LoginFailure) -> LoginFailure:
    """Insert or update a failed sign-in record and flush."""
    session.add(row)
    session.flush()
    return row


def delete_login_failures(session: Session, email: str, address: str | None = None) -> int:
    """Forget the failed sign-ins for ``email`` (from ``address`` only, when given). Returns the rows deleted."""
    query = delete(LoginFailure).where(col(LoginFailure.email) == email)
    if address is not None:
        query = query.where(col(LoginFailure.address) == address)
    result = session.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)


def delete_stale_login_failures(session: Session, *, failed_before: datetime, now: datetime) -> int:
    """Drop records whose last failure is older than ``failed_before`` and that lock nothing any more."""
    result = session.execute(
        delete(LoginFailure).where(
            and_(
                col(LoginFailure.last_failure_at) < failed_before,
                or_(col(LoginFailure.locked_until).is_(None), col(LoginFailure.locked_until) <= now),
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
