"""Who may see what: every call endpoint refuses other reps, other teams' managers and sync tokens; originals are
for the owner and admins; every route outside a short public list needs credentials (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.main import create_app
from insight.db import session_scope
from insight.nlp.minutes.schemas import MinutesDoc
from insight.repositories import transcripts as transcripts_repo
from insight.runtime import Runtime
from models import AuditEvent, Minutes, Utterance
from tests.fixtures import auth, bad_audio

PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("POST", "/api/auth/login")}


@dataclass
class World:
    client: TestClient
    runtime: Runtime
    admin: auth.Account
    rep_a: auth.Account
    rep_b: auth.Account
    manager_east: auth.Account
    manager_west: auth.Account
    sync: auth.Account
    call_id: int


@pytest.fixture
def world(runtime: Runtime, tmp_path: Path) -> Iterator[World]:
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    accounts = {
        "admin": auth.admin(runtime),
        "rep_a": auth.make_user(runtime, "rep.a@example.com", role="rep", team="east"),
        "rep_b": auth.make_user(runtime, "rep.b@example.com", role="rep", team="east"),
        "manager_east": auth.make_user(runtime, "boss.east@example.com", role="manager", team="east"),
        "manager_west": auth.make_user(runtime, "boss.west@example.com", role="manager", team="west"),
        # A sync service account: a manager's token limited to the sync scope.
        "sync": auth.make_user(runtime, "sync@example.com", role="manager", team="ops", scopes=["sync"]),
    }
    with TestClient(app) as client:
        wav = bad_audio.good_wav(tmp_path / "b.wav", seconds=2.0, channels=2)
        with wav.open("rb") as fh:
            r = client.post(
                "/api/calls",
                files={"file": ("b.wav", fh)},
                data={"rep_channel": "left"},
                headers=accounts["rep_b"].headers,
            )
        assert r.status_code == 201, r.text
        call_id = r.json()["id"]
        assert r.json()["owner_id"] == accounts["rep_b"].user_id
        assert r.json()["rep"] == "rep.b@example.com"  # the voice-profile key defaults to the uploader
        with session_scope(runtime.engine) as s:
            transcripts_repo.replace_for_call(
                s,
                call_id,
                [
                    Utterance(
                        call_id=call_id,
                        idx=0,
                        start=0.0,
                        end=1.0,
                        channel=0,
                        speaker="S1",
                        text="田中です。電話は090-1234-5678です。",
                        text_redacted="[氏名]です。電話は[電話番号]です。",
                        words=[{"start": 0.0, "end": 0.5, "text": "田中", "probability": 0.9}],
                    )
                ],
            )
            s.add(
                Minutes(
                    call_id=call_id,
                    language="ja",
                    backend="offline",
                    content=MinutesDoc(language="ja", reference_date=date(2026, 11, 25), notice="田中様").model_dump(
                        mode="json"
                    ),
                    content_redacted=MinutesDoc(
                        language="ja", reference_date=date(2026, 11, 25), notice="[氏名]様"
                    ).model_dump(mode="json"),
                    generated_at=datetime.now(UTC),
                )
            )
        yield World(client, runtime, call_id=call_id, **accounts)


def call_requests(client: TestClient, call_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation of every path with {call_id} in the OpenAPI document, plus the call page."""
    out: list[tuple[str, str, dict[str, Any]]] = [("GET", f"/calls/{call_id}", {})]
    bodies: dict[str, dict[str, Any]] = {
        "PATCH /api/calls/{call_id}/speakers": {"json": {"speakers": [{"label": "S1", "role": "rep"}]}},
        "PUT /api/admin/calls/{call_id}/owner": {"json": {"owner_id": 1}},
    }
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        if "{call_id}" not in path:
            continue
        for method in ops:
            key = f"{method.upper()} {path}"
            out.append((method.upper(), path.replace("{call_id}", str(call_id)), bodies.get(key, {})))
    return out


