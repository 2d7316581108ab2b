"""Queries on topics, their fit runs and the topic of each utterance."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from insight.repositories.calls import CallVisibility, visible
from models import (
    Call,
    CustomerSegment,
    SegmentRun,
    SegmentRunStatus,
    Speaker,
    Topic,
    TopicFitRun,
    User,
    Utterance,
    UtteranceTopic,
)
from models.base import utcnow


# -- fit runs ---------------------------------------------------------------------------------------------------------
def create_run(session: Session, *, side: str, model: str, method: str, trigger: str) -> TopicFitRun:
    """Start a fit run (status ``running``)."""
    run = TopicFitRun(side=side, model=model, method=method, trigger=trigger)
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: int) -> TopicFitRun | None:
    """The fit run with this id."""
    return session.get(TopicFitRun, run_id)


def fail_run(session: Session, run_id: int, error: str) -> None:
    """Mark a run failed with ``error``."""
    run = session.get(TopicFitRun, run_id)
    if run is not None:
        run.status, run.error, run.finished_at = "failed", error[:2000], utcnow()
        session.add(run)


def latest_run(session: Session, side: str) -> TopicFitRun | None:
    """The newest finished fit run of ``side``."""
    query = (
        select(TopicFitRun)
        .where(col(TopicFitRun.side) == side, col(TopicFitRun.status) == "done")
        .order_by(col(TopicFitRun.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def list_runs(session: Session, *, limit: int = 20) -> list[TopicFitRun]:
    """Fit runs, newest first."""
    return list(session.exec(select(TopicFitRun).order_by(col(TopicFitRun.id).desc()).limit(limit)).all())


# -- topics -----------------------------------------------------------------------------------------------------------
def active_topics(session: Session, side: str) -> list[Topic]:
    """The topics in force for ``side``, largest first."""
    query = select(Topic).where(col(Topic.side) == side, col(Topic.active)).order_by(col(Topic.size).desc())
    return list(session.exec(query).all())


def get_topic(session: Session, topic_id: int) -> Topic | None:
    """The topic with this id (active or retired)."""
    return session.get(Topic, topic_id)


def save_topic(session: Session, topic: Topic) -> Topic:
    """Insert or update ``topic`` and give it its id."""
    topic.updated_at = utcnow()
    session.add(topic)
    session.flush()
    return topic


# -- utterances and their topics --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UtteranceText:
    """An utterance's id, call and the text topics read (the redacted text when there is one)."""

    id: int
    call_id: int
    text: str


def texts(session: Session, utterance_ids: Collection[int]) -> dict[int, str]:
    """The texts topics read, by utterance id: the redacted text, else the transcript (before redaction ran)."""
    if not utterance_ids:
        return {}
    query = select(Utterance.id, Utterance.text_redacted, Utterance.text).where(
        col(Utterance.id).in_(list(utterance_ids))
    )
    return {int(i or 0): (r if r is not None else t) for i, r, t in session.exec(query).all()}


def call_utterances(session: Session, call_id: int, role: str) -> list[UtteranceText]:
    """A call's utterances spoken by a speaker of ``role``, in spoken order."""
    query = (
        select(Utterance.id, Utterance.call_id, Utterance.text_redacted, Utterance.text)
        .join(
            Speaker, (col(Speaker.call_id) == col(Utterance.call_id)) & (col(Speaker.label) == col(Utterance.speaker))
        )
        .where(col(Utterance.call_id) == call_id, col(Speaker.role) == role)
        .order_by(col(Utterance.idx))
    )
    return [UtteranceText(int(i or 0), int(c), r if r is not None else t) for i, c, r, t in session.exec(query).all()]


def clear_side(session: Session, side: str) -> None:
    """Forget every utterance's topic of ``side`` (a refit assigns them all again)."""
    session.execute(delete(UtteranceTopic).where(col(UtteranceTopic.side) == side))


def clear_call(session: Session, call_id: int, side: str) -> None:
    """Forget a call's utterance topics of ``side``."""
    session.execute(
        delete(UtteranceTopic).where(col(UtteranceTopic.call_id) == call_id, col(UtteranceTopic.side) == side)
    )


