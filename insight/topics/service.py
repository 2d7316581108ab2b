"""Topics across calls: fit and refit per side, assign a new call, and the shares people read.

The topics of customers and of reps are fitted apart, on the stored utterance vectors of the configured embedding
model (``insight.repositories.embeddings``, written by the analyze stage). A fit reads the vectors in bounded
batches, keeps a seeded random sample of at most ``sample_size`` substantive utterances (backchannels never count),
fits on it, matches the new topics to those in force (same id and label for a topic found again), then assigns every
utterance of the side batch by batch. Memory is bounded by the sample, whatever the number of calls. A new call is
assigned to the topics in force without a refit: each utterance to its nearest topic centroid, if close enough.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine
from sqlmodel import Session

from insight.db import session_scope
from insight.errors import InsightError, InsufficientData, InvalidRequest, NotFound
from insight.nlp.embeddings import Embedder
from insight.repositories import embeddings as embeddings_repo
from insight.repositories import topics as topics_repo
from insight.repositories.calls import CallVisibility
from insight.topics import engine as topic_engine
from insight.topics.matching import KnownTopic, match_topics
from insight.topics.types import FitResult, FloatMatrix, Method, Side, TopicMatch, TopicOptions
from insight.topics.vectorizer import is_substantive
from models import Topic, TopicFitRun

log = logging.getLogger(__name__)

Bucket = Literal["week", "month"]
LABEL_WORDS = 3
MAX_LABEL = 255


def parse_side(value: str) -> Side:
    """The side named ``value``.

    Raises:
        InvalidRequest: not ``customer`` or ``rep``.
    """
    try:
        return Side(value)
    except ValueError:
        raise InvalidRequest(f"Unknown side {value!r}.", hint="Use 'customer' or 'rep'.") from None


def auto_label(keywords: Sequence[Sequence[object]]) -> str:
    """A topic's label until someone names it: its first keywords."""
    words = [str(k[0]) for k in keywords[:LABEL_WORDS]]
    return " / ".join(words) if words else "(no keywords)"


# -- fitting ----------------------------------------------------------------------------------------------------------
@dataclass
class _Sample:
    """A seeded reservoir: the rows with the ``size`` smallest random keys seen so far."""

    size: int
    rng: np.random.Generator
    keys: npt.NDArray[np.float64]
    utterance_ids: npt.NDArray[np.int64]
    matrix: FloatMatrix | None
    texts: list[str]
    seen: int = 0

    def add(self, ids: npt.NDArray[np.int64], matrix: FloatMatrix, texts: list[str]) -> None:
        self.seen += len(ids)
        keys = np.concatenate([self.keys, self.rng.random(len(ids))])
        all_ids = np.concatenate([self.utterance_ids, ids])
        all_rows = matrix if self.matrix is None else np.vstack([self.matrix, matrix])
        all_texts = self.texts + texts
        keep = np.argsort(keys, kind="stable")[: self.size]
        self.keys, self.utterance_ids, self.matrix = keys[keep], all_ids[keep], all_rows[keep]
        self.texts = [all_texts[i] for i in keep]


def _substantive_batches(
    session: Session, model: str, side: Side, batch_size: int
) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatMatrix, list[str]]]:
    """The side's stored vectors in batches, backchannels left out: (utterance ids, call ids, vectors, texts)."""
    for batch in embeddings_repo.iter_batches(session, model, roles=[side.value], batch_size=batch_size):
        texts = topics_repo.texts(session, batch.utterance_ids.tolist())
        keep = [i for i, uid in enumerate(batch.utterance_ids.tolist()) if is_substantive(texts.get(uid, ""))]
        if keep:
            idx = np.asarray(keep, dtype=np.int64)
            yield (
                batch.utterance_ids[idx],
                batch.call_ids[idx],
                batch.matrix[idx],
                [texts[int(u)] for u in batch.utterance_ids[idx]],
            )


