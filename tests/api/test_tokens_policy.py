"""API token lifetimes are capped by policy, tokens that never expire are only for admins' service accounts when
allowed, and a password reset revokes the user's tokens unless asked not to (the real app; SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.main import create_app
from insight.runtime import Runtime
from models import AuditEvent
from tests.fixtures import auth
from tests.fixtures.cli import cli, cli_env


def client_for(runtime: Runtime, **overrides: object) -> TestClient:
    settings = runtime.settings.model_copy(update=overrides)
    rt = Runtime(settings=settings, engine=runtime.engine, store=runtime.store, queues=runtime.queues)
    return TestClient(create_app(settings, runtime=rt, embedded_worker=False))


def signed_in(client: TestClient, email: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"email": email, "password": auth.PASSWORD})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


def test_a_session_cannot_mint_a_token_that_never_expires(runtime: Runtime) -> None:
    auth.make_user(runtime, "rep@example.com")
    with client_for(runtime) as client:
        csrf = signed_in(client, "rep@example.com")
        r = client.post("/api/auth/tokens", json={"name": "forever", "expires_days": None}, headers=csrf)
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert error["code"] == "invalid_expiry"
        assert "never expire" in error["message"]
        assert "365" in error["hint"]
        r = client.post("/api/auth/tokens", json={"name": "long", "expires_days": 400}, headers=csrf)
        assert r.status_code == 400
        assert "at most 365 days" in r.json()["error"]["message"]
        r = client.post("/api/auth/tokens", json={"name": "laptop", "expires_days": 365}, headers=csrf)
        assert r.status_code == 201, r.text
        assert r.json()["expires_at"] is not None


def test_the_cap_follows_the_setting(runtime: Runtime) -> None:
    auth.make_user(runtime, "rep@example.com")
    with client_for(runtime, token_max_days=30) as client:
        csrf = signed_in(client, "rep@example.com")
        assert client.post("/api/auth/tokens", json={"expires_days": 31}, headers=csrf).status_code == 400
        assert client.post("/api/auth/tokens", json={"expires_days": 30}, headers=csrf).status_code == 201


def test_non_expiring_tokens_only_for_service_accounts_by_admins_when_allowed(runtime: Runtime) -> None:
    admin = auth.admin(runtime)
    person = auth.make_user(runtime, "person@example.com", role="manager")
    service = auth.make_user(runtime, "hubspot-sync@example.com", role="manager", scopes=["sync"], password=None)
    forever = {"name": "sync", "scopes": ["sync"], "expires_days": None}
    with client_for(runtime) as client:
        r = client.post(f"/api/admin/users/{service.user_id}/tokens", json=forever, headers=admin.headers)
        assert r.status_code == 400  # not allowed by default
        assert "INSIGHT_TOKEN_ALLOW_NO_EXPIRY" in r.json()["error"]["hint"]
    with client_for(runtime, token_allow_no_expiry=True) as client:
        r = client.post(f"/api/admin/users/{service.user_id}/tokens", json=forever, headers=admin.headers)
        assert r.status_code == 201, r.text
        assert r.json()["expires_at"] is None
        # A person signs in and can make their own tokens: theirs always expire.
        r = client.post(f"/api/admin/users/{person.user_id}/tokens", json=forever, headers=admin.headers)
        assert r.status_code == 400
        assert "service account" in r.json()["error"]["message"]
        # And a non-admin never gets one, even for itself.
        csrf = signed_in(client, person.email)
        r = client.post("/api/auth/tokens", json={"expires_days": None}, headers=csrf)
        assert r.status_code == 400


def revocations(runtime: Runtime) -> list[AuditEvent]:
    with Session(runtime.engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == "auth.token_revoke")).all())


def test_a_password_reset_revokes_the_users_tokens_unless_asked_not_to(runtime: Runtime) -> None:
    admin = auth.admin(runtime)
    rep = auth.make_user(runtime, "rep@example.com")
    other = auth.make_user(runtime, "other@example.com")
    with client_for(runtime) as client:
        assert client.get("/api/auth/me", headers=rep.headers).status_code == 200  # cached now
        r = client.patch(
            f"/api/admin/users/{rep.user_id}",
            json={"password": "a new password", "keep_tokens": True},
            headers=admin.headers,
        )
        assert r.status_code == 200, r.text
        assert client.get("/api/auth/me", headers=rep.headers).status_code == 200
        assert revocations(runtime) == []

        r = client.patch(f"/api/admin/users/{rep.user_id}", json={"password": "another new one"}, headers=admin.headers)
        assert r.status_code == 200, r.text
        refused = client.get("/api/auth/me", headers=rep.headers)
        assert refused.status_code == 401
        assert client.get("/api/auth/me", headers=other.headers).status_code == 200  # only that user's tokens
        events = revocations(runtime)
        assert [(e.details, e.actor_user_id) for e in events] == [({"reason": "password_reset"}, admin.user_id)]
        # The new password signs in; the old one does not.
        assert client.post("/api/auth/login", json={"email": rep.email, "password": auth.PASSWORD}).status_code == 401
        r = client.post("/api/auth/login", json={"email": rep.email, "password": "another new one"})
        assert r.status_code == 200


def test_the_cli_follows_the_same_policy(runtime: Runtime, tmp_path: Path) -> None:
    auth.make_user(runtime, "person@example.com", role="manager")
    auth.make_user(runtime, "svc@example.com", role="manager", password=None)
    env = cli_env(runtime, tmp_path)
    refused = cli("tokens", "create", "svc@example.com", "--no-expiry", env=env)
    assert refused.returncode == 1
    assert "INSIGHT_TOKEN_ALLOW_NO_EXPIRY" in refused.stdout + refused.stderr
    too_long = cli("tokens", "create", "person@example.com", "--days", "1000", env=env)
    assert too_long.returncode == 1
    assert "at most 365 days" in too_long.stdout + too_long.stderr

    allowed = {**env, "INSIGHT_TOKEN_ALLOW_NO_EXPIRY": "true"}
    made = cli("tokens", "create", "svc@example.com", "--no-expiry", "--json", env=allowed)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["expires_at"] is None
    assert cli("tokens", "create", "person@example.com", "--no-expiry", env=allowed).returncode == 1

    # --keep-tokens keeps them through a reset; without it they are revoked.
    token = json.loads(cli("tokens", "create", "person@example.com", "--json", env=env).stdout)["token"]
    with client_for(runtime) as client:
        me = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/auth/me", headers=me).status_code == 200
        kept = cli(
            "users", "set", "person@example.com", "--password-stdin", "--keep-tokens", env=env, stdin="pw one two\n"
        )
        assert kept.returncode == 0, kept.stderr
        assert client.get("/api/auth/me", headers=me).status_code == 200
        reset = cli("users", "set", "person@example.com", "--password-stdin", env=env, stdin="pw three four\n")
        assert reset.returncode == 0, reset.stderr
        assert client.get("/api/auth/me", headers=me).status_code == 401
