"""The customer record's topics and win patterns through a real server (SQLite and PostgreSQL): an uploaded call
with a deal, its transcript and minutes, customer-side topics fitted on stored vectors, the deal won, win patterns
computed over decided deals; the record shows the call's topics, needs and next actions, and the significant
patterns matched (with the utterance) or missed. A manager of another team reads none of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from api.main import create_app
from insight.db import session_scope
from insight.nlp.embeddings import Embedder, build_embedder
from insight.patterns import service as patterns_service
from insight.patterns.corpora import persuasion_for_good
from insight.repositories import customers as customers_repo
from insight.repositories import patterns as patterns_repo
from insight.runtime import Runtime
from insight.topics import service as topics_service
from models import CustomerSegment, Speaker, Utterance
from tests.api.test_deals import REDACTED, upload, write_minutes
from tests.conftest import SHARED_DATA, shared
from tests.fixtures import auth, bad_audio
from tests.fixtures.patterns import load_deals
from tests.fixtures.server import serving
from tests.insight.topics.conftest import Corpus, load_corpus, store_calls

PFG = SHARED_DATA / "conversations" / "en" / "persuasionforgood"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return build_embedder()


@pytest.fixture(scope="module")
def corpus(embedder: Embedder) -> Corpus:
    return load_corpus(embedder)


def test_customer_record_shows_topics_and_win_patterns(
    runtime: Runtime, tmp_path: Path, embedder: Embedder, corpus: Corpus
) -> None:
    engine = runtime.engine
    with session_scope(engine) as s:
        customer, _ = customers_repo.upsert(s, source="import", external_id="C-77", values={"name": "株式会社サンプル"})
        customer_id = customer.id
    admin = auth.admin(runtime)
    west_rep = auth.make_user(runtime, "rep.west@example.com", role="rep", team="west")
    west_boss = auth.make_user(runtime, "boss.west@example.com", role="manager", team="west")
    east_boss = auth.make_user(runtime, "boss.east@example.com", role="manager", team="east")
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    wav = bad_audio.good_wav(tmp_path / "w.wav", seconds=2.0, channels=1)
    with serving(app) as base, httpx.Client(base_url=base, timeout=60) as client:

        def insights(who: auth.Account) -> dict[str, Any]:
            r = client.get(f"/api/customers/{customer_id}", headers=who.headers)
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()["insights"]
            return body

        call_id = upload(client, west_rep, wav, "visit.wav", customer_external_id="C-77", deal_external_id="D-7")
        write_minutes(runtime, call_id)  # utterances 0 and 1 are the customer's (S2), 2 the rep's (S1)
        with session_scope(engine) as s:
            s.add_all(
                [
                    Speaker(call_id=call_id, label="S2", role="customer"),
                    Speaker(call_id=call_id, label="S1", role="rep"),
                ]
            )
            # What the customer said beside the minutes' lines: small talk the fitted topics know.
            said_texts = corpus.texts[:3]
            s.add_all(
                Utterance(
                    call_id=call_id,
                    idx=3 + i,
                    start=20.0 + 5 * i,
                    end=24.0 + 5 * i,
                    speaker="S2",
                    text=text,
                    text_redacted="〔済〕" + text,
                )
                for i, text in enumerate(said_texts)
            )

        # Topics: fitted on other calls' customer utterances, then the new call assigned (its text embedded).
        store_calls(engine, corpus.texts, corpus.matrix, first=500)
        assert topics_service.fit_topics(engine, model=embedder.name, trigger="test").status == "done"
        with session_scope(engine) as s:
            assigned = topics_service.assign_call(s, call_id, model=embedder.name, embedder=embedder)
        assert assigned.get("customer", 0) >= 3  # the rep's line is not the customer side

        # The deal is won; win patterns over 300 decided dialogues plus this deal, the customer in the "middle"
        # RFM segment.
        r = client.get("/api/deals", params={"customer": "C-77"}, headers=west_boss.headers)
        (deal,) = r.json()["data"]
        r = client.patch(f"/api/deals/{deal['id']}", json={"outcome": "won"}, headers=west_boss.headers)
        assert r.status_code == 200, r.text
        load_deals(runtime, persuasion_for_good(shared(PFG), segmentation="income").deals[:300], rfm=True)
        with session_scope(engine) as s:
            segment_run = patterns_repo.latest_segment_run(s)
            assert segment_run is not None
            assert segment_run.id is not None
            s.add(
                CustomerSegment(
                    run_id=segment_run.id,
                    customer_id=customer_id,
                    recency_days=1,
                    frequency=1,
                    monetary=1.0,
                    r_score=3,
                    f_score=3,
                    m_score=3,
                    segment_key="middle",
                    decile=5,
                    ltv=1.0,
                    orders=1,
                    returns=0,
                    first_purchase_at=segment_run.as_of,
                    last_purchase_at=segment_run.as_of,
                )
            )
        run = patterns_service.compute_patterns(engine, segmentation="rfm")
        assert run.status == "done"
        with Session(engine) as s:
            significant = [
                p
                for p in patterns_repo.patterns(s, run.id or 0, segment="middle", significant_only=True)
                if p.kind == "binary" and p.source == "lexical"
            ]
        assert len(significant) >= 2, "the corpus gives significant word patterns"
        said, unsaid = significant[0], significant[1]
        word = said.feature.removeprefix("word:")

        west = insights(west_boss)
        # Topics: the call's customer utterances, quoted redacted, with the call and time.
        assert west["topics"], west
        assert sum(t["utterances"] for t in west["topics"]) == assigned["customer"]
        counts = [t["utterances"] for t in west["topics"]]
        assert counts == sorted(counts, reverse=True)
        quotes = [q for t in west["topics"] for q in t["quotes"]]
        assert quotes
        assert {q["quote"] for q in quotes} <= {*REDACTED[:2], *("〔済〕" + t for t in said_texts)}
        assert {q["call_id"] for q in quotes} == {call_id}
        assert all(q["view"] == "redacted" and q["start"] >= 0 for q in quotes)
        assert all(t["calls"] == 1 and t["label"] and t["keywords"] for t in west["topics"])
        assert west["needs"][0]["text"] == "SFAとの連携"
        assert west["next_actions"][0]["text"] == "見積書を送付"
        # Patterns: the Japanese call says none of the English words yet.
        by_feature = {p["feature"]: p for p in west["win_patterns"]}
        assert by_feature[said.feature]["status"] == "missed"
        assert by_feature[said.feature]["segment"] == "middle"
        assert by_feature[said.feature]["q"] == pytest.approx(said.q)
        assert by_feature[said.feature]["shrunk"] == pytest.approx(said.shrunk)

        # The customer says the word in the call (as a re-analysis writes it): the next read shows it matched.
        with session_scope(engine) as s:
            line = Utterance(
                call_id=call_id,
                idx=9,
                start=42.0,
                end=45.0,
                speaker="S2",
                text=f"We {word} it.",
                text_redacted=f"We {word} it.",
            )
            s.add(line)
            s.flush()
            line_id = line.id
        west = insights(west_boss)
        by_feature = {p["feature"]: p for p in west["win_patterns"]}
        matched = by_feature[said.feature]
        assert matched["status"] == "matched"
        (evidence,) = matched["evidence"]
        assert (evidence["call_id"], evidence["utterance_id"], evidence["start"]) == (call_id, line_id, 42.0)
        assert word in evidence["text"]
        assert by_feature[unsaid.feature]["status"] == "missed"  # "We <word> it." says one content word
        assert all(p["status"] in {"matched", "missed", "measured"} for p in west["win_patterns"])

        # Another team's manager: no topic, no pattern, no quote of the call.
        east = insights(east_boss)
        assert east["topics"] == []
        assert east["win_patterns"] == []
        r = client.get(f"/api/customers/{customer_id}", headers=east_boss.headers)
        assert REDACTED[0] not in r.text
        assert f"We {word}" not in r.text
        assert insights(admin)["topics"]
