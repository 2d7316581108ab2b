"""Queries on calls."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, update
from sqlmodel import Session, col, select

from insight.auth.policy import CallVisibility
from models import Call, User
from models.base import utcnow


def get(session: Session, call_id: int) -> Call | None:
    return session.get(Call, call_id)


def get_by_sha256(session: Session, sha256: str, *, owner_id: int | None) -> Call | None:
    """``owner_id``'s call of the recording with this hash (None: among calls without an owner).

    Never another owner's: whether someone else uploaded the same bytes is not the uploader's business.
    """
    owner = col(Call.owner_id).is_(None) if owner_id is None else col(Call.owner_id) == owner_id
    return session.exec(select(Call).where(Call.audio_sha256 == sha256, owner).order_by(col(Call.id))).first()


def sha256_in_use(session: Session, hashes: list[str]) -> set[str]:
    """Which of ``hashes`` some call still refers to (a stored file may be shared by several owners' calls)."""
    if not hashes:
        return set()
    return set(session.exec(select(Call.audio_sha256).where(col(Call.audio_sha256).in_(hashes)).distinct()).all())


def add(session: Session, call: Call) -> Call:
    session.add(call)
    session.flush()
    return call


def visible(visibility: CallVisibility) -> ColumnElement[bool] | None:
    """The WHERE clause for the calls a principal may see (None: all of them)."""
    if visibility.everything:
        return None
    if visibility.owner_id is None:
        return false()
    clause = col(Call.owner_id) == visibility.owner_id
    if visibility.team_id is not None:
        team = select(User.id).where(User.team_id == visibility.team_id)
        clause = or_(clause, col(Call.owner_id).in_(team))
    return clause


def list_page(
    session: Session,
    *,
    offset: int,
    limit: int,
    status: str | None = None,
    visibility: CallVisibility | None = None,
) -> tuple[list[Call], int]:
    """A page of calls, newest first, and the total count (only calls within ``visibility`` when given)."""
    ids = select(Call.id)
    count = select(func.count()).select_from(Call)
    where = visible(visibility) if visibility is not None else None
    if where is not None:
        ids, count = ids.where(where), count.where(where)
    if status is not None:
        ids = ids.where(Call.status == status)
        count = count.where(Call.status == status)
    # The page's ids first (ordered from the indexes alone), then only those rows: sorting thousands of full rows
    # to keep fifty costs several times more.
    page = ids.order_by(col(Call.id).desc()).offset(offset).limit(limit).scalar_subquery()
    rows = session.exec(select(Call).where(col(Call.id).in_(page)).order_by(col(Call.id).desc())).all()
    return list(rows), int(session.exec(count).one())


def update_fields(session: Session, call_id: int, **values: Any) -> None:
    """Set columns on one call without loading it (used by the worker's heartbeat and stage transitions)."""
    session.execute(update(Call).where(col(Call.id) == call_id).values(updated_at=utcnow(), **values))
