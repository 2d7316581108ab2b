"""Win patterns of the decided deals, per segment: computed from the calls of each deal and stored with their run.

A run reads every won or lost deal with the calls linked to it, labels each deal with its segment under the chosen
segmentation, asks each feature source for its columns, runs the statistics (:mod:`insight.patterns.engine`) and
stores one row per feature and segment with the evidence of the tested ones. The run records the data it used:
the segment run its labels came from, the counts and the parameters.

Segmentations:

* ``rfm``: the customer's named segment in the newest completed segment run;
* ``decile``: the customer's monetary decile in that run (``decile_1`` = top tenth);
* ``customer.<key>``: a customer column (``country``, ``company``) or CRM property;
* ``deal.<key>``: a deal column (``stage``, ``owner``, ``source``, ``currency``) or property;
* ``all``: one segment holding every deal.

Only redacted text leaves this module: customer utterances without redacted text (the analyze stage has not run,
or redaction is off) contribute no words and no quotes.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from insight.db import session_scope
from insight.errors import InvalidRequest, NotFound
from insight.patterns.engine import FeatureColumn, win_patterns
from insight.patterns.features import (
    DealFacts,
    FeatureSource,
    LexicalSource,
    MarkerSource,
    MinutesSource,
    Quote,
    TalkMetricsSource,
)
from insight.patterns.types import ALL_SEGMENTS, Pattern, PatternOptions
from insight.repositories import patterns as patterns_repo
from models import Customer, CustomerSegment, Deal, Utterance
from models.base import utcnow
from models.pattern import PatternRun, PatternRunStatus, WinPattern

log = logging.getLogger(__name__)

SEGMENTATIONS = ("rfm", "decile", "all")
CUSTOMER_COLUMNS = ("country", "company")
DEAL_COLUMNS = ("stage", "owner", "source", "currency")
UNCLASSIFIED = "unclassified"
NO_CUSTOMER = "no_customer"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class ComputeOptions:
    """What a run computes: the statistics' options, the words kept and how many evidence quotes a pattern gets."""

    patterns: PatternOptions = PatternOptions()
    # Every word is a test in the run's correction: 50 well-supported words keep the power (bench/win_patterns_eval).
    max_words: int = 50
    min_word_deals: int = 10
    evidence_limit: int = 3


def check_segmentation(segmentation: str) -> str:
    """``segmentation`` when it is one this service knows, else InvalidRequest naming the choices."""
    key = segmentation.strip()
    if key in SEGMENTATIONS:
        return key
    for prefix in ("customer.", "deal."):
        if key.startswith(prefix) and len(key) > len(prefix) and len(key) <= 128:
            return key
    raise InvalidRequest(
        f"unknown segmentation {segmentation!r}",
        code="invalid_segmentation",
        hint="use rfm, decile, all, customer.<attribute> or deal.<attribute>",
    )


def default_sources(options: ComputeOptions) -> list[FeatureSource]:
    """The feature sources of a run: customer words, trackers, customer topics, talk metrics and minutes fields."""
    return [
        LexicalSource(min_deals=options.min_word_deals, max_features=options.max_words),
        MarkerSource("tracker", min_deals=options.patterns.min_support),
        MarkerSource("topic", min_deals=options.patterns.min_support),
        TalkMetricsSource(),
        MinutesSource(),
    ]


def _attribute(record: Customer | Deal | None, key: str, columns: Sequence[str]) -> str:
    if record is None:
        return NO_CUSTOMER
    value = getattr(record, key) if key in columns else (record.properties or {}).get(key)
    if value is None or value == "":
        return UNKNOWN
    return str(value)[:128]


def _segment_label(
    segmentation: str,
    deal: Deal,
    customers: dict[int, Customer],
    segments: dict[int, CustomerSegment],
) -> str:
    if segmentation == "all":
        return ALL_SEGMENTS
    if segmentation.startswith("deal."):
        return _attribute(deal, segmentation.removeprefix("deal."), DEAL_COLUMNS)
    customer = customers.get(deal.customer_id) if deal.customer_id is not None else None
    if segmentation.startswith("customer."):
        return _attribute(customer, segmentation.removeprefix("customer."), CUSTOMER_COLUMNS)
    if customer is None:
        return NO_CUSTOMER
    row = segments.get(deal.customer_id) if deal.customer_id is not None else None
    if row is None:
        return UNCLASSIFIED
    if segmentation == "decile":
        return f"decile_{row.decile}"
    return row.segment_key or UNCLASSIFIED


