"""Trackers through a real server (SQLite and PostgreSQL): everyone who reads calls lists them, managers and admins
create, change and delete them and reps may not; a call's tracker counts and hits are stored per call, recomputed
after a tracker change, and shown only to those who may see the call."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlmodel import Session, col, select

from api.main import create_app
from insight.db import session_scope
from insight.model_holder import shared_models
from insight.runtime import Runtime
from insight.trackers import service as trackers_service
from models import AuditEvent, Minutes, Speaker, Utterance
from tests.fixtures import auth, bad_audio
from tests.fixtures.server import serving

# Real lines of ../shared/data/conversations/ja/real_persona_chat.
LINES = [
    ("S2", "そうですね、思ってた値段じゃなかったので次でいいかなっと"),
    ("S1", "本当にそうですよね。すごい正直に言うと、それをするとお金かかりますしね"),
    ("S2", "今日の天気はどうでしたか？"),
    ("S1", "雨が降って、何か涼しくなりましたね。"),
]


def store_analysed_call(runtime: Runtime, call_id: int) -> list[int]:
    """The call's utterances, speakers and minutes as the earlier stages and the analyze stage leave them."""
    with session_scope(runtime.engine) as s:
        s.add(Speaker(call_id=call_id, label="S1", role="rep"))
        s.add(Speaker(call_id=call_id, label="S2", role="customer"))
        rows = [
            Utterance(
                call_id=call_id, idx=i, start=i * 4.0, end=i * 4.0 + 3, speaker=spk, text=text, text_redacted=text
            )
            for i, (spk, text) in enumerate(LINES)
        ]
        s.add_all(rows)
        s.add(Minutes(call_id=call_id, language="ja", backend="offline", content={}, generated_at=datetime.now(UTC)))
        s.flush()
        return [u.id for u in rows if u.id is not None]


def recompute(runtime: Runtime) -> int:
    return trackers_service.recompute_stale(runtime.engine, shared_models().embedder())


def test_trackers_crud_authz_and_call_hits(runtime: Runtime, tmp_path: Path) -> None:
    admin = auth.admin(runtime)
    boss = auth.make_user(runtime, "boss.west@example.com", role="manager", team="west")
    rep = auth.make_user(runtime, "rep.west@example.com", role="rep", team="west")
    other = auth.make_user(runtime, "rep.east@example.com", role="rep", team="east")
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    wav = bad_audio.good_wav(tmp_path / "w.wav", seconds=2.0, channels=1)
    with serving(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        # Reps read; only managers and admins write.
        r = client.get("/api/trackers", headers=rep.headers)
        assert r.status_code == 200, r.text
        before = {t["name"] for t in r.json()["data"]}
        body = {"name": "料金の話", "phrases": ["値段", "ＰＲＩＣＥ", "値段 "], "side": "customer"}
        assert client.post("/api/trackers", json=body, headers=rep.headers).status_code == 403
        assert client.post("/api/trackers", json=body).status_code == 401
        r = client.post("/api/trackers", json=body, headers=boss.headers)
        assert r.status_code == 201, r.text
        created = r.json()
        tracker_id = created["id"]
        assert created["phrases"] == ["値段", "ＰＲＩＣＥ"]  # duplicates after normalisation are dropped
        assert (created["side"], created["semantic"], created["threshold"]) == ("customer", True, None)
        assert client.post("/api/trackers", json=body, headers=admin.headers).status_code == 409
        bad = client.post("/api/trackers", json={**body, "name": "x", "phrases": ["  "]}, headers=boss.headers)
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "invalid_tracker"
        assert client.post("/api/trackers", json={**body, "side": "both"}, headers=boss.headers).status_code == 422
        r = client.get("/api/trackers", headers=rep.headers)
        assert {t["name"] for t in r.json()["data"]} == before | {"料金の話"}
        assert client.get(f"/api/trackers/{tracker_id}", headers=rep.headers).json()["name"] == "料金の話"
        assert client.get("/api/trackers/999999", headers=rep.headers).status_code == 404

        # A rep's analysed call: its hits are computed and counted per tracker.
        with wav.open("rb") as fh:
            r = client.post("/api/calls", files={"file": ("c.wav", fh)}, headers=rep.headers)
        assert r.status_code == 201, r.text
        call_id = r.json()["id"]
        ids = store_analysed_call(runtime, call_id)
        r = client.get(f"/api/calls/{call_id}/trackers", headers=rep.headers)
        assert r.status_code == 200, r.text
        assert r.json()["computed"] is False
        assert recompute(runtime) == 1
        assert recompute(runtime) == 0  # nothing changed: nothing to recompute
        r = client.get(f"/api/calls/{call_id}/trackers", headers=rep.headers)
        assert r.json()["computed"] is True
        mine = next(t for t in r.json()["trackers"] if t["tracker_id"] == tracker_id)
        # Customer side only: the customer's 値段 line; the rep's money remark does not count.
        assert mine["count"] == 1
        assert mine["hits"] == [
            {"utterance_id": ids[0], "phrase": "値段", "kind": "exact", "score": 1.0, "side": "customer"}
        ]
        assert client.get(f"/api/calls/{call_id}/trackers", headers=boss.headers).status_code == 200
        assert client.get(f"/api/calls/{call_id}/trackers", headers=other.headers).status_code == 404

        # A change of the tracker makes every call's hits stale; the recomputation counts the rep's side now.
        r = client.patch(f"/api/trackers/{tracker_id}", json={"side": "any", "threshold": 0.9}, headers=rep.headers)
        assert r.status_code == 403
        r = client.patch(
            f"/api/trackers/{tracker_id}",
            json={"side": "any", "phrases": ["値段", "お金かかります"], "threshold": 0.9},
            headers=boss.headers,
        )
        assert r.status_code == 200, r.text
        assert (r.json()["side"], r.json()["threshold"]) == ("any", 0.9)
        r = client.patch(f"/api/trackers/{tracker_id}", json={"threshold": None}, headers=admin.headers)
        assert r.json()["threshold"] is None
        assert r.json()["phrases"] == ["値段", "お金かかります"]
        assert recompute(runtime) == 1
        mine = next(
            t
            for t in client.get(f"/api/calls/{call_id}/trackers", headers=rep.headers).json()["trackers"]
            if t["tracker_id"] == tracker_id
        )
        assert mine["count"] == 2
        assert [(h["utterance_id"], h["phrase"], h["side"]) for h in mine["hits"]] == [
            (ids[0], "値段", "customer"),
            (ids[1], "お金かかります", "rep"),
        ]

        # Deleting it drops its hits; reps may not.
        assert client.delete(f"/api/trackers/{tracker_id}", headers=rep.headers).status_code == 403
        assert client.delete(f"/api/trackers/{tracker_id}", headers=admin.headers).status_code == 204
        assert client.get(f"/api/trackers/{tracker_id}", headers=rep.headers).status_code == 404
        r = client.get(f"/api/calls/{call_id}/trackers", headers=rep.headers)
        assert tracker_id not in {t["tracker_id"] for t in r.json()["trackers"]}
    with Session(runtime.engine) as s:
        actions = s.exec(
            select(AuditEvent.action).where(col(AuditEvent.action).startswith("tracker.")).order_by(col(AuditEvent.id))
        ).all()
    assert list(actions) == ["tracker.create", "tracker.update", "tracker.update", "tracker.delete"]