def fit_topics(
    engine: Engine,
    *,
    model: str,
    side: Side = Side.customer,
    options: TopicOptions | None = None,
    trigger: str = "manual",
) -> TopicFitRun:
    """Fit (or refit) the topics of ``side`` on the stored vectors of ``model`` and assign every utterance.

    Args:
        engine: the database.
        model: the embedding model whose stored vectors are read (``Settings.embedding_model``).
        side: whose utterances.
        options: how to fit (sample size, method, thresholds).
        trigger: what started the fit (``cli``, ``api``, ``periodic``), kept on the run.

    Returns:
        The finished run with its counts of new, kept, merged, split and retired topics and its outlier share.

    Raises:
        InsufficientData: fewer substantive utterances with vectors than a fit needs (the run is marked failed).
        InsightError: the fit failed (the run is marked failed with the error).
    """
    options = options or TopicOptions()
    with session_scope(engine) as session:
        run = topics_repo.create_run(
            session, side=side.value, model=model, method=options.method.value, trigger=trigger
        )
        assert run.id is not None
        run_id = run.id
    started = time.monotonic()
    try:
        with session_scope(engine) as session:
            run = _fit_in(session, run_id, model=model, side=side, options=options)
            run.duration_s = time.monotonic() - started
            session.add(run)
    except Exception as exc:
        with session_scope(engine) as session:
            topics_repo.fail_run(session, run_id, f"{type(exc).__name__}: {exc}")
        if isinstance(exc, InsightError):
            raise
        raise InsightError(
            f"Topic fit {run_id} failed: {exc}", hint="See the server log.", code="topics_failed"
        ) from exc
    log.info(
        "topic fit %s (%s): %d topics on %d of %d utterances (%d kept, %d new, %d merged, %d split), "
        "%.1f%% without a topic, in %.1f s",
        run_id,
        side.value,
        run.topics,
        run.sample_size,
        run.utterances,
        run.kept,
        run.new,
        run.merged,
        run.split,
        100 * run.outlier_share,
        run.duration_s or 0.0,
    )
    return run


def _fit_in(session: Session, run_id: int, *, model: str, side: Side, options: TopicOptions) -> TopicFitRun:
    sample = _Sample(
        size=options.sample_size,
        rng=np.random.default_rng(options.seed),
        keys=np.empty(0),
        utterance_ids=np.empty(0, dtype=np.int64),
        matrix=None,
        texts=[],
    )
    for utterance_ids, _calls, matrix, texts in _substantive_batches(session, model, side, options.batch_size):
        sample.add(utterance_ids, matrix, texts)
    if sample.matrix is None or len(sample.texts) < topic_engine.MIN_FIT_UTTERANCES:
        raise InsufficientData(
            f"Only {len(sample.texts)} {side.value} utterances with {model!r} vectors to fit topics on; "
            f"at least {topic_engine.MIN_FIT_UTTERANCES} are needed.",
            hint="Upload and analyse more calls (the analyze stage stores the vectors), then fit again.",
        )
    previous = topics_repo.active_topics(session, side.value)
    known = [
        KnownTopic(int(t.id or 0), np.asarray(t.centroid, dtype=np.float32), [str(k[0]) for k in t.keywords])
        for t in previous
        if t.centroid
    ]
    seed_centroids = np.vstack([k.centroid for k in known]) if known and options.method is Method.pca_kmeans else None
    result = topic_engine.fit_topics(sample.texts, sample.matrix, options, previous_centroids=seed_centroids)
    match = match_topics(known, result.topics, options.match_similarity)
    topic_ids = _store_topics(session, run_id, side, result, match)
    # Every utterance again, batch by batch, against the new centroids.
    centroids = np.vstack([t.centroid for t in result.topics]) if result.topics else np.zeros((0, 1), np.float32)
    topics_repo.clear_side(session, side.value)
    assigned = outliers = 0
    for utterance_ids, call_ids, matrix, _texts in _substantive_batches(session, model, side, options.batch_size):
        found = topic_engine.assign(matrix, centroids, result.threshold)
        hit = found.positions >= 0
        assigned += len(found.positions)
        outliers += int(np.sum(~hit))
        topics_repo.add_assignments(
            session,
            side.value,
            (
                (int(u), int(c), topic_ids[int(p)], float(s))
                for u, c, p, s in zip(
                    utterance_ids[hit], call_ids[hit], found.positions[hit], found.scores[hit], strict=True
                )
            ),
        )
    sizes = topics_repo.topic_sizes(session, side.value)
    for topic_id in topic_ids:
        topic = topics_repo.get_topic(session, topic_id)
        if topic is not None:
            topic.size = sizes.get(topic_id, 0)
            topics_repo.save_topic(session, topic)
    run = topics_repo.get_run(session, run_id)
    assert run is not None
    run.status = "done"
    run.finished_at = datetime.now(UTC)
    run.utterances = sample.seen
    run.sample_size = len(sample.texts)
    run.topics = len(result.topics)
    run.kept = len(match.kept)
    run.new = len(match.new)
    run.split = len(match.split)
    run.merged = sum(len(v) for v in match.merged.values())
    run.retired = len(match.retired) - run.merged
    run.outliers_before = result.outliers_before
    run.outlier_share = outliers / assigned if assigned else 0.0
    run.threshold = result.threshold
    run.calls_at_fit = topics_repo.assigned_calls(session, side.value)
    session.add(run)
    session.flush()
    return run


