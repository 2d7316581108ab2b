"""Win-pattern queries: the decided deals with what their calls hold, and the runs and patterns computed from them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, delete
from sqlmodel import Session, col, select

from models import (
    Call,
    CallMetrics,
    Customer,
    CustomerSegment,
    Deal,
    DealOutcome,
    Minutes,
    Role,
    SegmentRun,
    SegmentRunStatus,
    Speaker,
    Utterance,
)
from models.pattern import PatternRun, PatternRunStatus, WinPattern
from models.topic import Topic, UtteranceTopic
from models.tracker import Tracker, TrackerHit


def decided_deals(session: Session) -> list[Deal]:
    """Every won or lost deal (open deals have no outcome to learn from), by id."""
    query = select(Deal).where(col(Deal.outcome).in_([DealOutcome.won, DealOutcome.lost])).order_by(col(Deal.id))
    return list(session.exec(query).all())


def customers(session: Session, customer_ids: Iterable[int]) -> dict[int, Customer]:
    """The customers with these ids."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    return {c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_(ids))).all() if c.id is not None}


def latest_segment_run(session: Session) -> SegmentRun | None:
    """The newest completed segment run."""
    query = select(SegmentRun).where(SegmentRun.status == SegmentRunStatus.done)
    return session.exec(query.order_by(col(SegmentRun.id).desc()).limit(1)).first()


def customer_segments(session: Session, run_id: int) -> dict[int, CustomerSegment]:
    """Each customer's row of a segment run."""
    rows = session.exec(select(CustomerSegment).where(CustomerSegment.run_id == run_id)).all()
    return {r.customer_id: r for r in rows}


def customer_segment(session: Session, run_id: int, customer_id: int) -> CustomerSegment | None:
    """One customer's row of a segment run."""
    query = select(CustomerSegment).where(CustomerSegment.run_id == run_id, CustomerSegment.customer_id == customer_id)
    return session.exec(query).first()


def deal_calls(session: Session, deal_ids: Sequence[int]) -> list[Call]:
    """The calls linked to these deals that still have their data (not purged)."""
    if not deal_ids:
        return []
    query = select(Call).where(col(Call.deal_id).in_(list(deal_ids)), col(Call.purged_at).is_(None))
    return list(session.exec(query.order_by(col(Call.id))).all())


def customer_utterances(session: Session, call_ids: Sequence[int]) -> list[Utterance]:
    """The utterances of the customer's speakers in these calls, in call and time order."""
    if not call_ids:
        return []
    query = (
        select(Utterance)
        .join(
            Speaker, and_(col(Speaker.call_id) == col(Utterance.call_id), col(Speaker.label) == col(Utterance.speaker))
        )
        .where(col(Utterance.call_id).in_(list(call_ids)), Speaker.role == Role.customer)
        .order_by(col(Utterance.call_id), col(Utterance.idx))
    )
    return list(session.exec(query).all())


def call_metrics(session: Session, call_ids: Sequence[int]) -> list[CallMetrics]:
    """The talk metrics of these calls."""
    if not call_ids:
        return []
    return list(session.exec(select(CallMetrics).where(col(CallMetrics.call_id).in_(list(call_ids)))).all())


def minutes(session: Session, call_ids: Sequence[int]) -> list[Minutes]:
    """The minutes of these calls."""
    if not call_ids:
        return []
    return list(session.exec(select(Minutes).where(col(Minutes.call_id).in_(list(call_ids)))).all())


def tracker_hits(session: Session, call_ids: Sequence[int]) -> list[tuple[str, Utterance]]:
    """Each tracker hit in these calls as (tracker name, the utterance it was heard in)."""
    if not call_ids:
        return []
    query = (
        select(Tracker.name, Utterance)
        .join(TrackerHit, col(TrackerHit.tracker_id) == col(Tracker.id))
        .join(Utterance, col(Utterance.id) == col(TrackerHit.utterance_id))
        .where(col(TrackerHit.call_id).in_(list(call_ids)))
        .order_by(col(Utterance.call_id), col(Utterance.idx))
    )
    return [(str(name), u) for name, u in session.exec(query).all()]


def customer_topics(session: Session, call_ids: Sequence[int]) -> list[tuple[int, str, Utterance]]:
    """The active topic of each customer-side utterance in these calls as (topic id, label, utterance)."""
    if not call_ids:
        return []
    query = (
        select(Topic.id, Topic.label, Utterance)
        .join(UtteranceTopic, col(UtteranceTopic.topic_id) == col(Topic.id))
        .join(Utterance, col(Utterance.id) == col(UtteranceTopic.utterance_id))
        .where(
            col(UtteranceTopic.call_id).in_(list(call_ids)),
            UtteranceTopic.side == Role.customer,
            col(Topic.active).is_(True),
        )
        .order_by(col(Utterance.call_id), col(Utterance.idx))
    )
    return [(int(topic_id), str(label), u) for topic_id, label, u in session.exec(query).all() if topic_id is not None]


def start_run(session: Session, *, segmentation: str, trigger: str, parameters: dict[str, Any]) -> PatternRun:
    """A new run in state running (flushed, so it has an id)."""
    run = PatternRun(segmentation=segmentation, trigger=trigger, parameters=parameters)
    session.add(run)
    session.flush()
    return run


def add_patterns(session: Session, patterns: Sequence[WinPattern]) -> None:
    """Store a run's patterns."""
    session.add_all(patterns)
    session.flush()


def fail_run(session: Session, run_id: int, error: str) -> None:
    """Mark a run failed and drop any patterns it left."""
    session.execute(delete(WinPattern).where(col(WinPattern.run_id) == run_id))
    run = session.get(PatternRun, run_id)
    if run is not None:
        run.status = PatternRunStatus.failed
        run.error = error[:2000]
        session.add(run)


def get_run(session: Session, run_id: int) -> PatternRun | None:
    """A run by id."""
    return session.get(PatternRun, run_id)


def latest_run(session: Session, segmentation: str | None = None) -> PatternRun | None:
    """The newest completed run, of one segmentation when given."""
    query = select(PatternRun).where(PatternRun.status == PatternRunStatus.done)
    if segmentation is not None:
        query = query.where(PatternRun.segmentation == segmentation)
    return session.exec(query.order_by(col(PatternRun.id).desc()).limit(1)).first()


def patterns(
    session: Session, run_id: int, *, segment: str | None = None, significant_only: bool = False
) -> list[WinPattern]:
    """A run's patterns (one segment's, or the significant ones), strongest shrunk effect first within a segment."""
    query = select(WinPattern).where(WinPattern.run_id == run_id)
    if segment is not None:
        query = query.where(WinPattern.segment == segment)
    if significant_only:
        query = query.where(col(WinPattern.significant).is_(True))
    rows = list(session.exec(query.order_by(col(WinPattern.segment), col(WinPattern.id))).all())
    return sorted(rows, key=lambda p: (p.segment, not p.significant, -abs(p.shrunk)))