def add_assignments(session: Session, side: str, rows: Iterable[tuple[int, int, int, float]]) -> int:
    """Store utterance topics, each row (utterance id, call id, topic id, score). Returns the rows written."""
    items = [UtteranceTopic(utterance_id=u, call_id=c, topic_id=t, side=side, score=float(s)) for u, c, t, s in rows]
    session.add_all(items)
    session.flush()
    for item in items:  # a refit writes many batches: keep none of them in the session
        session.expunge(item)
    return len(items)


def assigned_calls(session: Session, side: str) -> int:
    """Calls with at least one utterance topic of ``side``."""
    query = select(func.count(func.distinct(UtteranceTopic.call_id))).where(col(UtteranceTopic.side) == side)
    return int(session.exec(query).one())


def topic_sizes(session: Session, side: str) -> dict[int, int]:
    """Assigned utterances per topic of ``side``."""
    query = (
        select(UtteranceTopic.topic_id, func.count())
        .where(col(UtteranceTopic.side) == side)
        .group_by(col(UtteranceTopic.topic_id))
    )
    return {int(t): int(n) for t, n in session.exec(query).all()}


# -- reading topics for people ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CallTopicCount:
    """Utterances of one call on one topic, with what shares are broken down by."""

    call_id: int
    topic_id: int
    utterances: int
    took_place: datetime
    rep: str | None
    customer_id: int | None


def call_topic_counts(
    session: Session, side: str, visibility: CallVisibility | None, *, topic_id: int | None = None
) -> list[CallTopicCount]:
    """Utterances per (call, topic) of ``side`` over the calls ``visibility`` lets one see.

    The rep of a call is the rep named at upload, else its owner's e-mail address.
    """
    took_place = func.coalesce(col(Call.recorded_at), col(Call.created_at))
    query = (
        sa_select(
            col(UtteranceTopic.call_id),
            col(UtteranceTopic.topic_id),
            func.count(),
            took_place,
            func.coalesce(col(Call.rep_key), col(User.email)),
            col(Call.customer_id),
        )
        .join(Call, col(Call.id) == col(UtteranceTopic.call_id))
        .outerjoin(User, col(User.id) == col(Call.owner_id))
        .where(col(UtteranceTopic.side) == side, col(Call.purged_at).is_(None))
        .group_by(
            col(UtteranceTopic.call_id),
            col(UtteranceTopic.topic_id),
            took_place,
            col(Call.rep_key),
            col(User.email),
            col(Call.customer_id),
        )
    )
    if topic_id is not None:
        query = query.where(col(UtteranceTopic.topic_id) == topic_id)
    where = visible(visibility) if visibility is not None else None
    if where is not None:
        query = query.where(where)
    return [
        CallTopicCount(int(c), int(t), int(n), when, rep, cust)
        for c, t, n, when, rep, cust in session.execute(query).all()
    ]


def customer_segments(session: Session, customer_ids: Collection[int]) -> dict[int, str | None]:
    """Each customer's segment key in the newest finished segment run (customers not in it are left out)."""
    run_id = session.exec(
        select(SegmentRun.id)
        .where(col(SegmentRun.status) == SegmentRunStatus.done)
        .order_by(col(SegmentRun.id).desc())
        .limit(1)
    ).first()
    if run_id is None or not customer_ids:
        return {}
    query = select(CustomerSegment.customer_id, CustomerSegment.segment_key).where(
        col(CustomerSegment.run_id) == run_id, col(CustomerSegment.customer_id).in_(list(customer_ids))
    )
    return {int(c): k for c, k in session.exec(query).all()}


@dataclass(frozen=True)
class Quote:
    """An utterance quoted for a topic: its call, when it was said, its redacted text and similarity to the topic."""

    utterance_id: int
    call_id: int
    took_place: datetime
    start_s: float
    text_redacted: str | None
    score: float


