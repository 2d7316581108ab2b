"""Every feature source from the database (SQLite and PostgreSQL): trackers, customer topics, talk metrics and
minutes fields, on a generated corpus where the pricing tracker and an agreed next action truly raise the win rate."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlmodel import Session

from insight.db import session_scope
from insight.patterns import service
from insight.patterns.types import ALL_SEGMENTS
from insight.runtime import Runtime
from models import CallMetrics, Customer, Deal, Minutes, Speaker, Utterance
from models.topic import Topic, UtteranceTopic
from models.tracker import Tracker, TrackerHit
from tests.fixtures.rows import processed_call


def _load(runtime: Runtime, n: int = 160) -> None:
    rng = np.random.default_rng(42)
    with session_scope(runtime.engine) as s:
        tracker = Tracker(name="price question", phrases=["price"])
        topic = Topic(side="customer", label="onboarding", keywords=[], centroid=[])
        s.add_all([tracker, topic])
        s.flush()
        for i in range(n):
            pricing = bool(rng.random() < 0.5)
            agreed = bool(rng.random() < 0.5)
            onboarding = bool(rng.random() < 0.4)
            won = bool(rng.random() < 0.15 + 0.35 * pricing + 0.3 * agreed)
            customer = Customer(name=f"c{i}", properties={"region": "east" if i % 2 else "west"})
            s.add(customer)
            s.flush()
            deal = Deal(customer_id=customer.id, source="crm", external_id=f"D{i}", outcome="won" if won else "lost")
            call = processed_call(50_000 + i, f"call-{i}.wav")
            s.add_all([deal, call])
            s.flush()
            assert call.id is not None
            call.deal_id = deal.id
            s.add_all(
                [
                    Speaker(call_id=call.id, label="S1", role="rep"),
                    Speaker(call_id=call.id, label="S2", role="customer"),
                ]
            )
            lines = [
                "What would the price be for [PERSON]?" if pricing else "We looked at the brochure.",
                "Onboarding our team takes time." if onboarding else "That sounds fine.",
            ]
            utterances = [
                Utterance(
                    call_id=call.id, idx=j, start=10.0 * j, end=10.0 * j + 5, speaker="S2", text=t, text_redacted=t
                )
                for j, t in enumerate(lines)
            ]
            s.add_all(utterances)
            s.flush()
            if pricing:
                s.add(
                    TrackerHit(
                        tracker_id=tracker.id,
                        call_id=call.id,
                        utterance_id=utterances[0].id,
                        phrase="price",
                        kind="exact",
                        score=1.0,
                        side="customer",
                    )
                )
            if onboarding:
                s.add(
                    UtteranceTopic(
                        utterance_id=utterances[1].id, call_id=call.id, topic_id=topic.id, side="customer", score=0.8
                    )
                )
            s.add(
                CallMetrics(
                    call_id=call.id,
                    metrics={
                        "talk_ratio": float(rng.uniform(0.3, 0.8)),
                        "questions": {"rep": int(rng.integers(0, 9)), "customer": 2},
                    },
                    computed_at=datetime(2024, 5, 1, tzinfo=UTC),
                )
            )
            item = {
                "text": "Send the proposal by Friday",
                "utterance_ids": [utterances[1].id],
                "start": 10.0,
                "confidence": 0.9,
                "owner": {"role": "rep"},
            }
            content = {"next_actions": [item] if agreed else [], "competitors": []}
            s.add(
                Minutes(
                    call_id=call.id,
                    language="en",
                    backend="offline",
                    content=content,
                    content_redacted=content,
                    generated_at=datetime(2024, 5, 1, tzinfo=UTC),
                )
            )


def test_trackers_topics_metrics_and_minutes_become_patterns_with_evidence(runtime: Runtime) -> None:
    _load(runtime)
    run = service.compute_patterns(runtime.engine, segmentation="customer.region")
    assert set(run.parameters["sources"]) == {"lexical", "tracker", "topic", "talk_metrics", "minutes"}
    with Session(runtime.engine) as session:
        _, rows = service.pattern_table(session, segmentation="customer.region", segment=ALL_SEGMENTS)
    by_feature = {r.feature: r for r in rows}
    pricing = by_feature["tracker:price question"]
    assert pricing.source == "tracker"
    assert pricing.significant
    assert pricing.effect > 0
    assert pricing.evidence[0]["text"] == "What would the price be for [PERSON]?"
    assert pricing.evidence[0]["won"] is True
    agreed = by_feature["minutes:next_action_agreed"]
    assert agreed.significant
    assert agreed.evidence[0]["text"] == "Send the proposal by Friday"
    topic = next(r for f, r in by_feature.items() if f.startswith("topic:") and f.endswith("onboarding"))
    assert topic.tested
    assert not topic.significant  # onboarding was drawn independently of the outcome
    ratio = by_feature["metric:talk_ratio"]
    assert ratio.kind == "numeric"
    assert ratio.p is not None
    assert ratio.evidence
    assert ratio.evidence[0]["text"] is None
    assert ratio.evidence[0]["value"] is not None
    assert by_feature["metric:rep_questions"].tested
