"""Queries on calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, update
from sqlmodel import Session, col, select

from insight.errors import NotFound
from models import Call, User
from models.base import utcnow


def get(session: Session, call_id: int) -> Call | None:
    """The call with this id, or None; no visibility check (callers apply ``insight.auth.policy``)."""
    return session.get(Call, call_id)


# What a stage's job says when its call was deleted meanwhile.
GONE_HINT = "It may have been deleted."


def get_existing(session: Session, call_id: int, *, hint: str = "") -> Call:
    """The call with this id; no visibility check.

    Raises:
        NotFound: no such call (``object_id`` is ``call_id``).
    """
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"Call {call_id} does not exist.", hint=hint, object_type="call", object_id=call_id)
    return call


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
    """Insert a call and flush, so its id is set."""
    session.add(call)
    session.flush()
    return call


@dataclass(frozen=True)
class CallVisibility:
    """Which calls a reader may see, as plain data turned into a WHERE clause here (``insight.auth.policy`` decides
    it for a principal).
    """

    everything: bool = False
    owner_id: int | None = None
    team_id: int | None = None  # also calls whose owner is in this team


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


@dataclass(frozen=True)
class CallFilters:
    """Which calls a list shows; ``None`` filters nothing."""

    customer_external_id: str | None = None
    rep: str | None = None  # the rep key given at upload (e-mail or user id)
    language: str | None = None  # detected, else the upload's hint
    since: datetime | None = None  # when the call took place (recorded_at, else the upload time), inclusive; aware
    until: datetime | None = None  # exclusive

    def clauses(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses of the filters that are set, to be combined with AND."""
        took_place = func.coalesce(col(Call.recorded_at), col(Call.created_at))
        out: list[ColumnElement[bool]] = []
        if self.customer_external_id is not None:
            out.append(col(Call.customer_external_id) == self.customer_external_id)
        if self.rep is not None:
            out.append(col(Call.rep_key) == self.rep)
        if self.language is not None:
            out.append(func.coalesce(col(Call.language), col(Call.language_hint)) == self.language)
        if self.since is not None:
            out.append(took_place >= self.since)
        if self.until is not None:
            out.append(took_place < self.until)
        return out


def list_page(
    session: Session,
    *,
    offset: int,
    limit: int,
    status: str | None = None,
    visibility: CallVisibility | None = None,
    filters: CallFilters | None = None,
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
    for clause in filters.clauses() if filters is not None else []:
        ids, count = ids.where(clause), count.where(clause)
    # The page's ids first (ordered from the indexes alone), then only those rows: sorting thousands of full rows
    # to keep fifty costs several times more.
    page = ids.order_by(col(Call.id).desc()).offset(offset).limit(limit).scalar_subquery()
    rows = session.exec(select(Call).where(col(Call.id).in_(page)).order_by(col(Call.id).desc())).all()
    return list(rows), int(session.exec(count).one())


def update_fields(session: Session, call_id: int, **values: Any) -> None:
    """Set columns on one call without loading it (used by the worker's heartbeat and stage transitions)."""
    session.execute(update(Call).where(col(Call.id) == call_id).values(updated_at=utcnow(), **values))
