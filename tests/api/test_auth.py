"""Sign-in, sessions with CSRF and cookie flags, API tokens (hashed, scoped, expiring, revocable), role changes,
rate limits, the running-job cap per user, audit events and /metrics (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import update
from sqlmodel import Session, col, select

from api.main import create_app
from insight.db import session_scope
from insight.repositories import jobs as jobs_repo
from insight.runtime import Runtime
from models import ApiToken, AuditEvent, Call, Job, JobState, User, WebSession
from models.base import utcnow
from tests.fixtures import auth, bad_audio


def app_for(runtime: Runtime, **overrides: object):  # type: ignore[no-untyped-def]
    settings = runtime.settings.model_copy(update=overrides)
    rt = Runtime(settings=settings, engine=runtime.engine, store=runtime.store, queues=runtime.queues)
    return create_app(settings, runtime=rt, embedded_worker=False)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(app_for(runtime)) as c:
        yield c


def events(runtime: Runtime, action: str) -> list[AuditEvent]:
    with Session(runtime.engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_session_login_cookie_and_csrf(client: TestClient, runtime: Runtime, tmp_path: Path) -> None:
    rep = auth.make_user(runtime, "sato@example.jp", role="rep", team="tokyo")
    bad = client.post("/api/auth/login", json={"email": "sato@example.jp", "password": "wrong password!"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "login_failed"
    assert [e.outcome for e in events(runtime, "auth.login_failed")] == ["denied"]

    r = client.post("/api/auth/login", json={"email": "SATO@example.jp", "password": auth.PASSWORD})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("insight_session=")
    for flag in ("HttpOnly", "SameSite=lax", "Path=/"):
        assert flag.lower() in cookie.lower(), cookie
    assert "secure" not in cookie.lower()  # plain http on loopback; see the https case below
    me = r.json()
    assert me["user"]["role"] == "rep"
    assert me["user"]["team"] == "tokyo"
    assert me["via"] == "session"
    csrf = me["csrf_token"]
    assert len(events(runtime, "auth.login")) == 1
    # The cookie is stored only as a hash.
    value = client.cookies.get("insight_session")
    assert value
    with Session(runtime.engine) as s:
        hashes = [w.session_hash for w in s.exec(select(WebSession)).all()]
    assert value not in hashes
    assert len(hashes) == 1

    wav = bad_audio.good_wav(tmp_path / "x.wav", seconds=1.0, channels=1)
    with wav.open("rb") as fh:
        refused = client.post("/api/calls", files={"file": ("x.wav", fh)})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    with wav.open("rb") as fh:
        forged = client.post("/api/calls", files={"file": ("x.wav", fh)}, headers={"X-CSRF-Token": "0" * 64})
    assert forged.status_code == 403
    with wav.open("rb") as fh:
        ok = client.post("/api/calls", files={"file": ("x.wav", fh)}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    assert ok.json()["owner_id"] == rep.user_id
    assert client.get("/api/calls").json()["count"] == 1  # GET needs no CSRF token
    page = client.get("/")
    assert page.status_code == 200
    assert f'content="{csrf}"' in page.text  # the pages hand the token to their scripts

    out = client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert client.get("/api/calls").status_code == 401
    assert len(events(runtime, "auth.logout")) == 1


def test_html_login_form_and_secure_cookie(runtime: Runtime) -> None:
    auth.make_user(runtime, "admin@example.com", role="admin")
    app = app_for(runtime, public_url="https://insight.example.com", secret_key=SecretStr("x" * 40))
    with TestClient(app, base_url="https://testserver") as c:
        assert "ログイン" in c.get("/login").text
        assert "Sign in" in c.get("/login?lang=en").text
        # Sign-in posted from another site is refused (login CSRF).
        evil = c.post(
            "/login",
            data={"email": "admin@example.com", "password": auth.PASSWORD},
            headers={"Origin": "https://evil.example"},
        )
        assert evil.status_code == 403
        r = c.post(
            "/login",
            data={"email": "admin@example.com", "password": auth.PASSWORD, "next": "//evil.example/x"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert r.headers["location"] == "/"  # no open redirect
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("__Host-insight_session=")
        assert "secure" in cookie.lower()
        assert "httponly" in cookie.lower()
        assert c.get("/").status_code == 200
        wrong = c.post(
            "/login", data={"email": "admin@example.com", "password": "nope nope nope"}, follow_redirects=False
        )
        assert wrong.status_code == 303
        assert "error=" in wrong.headers["location"]


def test_tokens_hashed_scoped_expiring_revocable(client: TestClient, runtime: Runtime) -> None:
    admin = auth.admin(runtime)
    manager = auth.make_user(runtime, "mgr@example.com", role="manager", team="osaka")
    with Session(runtime.engine) as s:
        stored = s.exec(select(ApiToken)).all()
        user = s.exec(select(User).where(User.email == "mgr@example.com")).one()
    assert all(t.token_hash not in (admin.token, manager.token) for t in stored)
    assert {admin.token, manager.token}.isdisjoint({t.prefix for t in stored})
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")

    # A rep cannot be given admin or sync scopes.
    r = client.post(
        "/api/admin/users",
        json={"email": "rep@example.com", "role": "rep", "password": "long enough pw"},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    rep_id = r.json()["id"]
    r = client.post(f"/api/admin/users/{rep_id}/tokens", json={"scopes": ["sync"]}, headers=admin.headers)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "invalid_scope"
    r = client.post(f"/api/admin/users/{rep_id}/tokens", json={"scopes": ["calls:read"]}, headers=admin.headers)
    assert r.status_code == 201
    rep_token = r.json()["token"]
    assert r.json()["scopes"] == ["calls:read"]
    rep_headers = {"Authorization": f"Bearer {rep_token}"}
    assert client.get("/api/calls", headers=rep_headers).status_code == 200
    assert client.post("/api/calls/1/retry", headers=rep_headers).status_code == 403  # no calls:write
    # A token cannot mint tokens (a leak must not outlive the leaked token).
    assert client.post("/api/auth/tokens", json={"name": "x"}, headers=rep_headers).status_code == 403

    # A role change narrows the manager's existing token at once, and is audited.
    assert client.get("/api/segments/runs", headers=manager.headers).status_code == 200
    r = client.patch(f"/api/admin/users/{manager.user_id}", json={"role": "rep"}, headers=admin.headers)
    assert r.status_code == 200
    assert client.get("/api/segments/runs", headers=manager.headers).status_code == 403
    changes = events(runtime, "user.role_change")
    assert [(e.object_id, e.details) for e in changes] == [(str(manager.user_id), {"from": "manager", "to": "rep"})]
    assert changes[0].actor_user_id == admin.user_id

    # Expired and revoked tokens are refused; so is a deactivated user's.
    r = client.post(
        f"/api/admin/users/{manager.user_id}/tokens", json={"expires_days": 2 / 86400}, headers=admin.headers
    )
    assert r.status_code == 201, r.text
    short = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get("/api/calls", headers=short).status_code == 200  # valid (and now cached)
    time.sleep(2.2)
    r = client.get("/api/calls", headers=short)
    assert r.status_code == 401
    assert "expired" in r.json()["error"]["message"]
    assert r.headers["www-authenticate"] == "Bearer"
    with session_scope(runtime.engine) as s:
        s.execute(
            update(ApiToken)
            .where(col(ApiToken.user_id) == manager.user_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    token_id = next(t["id"] for t in client.get("/api/auth/tokens", headers=rep_headers).json())
    assert client.delete(f"/api/auth/tokens/{token_id}", headers=admin.headers).status_code == 204
    assert client.get("/api/calls", headers=rep_headers).status_code == 401
    assert (
        client.patch(f"/api/admin/users/{admin.user_id}", json={"active": False}, headers=admin.headers).status_code
        == 200
    )
    assert client.get("/api/admin/users", headers=admin.headers).status_code == 401
    assert client.get("/api/calls", headers={"Authorization": "Bearer ins_not-a-token"}).status_code == 401
    assert client.get("/api/calls", headers={"Authorization": "Basic abc"}).status_code == 401


def test_rate_limit_per_token(runtime: Runtime) -> None:
    one = auth.make_user(runtime, "one@example.com")
    two = auth.make_user(runtime, "two@example.com")
    with TestClient(app_for(runtime, rate_limit_per_minute=5)) as c:
        codes = [c.get("/api/calls", headers=one.headers).status_code for _ in range(7)]
        assert codes[:5] == [200] * 5
        assert codes[5:] == [429, 429]
        r = c.get("/api/calls", headers=one.headers)
        assert r.json()["error"]["code"] == "rate_limited"
        assert int(r.headers["retry-after"]) >= 1
        assert c.get("/api/calls", headers=two.headers).status_code == 200  # another token is not affected


def test_sign_in_attempts_are_limited(runtime: Runtime) -> None:
    auth.make_user(runtime, "sato@example.jp")
    with TestClient(app_for(runtime, login_attempts_per_minute=3)) as c:
        codes = [
            c.post("/api/auth/login", json={"email": "sato@example.jp", "password": "guess number x"}).status_code
            for _ in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        # Even the right password waits now: guessing gains nothing from the limit's end.
        r = c.post("/api/auth/login", json={"email": "sato@example.jp", "password": auth.PASSWORD})
        assert r.status_code == 429


def test_running_jobs_are_capped_per_user(runtime: Runtime, tmp_path: Path) -> None:
    from insight.calls.service import UploadMeta, ingest

    a = auth.make_user(runtime, "a@example.com")
    b = auth.make_user(runtime, "b@example.com")
    ids = []
    for i, owner in enumerate((a, a, b)):
        wav = bad_audio.good_wav(tmp_path / f"{i}.wav", seconds=1.0 + i / 10, channels=1)
        with wav.open("rb") as fh:
            ids.append(ingest(runtime, fh, UploadMeta(filename=wav.name, owner_id=owner.user_id)).call.id)
    with session_scope(runtime.engine) as s:
        first = jobs_repo.claim_next(s, queue="transcribe", worker_id="w1", lease_s=60, max_running_per_owner=1)
        assert first is not None
        assert first.call_id == ids[0]
    with session_scope(runtime.engine) as s:
        # a's second call waits while a's first runs: b's call, uploaded later, goes first.
        second = jobs_repo.claim_next(s, queue="transcribe", worker_id="w2", lease_s=60, max_running_per_owner=1)
        assert second is not None
        assert second.call_id == ids[2]
        assert jobs_repo.claim_next(s, queue="transcribe", worker_id="w3", lease_s=60, max_running_per_owner=1) is None
        assert first.id is not None
        jobs_repo.finish(s, job_id=first.id, attempt=first.attempt)
    with session_scope(runtime.engine) as s:
        third = jobs_repo.claim_next(s, queue="transcribe", worker_id="w3", lease_s=60, max_running_per_owner=1)
        assert third is not None
        assert third.call_id == ids[1]
    with Session(runtime.engine) as s:
        states = {j.call_id: j.state for j in s.exec(select(Job)).all()}
        owners = {c.id: c.owner_id for c in s.exec(select(Call)).all()}
    assert states == {ids[0]: JobState.done, ids[1]: JobState.running, ids[2]: JobState.running}
    assert owners == {ids[0]: a.user_id, ids[1]: a.user_id, ids[2]: b.user_id}


def test_metrics_and_audit_export(client: TestClient, runtime: Runtime, tmp_path: Path) -> None:
    admin = auth.admin(runtime)
    wav = bad_audio.good_wav(tmp_path / "m.wav", seconds=1.0, channels=1)
    with wav.open("rb") as fh:
        assert client.post("/api/calls", files={"file": ("m.wav", fh)}, headers=admin.headers).status_code == 201
    text = client.get("/metrics", headers=admin.headers).text
    assert 'insight_jobs{queue="transcribe",state="queued"} 1.0' in text
    assert 'insight_jobs{queue="analyze",state="running"} 0.0' in text
    assert "insight_http_requests_total{" in text
    assert 'route="/api/calls"' in text
    for name in ("insight_job_duration_seconds", "insight_transcription_real_time_factor", "insight_sync_errors_total"):
        assert f"# TYPE {name}" in text
    r = client.get("/api/admin/audit.csv", headers=admin.headers)
    assert r.status_code == 200
    assert r.text.splitlines()[0].startswith("id,at,actor")
    assert "user.create" in r.text
    assert len(events(runtime, "export")) == 1
    listing = client.get("/api/admin/audit", params={"action": "export"}, headers=admin.headers).json()
    assert listing["count"] == 1
    assert listing["data"][0]["actor"] == "admin@example.com"
    assert listing["data"][0]["request_id"]