def test_no_one_else_reaches_a_reps_call(world: World) -> None:
    requests = call_requests(world.client, world.call_id)
    assert len(requests) >= 7, requests  # call, transcript, retry, audio, speakers (2), metrics, page, admin owner
    for who in (world.rep_a, world.manager_west, world.sync):
        for method, url, kwargs in requests:
            r = world.client.request(method, url, headers={**who.headers, "Accept": "application/json"}, **kwargs)
            assert r.status_code in (403, 404), (who.email, method, url, r.status_code, r.text)
            if url.startswith("/api/"):
                error = r.json()["error"]
                assert error["message"], (method, url, error)
                assert error["hint"], (method, url, error)
    # Listing shows nothing of rep B's to the others.
    for who in (world.rep_a, world.manager_west):
        listing = world.client.get("/api/calls", headers=who.headers).json()
        assert listing["count"] == 0
        assert world.call_id not in [c["id"] for c in listing["data"]]
        page = world.client.get("/", headers=who.headers)
        assert page.status_code == 200
        assert "b.wav" not in page.text
    # The sync token cannot read audio, transcripts or lists of calls: it lacks the calls scope altogether.
    r = world.client.get(f"/api/calls/{world.call_id}/audio", headers=world.sync.headers)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "missing_scope"
    assert world.client.get("/api/calls", headers=world.sync.headers).status_code == 403
    # ...but it reaches the sync endpoints.
    assert world.client.get("/api/customers/999", headers=world.sync.headers).status_code == 404
    assert world.client.get("/api/segments/runs", headers=world.sync.headers).status_code == 200


def test_owner_manager_and_admin(world: World) -> None:
    c, call_id = world.client, world.call_id
    for who in (world.rep_b, world.manager_east, world.admin):
        assert c.get(f"/api/calls/{call_id}", headers=who.headers).status_code == 200, who.email
        assert c.get(f"/calls/{call_id}", headers=who.headers).status_code == 200, who.email
        assert c.get(f"/api/calls/{call_id}/speakers", headers=who.headers).status_code == 200, who.email
    assert c.get("/api/calls", headers=world.manager_east.headers).json()["count"] == 1
    assert c.get("/api/calls", headers=world.rep_b.headers).json()["count"] == 1

    # The team's manager reads the redacted transcript, without word timings (they carry the original words)...
    t = c.get(f"/api/calls/{call_id}/transcript", headers=world.manager_east.headers).json()
    assert t["view"] == "redacted"
    assert t["utterances"][0]["text"] == "[氏名]です。電話は[電話番号]です。"
    assert t["utterances"][0]["words"] == []
    page = c.get(f"/calls/{call_id}", headers=world.manager_east.headers).text
    assert "090-1234-5678" not in page
    assert "[電話番号]" in page
    # ...and neither the original text nor the audio.
    for url in (f"/api/calls/{call_id}/transcript?view=original", f"/api/calls/{call_id}/audio"):
        r = c.get(url, headers=world.manager_east.headers)
        assert r.status_code == 403, url
        assert r.json()["error"]["code"] == "original_forbidden"

    # The owner and admins get the originals; each read is audited.
    for who in (world.rep_b, world.admin):
        t = c.get(f"/api/calls/{call_id}/transcript", headers=who.headers).json()
        assert t["view"] == "original"
        assert "090-1234-5678" in t["utterances"][0]["text"]
        assert c.get(f"/api/calls/{call_id}/transcript?view=redacted", headers=who.headers).json()["view"] == (
            "redacted"
        )
        audio = c.get(f"/api/calls/{call_id}/audio", headers=who.headers)
        assert audio.status_code == 200
        assert audio.content[:4] == b"RIFF"
    with Session(world.runtime.engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.object_id == str(call_id))).all()
    reads = {(e.action, e.actor_user_id) for e in events}
    for who in (world.rep_b, world.admin):
        assert ("call.audio_read", who.user_id) in reads
        assert ("call.original_read", who.user_id) in reads
    assert not {a for a, u in reads if u == world.manager_east.user_id}

    # Someone else uploading the same bytes gets a call of their own, exactly as for bytes no one uploaded: the
    # answer says nothing of rep B's call (the stored file is shared, the call is not).
    sha = c.get(f"/api/calls/{call_id}", headers=world.admin.headers).json()["sha256"]
    with world.runtime.store.path_for(sha).open("rb") as fh:
        r = c.post("/api/calls", files={"file": ("copy.wav", fh)}, headers=world.rep_a.headers)
    assert r.status_code == 201, r.text
    copy = r.json()
    assert copy["id"] != call_id
    assert copy["duplicate"] is False
    assert copy["owner_id"] == world.rep_a.user_id
    assert copy["filename"] == "copy.wav"
    assert (copy["status"], copy["stage"]) == ("queued", None)
    assert c.get(f"/api/calls/{call_id}", headers=world.rep_a.headers).status_code == 404
    assert [x["id"] for x in c.get("/api/calls", headers=world.rep_a.headers).json()["data"]] == [copy["id"]]
    # Rep A's own second upload of it is their first call again; rep B's is still rep B's.
    with world.runtime.store.path_for(sha).open("rb") as fh:
        again = c.post("/api/calls", files={"file": ("again.wav", fh)}, headers=world.rep_a.headers)
    assert (again.status_code, again.json()["id"], again.json()["duplicate"]) == (200, copy["id"], True)
    with world.runtime.store.path_for(sha).open("rb") as fh:
        mine = c.post("/api/calls", files={"file": ("b2.wav", fh)}, headers=world.rep_b.headers)
    assert (mine.status_code, mine.json()["id"]) == (200, call_id)
    assert len(list(world.runtime.store.iter_files())) == 1


