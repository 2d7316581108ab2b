"""Queries on trackers, their hits and the per-call record of what the hits were computed with."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select

from models import Minutes, Tracker, TrackerCallState, TrackerHit


def list_all(session: Session, *, enabled_only: bool = False) -> list[Tracker]:
    """Every tracker by id (only the enabled ones when asked)."""
    query = select(Tracker).order_by(col(Tracker.id))
    if enabled_only:
        query = query.where(col(Tracker.enabled).is_(True))
    return list(session.exec(query).all())


def get(session: Session, tracker_id: int) -> Tracker | None:
    """The tracker with this id, if any."""
    return session.get(Tracker, tracker_id)


def get_by_name(session: Session, name: str) -> Tracker | None:
    """The tracker named ``name``, if any."""
    return session.exec(select(Tracker).where(col(Tracker.name) == name)).first()


def save(session: Session, tracker: Tracker) -> Tracker:
    """Insert or update ``tracker`` and flush (its id is set)."""
    session.add(tracker)
    session.flush()
    return tracker


def delete_tracker(session: Session, tracker: Tracker) -> None:
    """Delete a tracker and its hits."""
    session.execute(delete(TrackerHit).where(col(TrackerHit.tracker_id) == tracker.id))
    session.delete(tracker)
    session.flush()


def replace_hits(session: Session, call_id: int, hits: Sequence[TrackerHit], fingerprint: str) -> None:
    """Replace the call's hits and record the fingerprint of the trackers and model they were computed with."""
    session.execute(delete(TrackerHit).where(col(TrackerHit.call_id) == call_id))
    session.add_all(hits)
    state = session.get(TrackerCallState, call_id)
    if state is None:
        session.add(TrackerCallState(call_id=call_id, fingerprint=fingerprint))
    else:
        state.fingerprint = fingerprint
        state.computed_at = datetime.now(UTC)
        session.add(state)
    session.flush()


def hits_for_call(session: Session, call_id: int) -> list[TrackerHit]:
    """The call's hits in tracker, then utterance order."""
    query = (
        select(TrackerHit)
        .where(col(TrackerHit.call_id) == call_id)
        .order_by(col(TrackerHit.tracker_id), col(TrackerHit.utterance_id))
    )
    return list(session.exec(query).all())


def counts_for_call(session: Session, call_id: int) -> dict[int, int]:
    """Hits per tracker id in the call."""
    query = (
        select(TrackerHit.tracker_id, func.count())
        .where(col(TrackerHit.call_id) == call_id)
        .group_by(col(TrackerHit.tracker_id))
    )
    return {int(t): int(n) for t, n in session.exec(query).all()}


def stale_calls(session: Session, fingerprint: str, *, limit: int = 100) -> list[int]:
    """Analysed calls (they have minutes) whose hits were computed with other trackers or model, or never."""
    query = (
        select(Minutes.call_id)
        .outerjoin(TrackerCallState, col(TrackerCallState.call_id) == col(Minutes.call_id))
        .where(or_(col(TrackerCallState.call_id).is_(None), col(TrackerCallState.fingerprint) != fingerprint))
        .order_by(col(Minutes.call_id))
        .limit(limit)
    )
    return [int(c) for c in session.exec(query).all()]


def state(session: Session, call_id: int) -> TrackerCallState | None:
    """The fingerprint the call's hits were computed with, if they were."""
    return session.get(TrackerCallState, call_id)
