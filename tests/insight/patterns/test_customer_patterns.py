"""One customer's calls against the significant win patterns (SQLite and PostgreSQL): without a segmented run the
pooled run's all-segment patterns apply; a binary feature is matched with the utterance that shows it or missed,
and no visible call means no pattern.
"""

from __future__ import annotations

from sqlmodel import Session, select

from insight.patterns import service
from insight.patterns.corpora import persuasion_for_good
from insight.patterns.features import tokens
from insight.patterns.types import ALL_SEGMENTS
from insight.runtime import Runtime
from models import Call
from tests.conftest import SHARED_DATA, shared
from tests.fixtures.patterns import load_deals

PFG = SHARED_DATA / "conversations" / "en" / "persuasionforgood"


def test_customer_patterns_match_the_calls_words(runtime: Runtime) -> None:
    deals = persuasion_for_good(shared(PFG), segmentation="income").deals
    ids = load_deals(runtime, deals)
    with Session(runtime.engine) as s:
        assert service.customer_patterns(s, 1, [1]) == []  # nothing computed yet
    run = service.compute_patterns(runtime.engine, segmentation="all")
    with Session(runtime.engine) as s:
        calls = {c.deal_id: c for c in s.exec(select(Call)).all()}
        checked = 0
        for row in deals[:40]:
            call = calls[ids[str(row.deal_id)]]
            assert call.id is not None
            assert call.customer_id is not None
            found = service.customer_patterns(s, call.customer_id, [call.id])  # rfm: no run, the pooled one
            assert found, "the corpus gives significant patterns on all rows"
            said = set().union(*(tokens(u.text or "") for u in row.customer_utterances))
            for p in found:
                assert (p.run_id, p.segment, p.segmentation) == (run.id, ALL_SEGMENTS, "all")
                if p.source != "lexical":
                    continue
                word = p.feature.removeprefix("word:")
                assert p.status == ("matched" if word in said else "missed")
                if p.status == "matched":
                    assert p.evidence
                    assert all(e["call_id"] == call.id and word in tokens(e["text"]) for e in p.evidence)
                    checked += 1
                else:
                    assert p.evidence == []
            assert service.customer_patterns(s, call.customer_id, []) == []  # no visible call
        assert checked > 0