def _strip_item_text(doc: Any) -> Any:
    # Minutes without a redacted form: their items still count as features, but their text is not quoted.
    if isinstance(doc, dict):
        return {k: (None if k == "text" else _strip_item_text(v)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_strip_item_text(v) for v in doc]
    return doc


def _quote(u: Utterance) -> Quote:
    return Quote(call_id=u.call_id, utterance_id=u.id, start=u.start, text=u.text_redacted)


def load_facts(session: Session, segmentation: str) -> tuple[list[DealFacts], int | None]:
    """Every decided deal with its segment label and its calls' customer utterances, metrics and minutes.

    Returns:
        The facts, one per deal, and the id of the segment run the labels came from (rfm and decile only).

    Raises:
        NotFound: For ``rfm`` or ``decile`` when no segment run has completed.
    """
    deals = patterns_repo.decided_deals(session)
    customers = patterns_repo.customers(session, (d.customer_id for d in deals if d.customer_id is not None))
    segment_run_id: int | None = None
    segments: dict[int, CustomerSegment] = {}
    if segmentation in {"rfm", "decile"}:
        run = patterns_repo.latest_segment_run(session)
        if run is None or run.id is None:
            raise NotFound(
                "no segment run has completed yet",
                hint="compute segments first: insight segments compute",
                object_type="segment_run",
            )
        segment_run_id = run.id
        segments = patterns_repo.customer_segments(session, run.id)
    deal_ids = [d.id for d in deals if d.id is not None]
    calls = patterns_repo.deal_calls(session, deal_ids)
    call_deal = {c.id: c.deal_id for c in calls if c.id is not None}
    call_ids = list(call_deal)
    said: dict[int, list[Quote]] = defaultdict(list)
    for u in patterns_repo.customer_utterances(session, call_ids):
        deal_id = call_deal[u.call_id]
        if deal_id is not None:
            said[deal_id].append(_quote(u))
    metrics: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for m in patterns_repo.call_metrics(session, call_ids):
        deal_id = call_deal[m.call_id]
        if deal_id is not None:
            metrics[deal_id].append((m.call_id, m.metrics))
    minutes: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for doc in patterns_repo.minutes(session, call_ids):
        deal_id = call_deal[doc.call_id]
        if deal_id is not None:
            content = doc.content_redacted if doc.content_redacted is not None else _strip_item_text(doc.content)
            minutes[deal_id].append((doc.call_id, content))
    markers: dict[int, list[tuple[str, Quote]]] = defaultdict(list)
    for name, u in patterns_repo.tracker_hits(session, call_ids):
        deal_id = call_deal[u.call_id]
        if deal_id is not None:
            markers[deal_id].append((f"tracker:{name}"[:255], _quote(u)))
    for topic_id, label, u in patterns_repo.customer_topics(session, call_ids):
        deal_id = call_deal[u.call_id]
        if deal_id is not None:
            markers[deal_id].append((f"topic:{topic_id} {label}"[:255], _quote(u)))
    facts = [
        DealFacts(
            deal_id=d.id,
            won=d.outcome == "won",
            segment=_segment_label(segmentation, d, customers, segments),
            customer_utterances=said.get(d.id, []),
            metrics=list(metrics.get(d.id, [])),
            minutes=list(minutes.get(d.id, [])),
            markers=markers.get(d.id, []),
        )
        for d in deals
        if d.id is not None
    ]
    return facts, segment_run_id


def _evidence(
    pattern: Pattern,
    column: FeatureColumn,
    source: FeatureSource,
    facts: Sequence[DealFacts],
    limit: int,
) -> list[dict[str, Any]]:
    """Quotes from deals that show the pattern: deals with the feature (numeric: above the median) whose outcome
    goes the way of the effect, one quote per deal first.
    """
    values = column.values
    known = ~np.isnan(values)
    threshold = float(np.median(values[known])) if column.kind == "numeric" and known.any() else 0.5
    want_won = pattern.effect >= 0
    out: list[dict[str, Any]] = []
    for deal, value in zip(facts, values, strict=True):
        if len(out) >= limit:
            break
        if math.isnan(value) or value <= threshold or deal.won != want_won:
            continue
        if pattern.segment != ALL_SEGMENTS and deal.segment != pattern.segment:
            continue
        for quote in source.evidence(pattern.feature, deal, 1):
            out.append({"deal_id": deal.deal_id, "won": deal.won, **asdict(quote)})
    return out


def compute_patterns(
    engine: Engine,
    *,
    segmentation: str = "rfm",
    options: ComputeOptions | None = None,
    sources: Sequence[FeatureSource] | None = None,
    trigger: str = "manual",
) -> PatternRun:
    """Compute and store the win patterns of every decided deal for ``segmentation``.

    Args:
        engine: The database.
        segmentation: ``rfm``, ``decile``, ``all``, ``customer.<key>`` or ``deal.<key>``.
        options: Statistics options, words kept, evidence per pattern.
        sources: Feature sources (default: :func:`default_sources`).
        trigger: What started the run (manual, cli, periodic), stored with it.

    Returns:
        The completed run.

    Raises:
        InvalidRequest: For an unknown segmentation.
        NotFound: For ``rfm`` or ``decile`` before any segment run.
    """
    key = check_segmentation(segmentation)
    opts = options or ComputeOptions()
    feature_sources = list(sources) if sources is not None else default_sources(opts)
    parameters = {
        "q_max": opts.patterns.q_max,
        "min_support": opts.patterns.min_support,
        "haldane": opts.patterns.haldane,
        "max_words": opts.max_words,
        "min_word_deals": opts.min_word_deals,
        "sources": [s.name for s in feature_sources],
        "unit": "deal",
    }
    with session_scope(engine) as session:
        facts, segment_run_id = load_facts(session, key)
        run = patterns_repo.start_run(session, segmentation=key, trigger=trigger, parameters=parameters)
        run.segment_run_id = segment_run_id
        run_id = run.id
    assert run_id is not None
    try:
        columns: list[tuple[FeatureColumn, FeatureSource]] = []
        for source in feature_sources:
            columns.extend((c, source) for c in source.columns(facts))
        by_name = {c.name: (c, s) for c, s in columns}
        result = win_patterns(
            [f.won for f in facts], [f.segment for f in facts], [c for c, _ in columns], opts.patterns
        )
        rows = []
        for p in result.patterns:
            column, source = by_name[p.feature]
            evidence = _evidence(p, column, source, facts, opts.evidence_limit) if p.tested else []
            rows.append(WinPattern(run_id=run_id, source=source.name, evidence=evidence, **asdict(p)))
        with session_scope(engine) as session:
            patterns_repo.add_patterns(session, rows)
            stored = patterns_repo.get_run(session, run_id)
            assert stored is not None
            stored.status = PatternRunStatus.done
            stored.deals = len(facts)
            stored.won = sum(f.won for f in facts)
            stored.lost = len(facts) - stored.won
            stored.features = len(columns)
            stored.tests = result.tests
            stored.significant = sum(p.significant for p in result.patterns)
            stored.finished_at = utcnow()
            session.add(stored)
    except Exception as exc:
        log.exception("win pattern run %s failed", run_id)
        with session_scope(engine) as session:
            patterns_repo.fail_run(session, run_id, f"{type(exc).__name__}: {exc}")
        raise
    with Session(engine) as session:
        done = patterns_repo.get_run(session, run_id)
        assert done is not None
        return done


def pattern_table(
    session: Session,
    *,
    segmentation: str = "rfm",
    segment: str | None = None,
    run_id: int | None = None,
    significant_only: bool = False,
) -> tuple[PatternRun, list[WinPattern]]:
    """The patterns of a run (default: the newest completed run of ``segmentation``), optionally of one segment.

    Raises:
        InvalidRequest: For an unknown segmentation.
        NotFound: When there is no such run, or none was computed for the segmentation.
    """
    key = check_segmentation(segmentation)
    run = patterns_repo.get_run(session, run_id) if run_id is not None else patterns_repo.latest_run(session, key)
    if run is None or run.id is None or run.status != PatternRunStatus.done:
        raise NotFound(
            f"no win patterns computed for segmentation {key!r}" if run_id is None else f"no pattern run {run_id}",
            hint="compute them first: insight insights compute --segmentation " + key,
            object_type="pattern_run",
            object_id=run_id,
        )
    return run, patterns_repo.patterns(session, run.id, segment=segment, significant_only=significant_only)


@dataclass(frozen=True)
class CustomerPattern:
    """A significant win pattern of a customer's segment, and whether this customer's calls show its feature.

    ``status`` is ``matched`` (a binary feature the calls have; ``evidence`` cites where), ``missed`` (a binary
    feature the calls do not have yet) or ``measured`` (a numeric feature: ``value`` is the customer's mean over the
    calls that have it, None when none has).
    """

    pattern_id: int
    run_id: int
    segmentation: str
    segment: str
    feature: str
    kind: str
    source: str
    status: str
    effect: float
    shrunk: float
    q: float | None
    win_rate_with: float | None
    win_rate_without: float | None
    value: float | None
    evidence: list[dict[str, Any]]


def _facts_of_calls(session: Session, call_ids: Sequence[int], segment: str) -> DealFacts:
    """The facts of a set of calls taken as one deal (its outcome is not read)."""
    ids = list(call_ids)
    minutes = [
        (doc.call_id, doc.content_redacted if doc.content_redacted is not None else _strip_item_text(doc.content))
        for doc in patterns_repo.minutes(session, ids)
    ]
    markers = [(f"tracker:{name}"[:255], _quote(u)) for name, u in patterns_repo.tracker_hits(session, ids)]
    markers += [
        (f"topic:{topic_id} {label}"[:255], _quote(u))
        for topic_id, label, u in patterns_repo.customer_topics(session, ids)
    ]
    return DealFacts(
        deal_id="customer",
        won=False,
        segment=segment,
        customer_utterances=[_quote(u) for u in patterns_repo.customer_utterances(session, ids)],
        metrics=[(m.call_id, m.metrics) for m in patterns_repo.call_metrics(session, ids)],
        minutes=minutes,
        markers=markers,
    )


def customer_patterns(
    session: Session,
    customer_id: int,
    call_ids: Sequence[int],
    *,
    segmentation: str = "rfm",
    evidence_limit: int = 2,
) -> list[CustomerPattern]:
    """The significant win patterns of the customer's segment, each matched or missed by these calls.

    The patterns come from the newest completed run of ``segmentation`` (else of ``all``): the rows of the
    customer's segment in the segment run that pattern run used, or the all-segment rows when that segment has no
    significant pattern (or the customer has no segment). Only ``call_ids`` count as evidence: pass the calls the
    reader may see (none: no patterns).

    Args:
        session: a database session.
        customer_id: the customer.
        call_ids: the customer's calls that count.
        segmentation: ``rfm`` (default) or another segmentation whose label is the customer's segment key.
        evidence_limit: how many utterances a matched pattern cites.

    Returns:
        The patterns, strongest shrunk effect first; empty when no run has completed.
    """
    if not call_ids:
        return []  # nothing the reader may see to compare with, and no reason to show them anything
    key = check_segmentation(segmentation)
    run = patterns_repo.latest_run(session, key)
    if run is None and key != "all":
        run = patterns_repo.latest_run(session, "all")  # before any segmented run, the pooled one
    if run is None or run.id is None:
        return []
    segment = UNCLASSIFIED
    segment_run_id = run.segment_run_id
    if segment_run_id is not None:
        row = patterns_repo.customer_segment(session, segment_run_id, customer_id)
        if row is not None:
            segment = (f"decile_{row.decile}" if run.segmentation == "decile" else row.segment_key) or UNCLASSIFIED
    rows = patterns_repo.patterns(session, run.id, segment=segment, significant_only=True)
    if not rows:
        rows = patterns_repo.patterns(session, run.id, segment=ALL_SEGMENTS, significant_only=True)
    if not rows:
        return []
    facts = _facts_of_calls(session, call_ids, segment)
    sources: dict[str, FeatureSource] = {s.name: s for s in default_sources(ComputeOptions())}
    out: list[CustomerPattern] = []
    for p in rows:
        assert p.id is not None
        source = sources.get(p.source)
        quotes = source.evidence(p.feature, facts, 1_000) if source is not None else []
        value: float | None = None
        if p.kind == "numeric":
            values = [q.value for q in quotes if q.value is not None]
            value = float(np.mean(values)) if values else None
            status = "measured"
        else:
            status = "matched" if quotes else "missed"
        out.append(
            CustomerPattern(
                pattern_id=p.id,
                run_id=run.id,
                segmentation=run.segmentation,
                segment=p.segment,
                feature=p.feature,
                kind=p.kind,
                source=p.source,
                status=status,
                effect=p.effect,
                shrunk=p.shrunk,
                q=p.q,
                win_rate_with=p.win_rate_with,
                win_rate_without=p.win_rate_without,
                value=value,
                evidence=[asdict(q) for q in quotes[:evidence_limit]],
            )
        )
    out.sort(key=lambda c: -abs(c.shrunk))
    return out