def _store_topics(session: Session, run_id: int, side: Side, result: FitResult, match: TopicMatch) -> list[int]:
    """Write the fit's topics (continuing the matched ones) and retire the rest; their ids by fit position."""
    ids: list[int] = []
    for j, fitted in enumerate(result.topics):
        keywords = [[w, round(s, 6)] for w, s in fitted.keywords]
        topic: Topic | None = None
        if j in match.kept:
            topic = topics_repo.get_topic(session, match.kept[j])
        if topic is None:
            topic = Topic(side=side.value, label="", split_from_id=match.split.get(j))
        topic.keywords = keywords
        topic.centroid = [float(x) for x in fitted.centroid]
        topic.size = fitted.size
        topic.active = True
        topic.fit_run_id = run_id
        if not topic.label_edited:
            topic.label = auto_label(keywords)
        topics_repo.save_topic(session, topic)
        assert topic.id is not None
        ids.append(topic.id)
    merged_into = {old: ids[j] for j, olds in match.merged.items() for old in olds}
    topics_repo.retire(session, match.retired, merged_into=merged_into)
    return ids


# -- a new call ------------------------------------------------------------------------------------------------------
def assign_call(session: Session, call_id: int, *, model: str, embedder: Embedder | None = None) -> dict[str, int]:
    """Assign a call's utterances to the topics in force, per side, without a refit.

    The call's stored vectors are used; utterances without one are embedded with ``embedder`` when it is the model
    the topics live in (else left out). Returns the utterances assigned a topic per side.
    """
    out: dict[str, int] = {}
    stored: embeddings_repo.EmbeddingBatch | None = None
    for side in Side:
        run = topics_repo.latest_run(session, side.value)
        topics = topics_repo.active_topics(session, side.value)
        topics_repo.clear_call(session, call_id, side.value)
        if run is None or not topics:
            continue
        utterances = [u for u in topics_repo.call_utterances(session, call_id, side.value) if is_substantive(u.text)]
        if not utterances:
            out[side.value] = 0
            continue
        if stored is None:
            stored = embeddings_repo.for_call(session, call_id, run.model)
        row_of = {int(u): i for i, u in enumerate(stored.utterance_ids.tolist())}
        missing = [u for u in utterances if u.id not in row_of]
        extra: FloatMatrix | None = None
        if missing and embedder is not None and embedder.name == run.model:
            extra = embedder.encode([u.text for u in missing])
        rows: list[FloatMatrix] = []
        ids: list[int] = []
        for u in utterances:
            if u.id in row_of:
                rows.append(stored.matrix[row_of[u.id]])
                ids.append(u.id)
        if extra is not None:
            rows.extend(extra)
            ids.extend(u.id for u in missing)
        if not rows:
            out[side.value] = 0
            continue
        centroids = np.vstack([np.asarray(t.centroid, dtype=np.float32) for t in topics])
        found = topic_engine.assign(np.vstack(rows), centroids, run.threshold)
        out[side.value] = topics_repo.add_assignments(
            session,
            side.value,
            (
                (uid, call_id, int(topics[int(p)].id or 0), float(s))
                for uid, p, s in zip(ids, found.positions, found.scores, strict=True)
                if p >= 0
            ),
        )
    return out


def refit_due(session: Session, side: Side, *, every_calls: int, max_age_s: float, now: datetime | None = None) -> bool:
    """Is ``side`` due for a refit: never fitted, ``every_calls`` calls assigned since, or the fit too old?"""
    run = topics_repo.latest_run(session, side.value)
    if run is None:
        return True
    now = now or datetime.now(UTC)
    if run.finished_at is not None and (now - run.finished_at).total_seconds() >= max_age_s:
        return True
    return topics_repo.assigned_calls(session, side.value) - run.calls_at_fit >= every_calls


# -- what people read ------------------------------------------------------------------------------------------------
def latest_run(session: Session, side: Side) -> TopicFitRun | None:
    """The newest finished fit of ``side`` (None before the first)."""
    return topics_repo.latest_run(session, side.value)


def list_runs(session: Session, *, limit: int = 20) -> list[TopicFitRun]:
    """Topic fits of both sides, newest first."""
    return topics_repo.list_runs(session, limit=limit)


@dataclass(frozen=True)
class TopicShare:
    """A topic with its utterances and calls among the visible calls, and its share of the side's utterances."""

    topic: Topic
    utterances: int
    calls: int
    share: float