def test_calls_without_an_owner_are_for_admins_until_assigned(world: World, tmp_path: Path) -> None:
    from insight.calls.service import UploadMeta, ingest

    wav = bad_audio.good_wav(tmp_path / "old.wav", seconds=1.5, channels=1)
    with wav.open("rb") as fh:  # as a call from before accounts existed: no owner
        legacy = ingest(world.runtime, fh, UploadMeta(filename="old.wav")).call.id
    c = world.client
    for who in (world.rep_a, world.rep_b, world.manager_east):
        assert c.get(f"/api/calls/{legacy}", headers=who.headers).status_code == 404
    assert c.get(f"/api/calls/{legacy}", headers=world.admin.headers).status_code == 200
    r = c.put(f"/api/admin/calls/{legacy}/owner", json={"owner_id": world.rep_a.user_id}, headers=world.admin.headers)
    assert r.status_code == 204
    assert c.get(f"/api/calls/{legacy}", headers=world.rep_a.headers).status_code == 200
    assert c.put(
        f"/api/admin/calls/{legacy}/owner", json={"owner_id": world.rep_a.user_id}, headers=world.rep_a.headers
    ).status_code in (403, 404)


def test_every_route_needs_credentials(world: World) -> None:
    client = TestClient(world.client.app)
    paths = client.get("/openapi.json").json()["paths"]
    checked = 0
    for path, ops in paths.items():
        url = path
        for name in ("call_id", "customer_id", "user_id", "token_id", "key"):
            url = url.replace("{" + name + "}", "1")
        for method in ops:
            if (method.upper(), path) in PUBLIC:
                continue
            r = client.request(method.upper(), url)
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.json()["error"]["code"] == "unauthorized"
            checked += 1
    assert checked >= 25
    assert client.get("/metrics").status_code == 401
    page = client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")


def test_scopes_by_area(world: World) -> None:
    c = world.client
    # Reps have no insight or sync scopes: segments, customers, imports and admin are closed to them.
    for method, url in (
        ("GET", "/api/segments"),
        ("GET", "/api/customers/1"),
        ("POST", "/api/imports/transactions"),
        ("GET", "/api/admin/users"),
        ("GET", "/api/admin/audit"),
        ("GET", "/metrics"),
    ):
        r = c.request(method, url, headers=world.rep_a.headers)
        assert r.status_code == 403, (method, url, r.text)
        assert r.json()["error"]["code"] == "missing_scope"
    # Managers read insights but do not administer, and definitions need admin.
    assert c.get("/api/segments/runs", headers=world.manager_east.headers).status_code == 200
    assert c.get("/api/admin/users", headers=world.manager_east.headers).status_code == 403
    r = c.put("/api/segments/definitions/champions", json={"label_en": "Best"}, headers=world.manager_east.headers)
    assert r.status_code == 403
    assert c.get("/metrics", headers=world.manager_east.headers).status_code == 200


def test_original_minutes_reads_are_audited_once_per_minute(world: World) -> None:
    """Original minutes: owner and admins only; a reader's reloads within a minute are one audited read."""
    c, call_id = world.client, world.call_id
    url = f"/api/calls/{call_id}/minutes"
    assert c.get(url, headers=world.manager_east.headers).json()["minutes"]["notice"] == "[氏名]様"
    assert c.get(f"{url}?view=original", headers=world.manager_east.headers).status_code == 403
    for _ in range(3):
        r = c.get(f"{url}?view=original", headers=world.admin.headers)
        assert r.status_code == 200
        assert r.json()["minutes"]["notice"] == "田中様"
    assert c.get(f"{url}?view=original", headers=world.rep_b.headers).json()["minutes"]["notice"] == "田中様"
    with Session(world.runtime.engine) as s:
        events = s.exec(
            select(AuditEvent).where(AuditEvent.object_id == str(call_id), AuditEvent.action == "call.original_read")
        ).all()
    assert sorted(e.actor_user_id or 0 for e in events) == sorted([world.admin.user_id, world.rep_b.user_id])
