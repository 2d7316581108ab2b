"""Disabling or demoting a user takes effect on the next request, everywhere: while clients hammer a running server
with cached credentials, and when the change comes from the CLI (another process). SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.main import create_app
from insight import audit
from insight.auth import service as auth_service
from insight.db import session_scope
from insight.repositories import users as users_repo
from insight.runtime import Runtime
from tests.fixtures import auth
from tests.fixtures.cli import cli, cli_env
from tests.fixtures.server import serving


@pytest.fixture
def served(runtime: Runtime) -> Iterator[str]:
    with serving(create_app(runtime.settings, runtime=runtime, embedded_worker=False)) as url:
        yield url


def more_tokens(runtime: Runtime, user_id: int, n: int) -> list[str]:
    with session_scope(runtime.engine) as s:
        user = users_repo.get(s, user_id)
        assert user is not None
        return [auth_service.create_token(s, audit.Actor(label="test"), user, name=f"t{i}")[1] for i in range(n)]


class Hammer:
    """Threads that call /api/auth/me with their own token until stopped, noting when each request was sent."""

    def __init__(self, url: str, tokens: list[str]) -> None:
        self.url = url
        self.tokens = tokens
        self.results: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(t,), daemon=True) for t in tokens]

    def _run(self, token: str) -> None:
        with httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            while not self._stop.is_set():
                sent = time.monotonic()
                status = client.get("/api/auth/me").status_code
                with self._lock:
                    self.results.append((sent, status))

    def __enter__(self) -> Hammer:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def since(self, instant: float, at_least: int = 1, within: float = 20.0) -> list[int]:
        """Statuses of the requests sent at or after `instant`, once at least `at_least` of them were answered
        (or `within` seconds have passed: a loaded machine may answer slowly, which must not read as a failure)."""
        deadline = time.monotonic() + within
        while True:
            with self._lock:
                statuses = [status for sent, status in self.results if sent >= instant]
            if len(statuses) >= at_least or time.monotonic() > deadline:
                return statuses
            time.sleep(0.02)


def test_deactivation_under_load_refuses_every_later_request(served: str, runtime: Runtime) -> None:
    admin = auth.admin(runtime)
    rep = auth.make_user(runtime, "rep@example.com")
    tokens = [rep.token, *more_tokens(runtime, rep.user_id, 5)]
    with Hammer(served, tokens) as hammer, httpx.Client(base_url=served, headers=admin.headers) as client:
        enough = 2 * len(tokens)  # every token was used at least once, most twice
        for _ in range(3):
            assert set(hammer.since(time.monotonic(), at_least=enough)) == {200}  # every token is cached by now
            r = client.patch(f"/api/admin/users/{rep.user_id}", json={"active": False})
            assert r.status_code == 200, r.text
            after = hammer.since(time.monotonic(), at_least=enough)
            assert after, "no request was sent after the change"
            assert set(after) == {401}, f"{after.count(200)} of {len(after)} requests still got in"
            r = client.patch(f"/api/admin/users/{rep.user_id}", json={"active": True})
            assert r.status_code == 200, r.text
            assert set(hammer.since(time.monotonic(), at_least=enough)) == {200}


def test_changes_from_the_cli_reach_a_running_server_on_the_next_request(
    served: str, runtime: Runtime, tmp_path: Path
) -> None:
    manager = auth.make_user(runtime, "boss@example.com", role="manager", team="east")
    env = cli_env(runtime, tmp_path)
    with httpx.Client(base_url=served, headers=manager.headers) as client:
        # Warm the server's credential cache: these would be answered from it for a while without a shared signal.
        assert client.get("/api/segments/runs").status_code == 200
        assert client.get("/api/auth/me").json()["user"]["role"] == "manager"

        done = cli("users", "set", manager.email, "--role", "rep", env=env)
        assert done.returncode == 0, done.stderr
        r = client.get("/api/segments/runs")
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "missing_scope"
        assert client.get("/api/auth/me").json()["user"]["role"] == "rep"

        done = cli("users", "set", manager.email, "--no-active", env=env)
        assert done.returncode == 0, done.stderr
        r = client.get("/api/auth/me")
        assert r.status_code == 401
        assert "deactivated" in r.json()["error"]["message"]

        done = cli("users", "set", manager.email, "--active", env=env)
        assert done.returncode == 0, done.stderr
        assert client.get("/api/auth/me").status_code == 200

        # A password reset from the CLI revokes the user's tokens (unless --keep-tokens).
        done = cli("users", "set", manager.email, "--password-stdin", env=env, stdin="a brand new password\n")
        assert done.returncode == 0, done.stderr
        r = client.get("/api/auth/me")
        assert r.status_code == 401
        assert r.json()["error"]["message"] == "The API token is not valid."
