"""Win patterns computed from the database (SQLite and PostgreSQL) on a public dialogue corpus, with their run."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from insight.errors import InvalidRequest, NotFound
from insight.patterns import service
from insight.patterns.corpora import persuasion_for_good
from insight.patterns.engine import win_patterns
from insight.patterns.features import LexicalSource
from insight.patterns.types import ALL_SEGMENTS
from insight.runtime import Runtime
from tests.conftest import SHARED_DATA, shared
from tests.fixtures.patterns import load_deals

PFG = SHARED_DATA / "conversations" / "en" / "persuasionforgood"


def test_patterns_from_the_database_match_the_engine_and_carry_evidence(runtime: Runtime) -> None:
    corpus = persuasion_for_good(shared(PFG), segmentation="income")
    deals = corpus.deals[:300]
    load_deals(runtime, deals)
    with pytest.raises(NotFound):
        service.compute_patterns(runtime.engine, segmentation="rfm")  # no segment run yet
    with pytest.raises(InvalidRequest):
        service.compute_patterns(runtime.engine, segmentation="colour")

    options = service.ComputeOptions(max_words=40)
    run = service.compute_patterns(runtime.engine, segmentation="customer.segment", options=options)
    assert run.status == "done"
    assert run.deals == 300
    assert run.won == sum(d.won for d in deals)
    assert run.parameters["unit"] == "deal"
    assert run.parameters["q_max"] == 0.1

    # The same rows through the engine alone give the same statistics.
    columns = LexicalSource(max_features=40).columns(deals)
    direct = {
        (p.feature, p.segment): p
        for p in win_patterns([d.won for d in deals], [d.segment for d in deals], columns).patterns
    }
    with Session(runtime.engine) as session:
        stored_run, rows = service.pattern_table(session, segmentation="customer.segment")
        assert stored_run.id == run.id
        assert run.features == len(columns)
        assert run.tests == sum(p.tested for p in direct.values())
        assert {(r.feature, r.segment) for r in rows} == set(direct)
        for r in rows:
            expected = direct[(r.feature, r.segment)]
            assert r.effect == pytest.approx(expected.effect)
            assert r.shrunk == pytest.approx(expected.shrunk)
            assert (r.q is None) == (expected.q is None)
            if r.q is not None:
                assert r.q == pytest.approx(expected.q)
            assert r.significant == expected.significant
        tested = [r for r in rows if r.tested]
        assert tested
        assert all(r.evidence for r in tested if r.n_with > 0)
        # Evidence quotes the customer's redacted utterance containing the word, with its call and time.
        sample = next(r for r in tested if r.source == "lexical" and r.segment == ALL_SEGMENTS)
        quote = sample.evidence[0]
        assert quote["call_id"] is not None
        assert quote["start"] >= 1.0
        assert sample.feature.removeprefix("word:") in quote["text"].lower()
        assert quote["won"] == (sample.effect >= 0)
        one = service.pattern_table(session, segmentation="customer.segment", segment="low")[1]
        assert one
        assert {r.segment for r in one} == {"low"}
        with pytest.raises(NotFound):
            service.pattern_table(session, segmentation="deal.stage")


def test_rfm_segmentation_records_the_segment_run(runtime: Runtime) -> None:
    corpus = persuasion_for_good(shared(PFG), segmentation="age")
    load_deals(runtime, corpus.deals[:120], rfm=True)
    run = service.compute_patterns(runtime.engine, segmentation="rfm", options=service.ComputeOptions(max_words=10))
    assert run.segment_run_id is not None
    with Session(runtime.engine) as session:
        _, rows = service.pattern_table(session, segmentation="rfm")
    assert {r.segment for r in rows} >= {ALL_SEGMENTS, "30-39"}


@pytest.mark.parametrize("segmentation", ["rfm", "decile", "all", "customer.industry", "deal.stage"])
def test_known_segmentations_are_accepted(segmentation: str) -> None:
    assert service.check_segmentation(segmentation) == segmentation
