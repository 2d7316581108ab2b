"""Topics through a real HTTP server (SQLite and PostgreSQL): a manager fits and names topics, everyone who reads
calls reads topics, and quotes, shares and trends come only from the calls the reader may see, redacted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.main import create_app
from insight.nlp.embeddings import build_embedder
from insight.runtime import Runtime
from tests.fixtures import auth
from tests.fixtures.server import serving
from tests.insight.topics.conftest import REDACTED_MARK, Corpus, load_corpus, store_calls

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus(build_embedder())


def test_topics_respect_call_visibility(runtime: Runtime, corpus: Corpus) -> None:
    admin = auth.admin(runtime)
    west_rep = auth.make_user(runtime, "rep.west@example.com", role="rep", team="west")
    west_boss = auth.make_user(runtime, "boss.west@example.com", role="manager", team="west")
    east_rep = auth.make_user(runtime, "rep.east@example.com", role="rep", team="east")
    # 40 calls of 20 customer utterances, owned in turn by the west rep and the east rep.
    calls = store_calls(
        runtime.engine, corpus.texts[:800], corpus.matrix[:800], owners=(west_rep.user_id, east_rep.user_id)
    )
    west_calls, east_calls = set(calls[0::2]), set(calls[1::2])
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    with serving(app) as base, httpx.Client(base_url=base, timeout=120) as client:

        def get(who: auth.Account, path: str, **params: Any) -> Any:
            r = client.get(path, params=params, headers=who.headers)
            assert r.status_code == 200, r.text
            return r.json()

        # Before any fit: no topics, no run.
        assert get(west_rep, "/api/topics") == {"side": "customer", "run": None, "data": []}
        # Reps may not fit; managers may.
        assert client.post("/api/topics/fit", json={}, headers=west_rep.headers).status_code == 403
        r = client.post("/api/topics/fit", json={"side": "customer"}, headers=west_boss.headers)
        assert r.status_code == 201, r.text
        run = r.json()
        assert run["status"] == "done"
        assert run["topics"] == run["new"] >= 8
        assert client.post("/api/topics/fit", json={"side": "rep"}, headers=west_boss.headers).status_code == 409

        everything = get(admin, "/api/topics")
        assert everything["run"]["id"] == run["id"]
        assert len(everything["data"]) == run["topics"]
        assert abs(sum(t["share"] for t in everything["data"]) - 1.0) < 1e-6
        assert sum(t["calls"] > 0 for t in everything["data"]) == len(everything["data"])
        # A rep's shares are counted over their own calls only.
        mine = get(west_rep, "/api/topics")
        assert sum(t["utterances"] for t in mine["data"]) < sum(t["utterances"] for t in everything["data"])
        assert abs(sum(t["share"] for t in mine["data"]) - 1.0) < 1e-6

        topic_id = everything["data"][0]["id"]
        both = {west_rep.email, east_rep.email}
        for who, allowed, reps in (
            (west_rep, west_calls, {west_rep.email}),
            (east_rep, east_calls, {east_rep.email}),
            (west_boss, west_calls, {west_rep.email}),
            (admin, west_calls | east_calls, both),
        ):
            detail = get(who, f"/api/topics/{topic_id}", quotes=50, bucket="month")
            quoted = {q["call_id"] for q in detail["quotes"]}
            assert quoted, who.email
            assert quoted <= allowed, (who.email, quoted - allowed)
            assert all(q["text"].startswith(REDACTED_MARK) for q in detail["quotes"])
            scores = [q["score"] for q in detail["quotes"]]
            assert scores == sorted(scores, reverse=True)
            assert {g["group"] for g in detail["reps"]} == reps
            assert [g["group"] for g in detail["trend"]] == sorted(g["group"] for g in detail["trend"])
            assert {g["group"] for g in detail["segments"]} == {"no customer"}
        # The west rep's quotes never come from an east call, even with every quote asked for.
        west_view = get(west_rep, f"/api/topics/{topic_id}", quotes=50)
        assert not {q["call_id"] for q in west_view["quotes"]} & east_calls
        assert {g["group"] for g in west_view["reps"]} == {west_rep.email}

        # Naming a topic: managers and admins only; the name shows in the list.
        body = {"label": "価格の相談"}
        assert client.patch(f"/api/topics/{topic_id}", json=body, headers=west_rep.headers).status_code == 403
        r = client.patch(f"/api/topics/{topic_id}", json=body, headers=west_boss.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["label"], r.json()["label_edited"]) == ("価格の相談", True)
        listed = {t["id"]: t for t in get(east_rep, "/api/topics")["data"]}
        assert listed[topic_id]["label"] == "価格の相談"
        assert client.patch(f"/api/topics/{topic_id}", json={"label": ""}, headers=admin.headers).status_code == 422
        assert client.get("/api/topics/999999", headers=admin.headers).status_code == 404
        assert client.get("/api/topics", params={"side": "boss"}, headers=admin.headers).status_code == 422
        assert client.get("/api/topics").status_code == 401
