"""Win patterns through a real HTTP server: managers and admins read them with evidence; reps are refused."""

from __future__ import annotations

import httpx

from api.main import create_app
from insight.patterns import service
from insight.patterns.corpora import persuasion_for_good
from insight.runtime import Runtime
from tests.conftest import SHARED_DATA, shared
from tests.fixtures import auth
from tests.fixtures.patterns import load_deals
from tests.fixtures.server import serving

PFG = SHARED_DATA / "conversations" / "en" / "persuasionforgood"


def test_manager_reads_win_patterns_with_evidence_and_a_rep_is_refused(runtime: Runtime) -> None:
    corpus = persuasion_for_good(shared(PFG), segmentation="age")
    load_deals(runtime, corpus.deals[:200], rfm=True)
    manager = auth.make_user(runtime, "manager@example.com", role="manager", team="east")
    rep = auth.make_user(runtime, "rep@example.com", role="rep", team="east")
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        # Nothing computed yet: a clear 404 with a hint.
        missing = client.get("/api/insights/win-patterns", headers=manager.headers)
        assert missing.status_code == 404
        assert "insights compute" in missing.json()["error"]["hint"]
        run = service.compute_patterns(runtime.engine, segmentation="rfm", options=service.ComputeOptions(max_words=30))

        answer = client.get("/api/insights/win-patterns", params={"segmentation": "rfm"}, headers=manager.headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["run"]["id"] == run.id
        assert body["run"]["segment_run_id"] == run.segment_run_id
        assert body["run"]["tests"] == run.tests
        assert body["data"]
        assert all(p["tested"] for p in body["data"])
        with_evidence = [p for p in body["data"] if p["evidence"]]
        assert with_evidence
        quote = with_evidence[0]["evidence"][0]
        assert quote["call_id"] is not None
        assert quote["text"]

        one = client.get(
            "/api/insights/win-patterns", params={"segmentation": "rfm", "segment": "30-39"}, headers=manager.headers
        )
        assert one.status_code == 200
        assert {p["segment"] for p in one.json()["data"]} == {"30-39"}
        bad = client.get("/api/insights/win-patterns", params={"segmentation": "colour"}, headers=manager.headers)
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "invalid_segmentation"

        refused = client.get("/api/insights/win-patterns", headers=rep.headers)
        assert refused.status_code == 403
        assert client.get("/api/insights/win-patterns").status_code == 401