def quotes(session: Session, topic_id: int, visibility: CallVisibility | None, *, limit: int = 5) -> list[Quote]:
    """The utterances closest to the topic's centroid among the calls ``visibility`` lets one see."""
    took_place = func.coalesce(col(Call.recorded_at), col(Call.created_at))
    query = (
        sa_select(
            col(UtteranceTopic.utterance_id),
            col(UtteranceTopic.call_id),
            took_place,
            col(Utterance.start),
            col(Utterance.text_redacted),
            col(UtteranceTopic.score),
        )
        .join(Utterance, col(Utterance.id) == col(UtteranceTopic.utterance_id))
        .join(Call, col(Call.id) == col(UtteranceTopic.call_id))
        .where(col(UtteranceTopic.topic_id) == topic_id, col(Call.purged_at).is_(None))
        .order_by(col(UtteranceTopic.score).desc(), col(UtteranceTopic.utterance_id))
        .limit(limit)
    )
    where = visible(visibility) if visibility is not None else None
    if where is not None:
        query = query.where(where)
    return [
        Quote(int(u), int(c), when, float(s0), t, float(s)) for u, c, when, s0, t, s in session.execute(query).all()
    ]


def retire(session: Session, topic_ids: Sequence[int], *, merged_into: dict[int, int] | None = None) -> None:
    """Retire topics no refit continued (``merged_into``: the topic each was folded into)."""
    for topic_id in topic_ids:
        topic = session.get(Topic, topic_id)
        if topic is None:
            continue
        topic.active = False
        topic.merged_into_id = (merged_into or {}).get(topic_id)
        save_topic(session, topic)


@dataclass(frozen=True)
class CallsTopic:
    """One topic of ``side`` across a set of calls: utterances, calls, the last time it was said."""

    topic_id: int
    label: str
    keywords: list[str]
    utterances: int
    calls: int
    last: datetime


def topics_of_calls(session: Session, side: str, call_ids: Collection[int]) -> list[CallsTopic]:
    """The active topics of ``side`` said in these calls, the most utterances first."""
    if not call_ids:
        return []
    took_place = func.coalesce(col(Call.recorded_at), col(Call.created_at))
    query = (
        sa_select(
            col(UtteranceTopic.topic_id),
            func.count(),
            func.count(func.distinct(UtteranceTopic.call_id)),
            func.max(took_place),
        )
        .join(Call, col(Call.id) == col(UtteranceTopic.call_id))
        .join(Topic, col(Topic.id) == col(UtteranceTopic.topic_id))
        .where(
            col(UtteranceTopic.side) == side,
            col(UtteranceTopic.call_id).in_(list(call_ids)),
            col(Topic.active).is_(True),
        )
        .group_by(col(UtteranceTopic.topic_id))
    )
    counts = {int(t): (int(n), int(c), when) for t, n, c, when in session.execute(query).all()}
    topics = {t.id: t for t in session.exec(select(Topic).where(col(Topic.id).in_(list(counts)))).all()}
    out = [
        CallsTopic(t, topics[t].label, [str(k[0]) for k in topics[t].keywords or [] if k], n, c, when)
        for t, (n, c, when) in counts.items()
        if t in topics
    ]
    return sorted(out, key=lambda x: (-x.calls, -x.utterances, x.topic_id))


def call_quotes(session: Session, topic_id: int, call_ids: Collection[int], *, limit: int = 2) -> list[Quote]:
    """The utterances of these calls closest to the topic's centroid."""
    if not call_ids:
        return []
    took_place = func.coalesce(col(Call.recorded_at), col(Call.created_at))
    query = (
        sa_select(
            col(UtteranceTopic.utterance_id),
            col(UtteranceTopic.call_id),
            took_place,
            col(Utterance.start),
            col(Utterance.text_redacted),
            col(UtteranceTopic.score),
        )
        .join(Utterance, col(Utterance.id) == col(UtteranceTopic.utterance_id))
        .join(Call, col(Call.id) == col(UtteranceTopic.call_id))
        .where(col(UtteranceTopic.topic_id) == topic_id, col(UtteranceTopic.call_id).in_(list(call_ids)))
        .order_by(col(UtteranceTopic.score).desc(), col(UtteranceTopic.utterance_id))
        .limit(limit)
    )
    return [
        Quote(int(u), int(c), when, float(s0), t, float(s)) for u, c, when, s0, t, s in session.execute(query).all()
    ]