@dataclass(frozen=True)
class GroupShare:
    """A topic's utterances within one group (a segment, a rep, a week or month) and its share of the group's."""

    group: str
    utterances: int
    total: int
    share: float


@dataclass(frozen=True)
class TopicDetail:
    """A topic with its representative quotes, its share over time, per segment and per rep."""

    topic: Topic
    share: TopicShare
    quotes: list[topics_repo.Quote]
    trend: list[GroupShare]
    segments: list[GroupShare]
    reps: list[GroupShare]


def period_start(when: datetime, bucket: Bucket) -> date:
    """The first day of the ISO week (Monday) or month ``when`` falls in (UTC)."""
    day = when.astimezone(UTC).date()
    return day - timedelta(days=day.weekday()) if bucket == "week" else day.replace(day=1)


def list_topics(session: Session, side: Side, visibility: CallVisibility | None) -> list[TopicShare]:
    """The topics in force for ``side`` with their shares over the calls ``visibility`` lets one see."""
    counts = topics_repo.call_topic_counts(session, side.value, visibility)
    total = sum(c.utterances for c in counts)
    utterances: dict[int, int] = defaultdict(int)
    calls: dict[int, set[int]] = defaultdict(set)
    for c in counts:
        utterances[c.topic_id] += c.utterances
        calls[c.topic_id].add(c.call_id)
    return [
        TopicShare(
            topic=t,
            utterances=utterances[t.id or 0],
            calls=len(calls[t.id or 0]),
            share=utterances[t.id or 0] / total if total else 0.0,
        )
        for t in topics_repo.active_topics(session, side.value)
    ]


def _group_shares(counts: list[topics_repo.CallTopicCount], topic_id: int, key: dict[int, str]) -> list[GroupShare]:
    totals: dict[str, int] = defaultdict(int)
    mine: dict[str, int] = defaultdict(int)
    for c in counts:
        group = key.get(c.call_id)
        if group is None:
            continue
        totals[group] += c.utterances
        if c.topic_id == topic_id:
            mine[group] += c.utterances
    return [GroupShare(g, mine[g], totals[g], mine[g] / totals[g] if totals[g] else 0.0) for g in sorted(totals)]


def get_topic(session: Session, topic_id: int) -> Topic:
    """The topic with this id.

    Raises:
        NotFound: no such topic.
    """
    topic = topics_repo.get_topic(session, topic_id)
    if topic is None:
        raise NotFound(
            f"Topic {topic_id} does not exist.",
            hint="List topics with GET /api/topics.",
            object_type="topic",
            object_id=topic_id,
        )
    return topic


def topic_detail(
    session: Session,
    topic_id: int,
    visibility: CallVisibility | None,
    *,
    bucket: Bucket = "week",
    quotes: int = 5,
) -> TopicDetail:
    """A topic's keywords, quotes (from visible calls only), trend and shares per segment and rep.

    Raises:
        NotFound: no such topic.
    """
    topic = get_topic(session, topic_id)
    counts = topics_repo.call_topic_counts(session, topic.side, visibility)
    total = sum(c.utterances for c in counts)
    mine = [c for c in counts if c.topic_id == topic_id]
    n = sum(c.utterances for c in mine)
    share = TopicShare(topic, n, len({c.call_id for c in mine}), n / total if total else 0.0)
    period = {c.call_id: period_start(c.took_place, bucket).isoformat() for c in counts}
    rep = {c.call_id: c.rep or "(unknown)" for c in counts}
    segment_of = topics_repo.customer_segments(session, {c.customer_id for c in counts if c.customer_id is not None})
    segment = {
        c.call_id: (segment_of.get(c.customer_id) or "unclassified") if c.customer_id is not None else "no customer"
        for c in counts
    }
    return TopicDetail(
        topic=topic,
        share=share,
        quotes=topics_repo.quotes(session, topic_id, visibility, limit=quotes),
        trend=_group_shares(counts, topic_id, period),
        segments=_group_shares(counts, topic_id, segment),
        reps=_group_shares(counts, topic_id, rep),
    )


def update_label(session: Session, topic_id: int, label: str) -> Topic:
    """Name a topic; a refit that finds it again keeps the name.

    Raises:
        NotFound: no such topic.
        InvalidRequest: an empty or too long label.
    """
    label = label.strip()
    if not label or len(label) > MAX_LABEL:
        raise InvalidRequest(
            f"A topic label needs 1 to {MAX_LABEL} characters.", hint="Send a short name such as '価格交渉'."
        )
    topic = get_topic(session, topic_id)
    topic.label = label
    topic.label_edited = True
    return topics_repo.save_topic(session, topic)
