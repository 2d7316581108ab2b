"""Sign-in throttling slows whoever guesses, not the account's owner; X-Forwarded-For counts only from configured
proxies (real servers: the app under uvicorn, and `insight serve` itself; SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, select

from api.main import create_app
from api.proxies import forwarded_client, parse_networks
from insight.auth.lockout import LockoutPolicy
from insight.runtime import Runtime
from models import AuditEvent, LoginFailure
from tests.conftest import MODEL_DIR
from tests.fixtures import auth
from tests.fixtures.cli import cli, cli_env, wait_ready
from tests.fixtures.server import free_port, serving

ATTACKER = "198.51.100.66"
OWNER = "203.0.113.10"


@contextmanager
def server(runtime: Runtime, **overrides: object) -> Iterator[httpx.Client]:
    settings = runtime.settings.model_copy(update=overrides)
    rt = Runtime(settings=settings, engine=runtime.engine, store=runtime.store, queues=runtime.queues)
    with serving(create_app(settings, runtime=rt, embedded_worker=False)) as url, httpx.Client(base_url=url) as c:
        yield c


def login(client: httpx.Client, email: str, password: str, address: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/api/auth/login", json={"email": email, "password": password}, headers=headers)


def failed_sign_ins(runtime: Runtime) -> list[AuditEvent]:
    with Session(runtime.engine) as s:
        query = select(AuditEvent).where(AuditEvent.action == "auth.login_failed").order_by(col(AuditEvent.id))
        return list(s.exec(query).all())


def failures(runtime: Runtime, address: str, email: str) -> LoginFailure | None:
    with Session(runtime.engine) as s:
        return s.exec(select(LoginFailure).where(LoginFailure.address == address, LoginFailure.email == email)).first()


# The app trusts the test client (127.0.0.1) as its proxy, so each request can come "from" the address it names.
BEHIND_PROXY = {
    "trusted_proxies": ["127.0.0.1"],
    "login_lockout_after": 3,
    "login_lockout_base_s": 0.4,
    "login_attempts_per_minute": 1000,
}


def test_a_guesser_waits_while_the_owner_signs_in_from_elsewhere(runtime: Runtime) -> None:
    rep = auth.make_user(runtime, "rep@example.com")
    with server(runtime, **BEHIND_PROXY) as c:
        codes = [login(c, rep.email, f"guess {i}", ATTACKER).status_code for i in range(3)]
        assert codes == [401, 401, 401]
        locked = login(c, rep.email, auth.PASSWORD, ATTACKER)  # even the right password waits, unchecked
        assert locked.status_code == 429
        assert locked.json()["error"]["code"] == "rate_limited"
        assert "from your address" in locked.json()["error"]["message"]
        assert "admin" in locked.json()["error"]["hint"]
        assert int(locked.headers["retry-after"]) >= 1
        # The owner, elsewhere, is not locked out by the attacker's failures.
        assert login(c, rep.email, auth.PASSWORD, OWNER).status_code == 200
        # An e-mail nobody has is throttled the same way: the answers reveal nothing about which accounts exist.
        assert [login(c, "nobody@example.com", "x", ATTACKER).status_code for _ in range(4)] == [401, 401, 401, 429]

        # Each further failure doubles the wait: 0.4 s after the third, 0.8 s after the fourth, 1.6 s after the fifth.
        waits = []
        for _ in range(3):
            row = failures(runtime, ATTACKER, rep.email)
            assert row is not None
            assert row.locked_until is not None
            waits.append(round((row.locked_until - row.last_failure_at).total_seconds(), 3))
            time.sleep(max(0.0, (row.locked_until - row.last_failure_at).total_seconds()) + 0.1)
            assert login(c, rep.email, "yet another guess", ATTACKER).status_code == 401
        assert waits == [0.4, 0.8, 1.6]
        # A correct password from that address, once it may try again, clears its record.
        row = failures(runtime, ATTACKER, rep.email)
        assert row is not None
        assert row.locked_until is not None
        time.sleep((row.locked_until - row.last_failure_at).total_seconds() + 0.1)
        assert login(c, rep.email, auth.PASSWORD, ATTACKER).status_code == 200
        assert failures(runtime, ATTACKER, rep.email) is None
    outcomes = [(e.ip, e.outcome) for e in failed_sign_ins(runtime)]
    assert (ATTACKER, "locked") in outcomes
    assert {ip for ip, _ in outcomes} == {ATTACKER}


def test_one_address_is_still_limited_across_e_mails(runtime: Runtime) -> None:
    with server(runtime, **{**BEHIND_PROXY, "login_attempts_per_minute": 4}) as c:
        codes = [login(c, f"user{i}@example.com", "x", ATTACKER).status_code for i in range(5)]
        assert codes == [401, 401, 401, 401, 429]
        r = login(c, "user9@example.com", "x", ATTACKER)
        assert "Too many sign-in attempts from your address" in r.json()["error"]["message"]
        assert login(c, "user9@example.com", "x", OWNER).status_code == 401  # another address is not affected


def test_an_admin_unlocks_through_the_api_and_the_cli(runtime: Runtime, tmp_path: Path) -> None:
    admin = auth.admin(runtime)
    rep = auth.make_user(runtime, "rep@example.com")
    slow = {**BEHIND_PROXY, "login_lockout_base_s": 600.0}
    with server(runtime, **slow) as c:
        for attempt in range(2):
            assert [login(c, rep.email, "guess", ATTACKER).status_code for _ in range(3)] == [401, 401, 401]
            assert login(c, rep.email, auth.PASSWORD, ATTACKER).status_code == 429
            if attempt == 0:
                r = c.post(f"/api/admin/users/{rep.user_id}/unlock", headers=admin.headers)
                assert r.status_code == 200, r.text
                assert r.json() == {"user_id": rep.user_id, "email": rep.email, "cleared": 1}
                # Only admins may.
                assert c.post(f"/api/admin/users/{rep.user_id}/unlock", headers=rep.headers).status_code == 403
            else:
                done = cli("users", "unlock", rep.email, env=cli_env(runtime, tmp_path))
                assert done.returncode == 0, done.stderr
                assert "1 record" in done.stdout
            assert login(c, rep.email, auth.PASSWORD, ATTACKER).status_code == 200
        unknown = c.post("/api/admin/users/999999/unlock", headers=admin.headers)
        assert unknown.status_code == 404
    with Session(runtime.engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "auth.login_unlock")).all()
    assert [(e.actor, e.object_id) for e in events] == [(admin.email, str(rep.user_id)), ("cli", str(rep.user_id))]


def test_forwarded_for_from_a_client_that_is_no_proxy_is_ignored(runtime: Runtime) -> None:
    auth.make_user(runtime, "rep@example.com")
    with server(runtime, login_attempts_per_minute=3) as c:
        codes = [login(c, "rep@example.com", "guess", f"203.0.113.{i}").status_code for i in range(4)]
        # A fresh spoofed address per attempt buys no fresh allowance: the limit follows the real peer.
        assert codes == [401, 401, 401, 429]
    assert {e.ip for e in failed_sign_ins(runtime)} == {"127.0.0.1"}


def test_the_right_most_untrusted_hop_is_the_client(runtime: Runtime) -> None:
    auth.make_user(runtime, "rep@example.com")
    with server(runtime, trusted_proxies=["127.0.0.1"]) as c:
        login(c, "rep@example.com", "guess", "10.9.9.9, 198.51.100.7, 203.0.113.5")
    with server(runtime, trusted_proxies=["127.0.0.1", "203.0.113.0/24"]) as c:
        login(c, "rep@example.com", "guess", "10.9.9.9, 198.51.100.7, 203.0.113.5")
    assert [e.ip for e in failed_sign_ins(runtime)] == ["203.0.113.5", "198.51.100.7"]


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("192.0.2.1", "203.0.113.9", "192.0.2.1"),  # not a proxy: the header is the client's own words
        ("10.0.0.2", "203.0.113.9", "203.0.113.9"),
        ("10.0.0.2", "1.1.1.1, 203.0.113.9", "203.0.113.9"),  # what the client prepended is not believed
        ("10.0.0.2", "203.0.113.9, 10.0.0.3", "203.0.113.9"),  # a chain of our proxies
        ("10.0.0.2", "10.0.0.4, 10.0.0.3", "10.0.0.4"),  # only proxies: the farthest one
        ("10.0.0.2", "not-an-ip", "10.0.0.2"),  # garbage: the proxy that sent it
        ("10.0.0.2", "203.0.113.9:5123", "203.0.113.9"),
        ("10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
        ("::ffff:10.0.0.2", "203.0.113.9", "203.0.113.9"),  # IPv4-mapped peer on a dual-stack socket
    ],
)
def test_forwarded_client(peer: str, header: str, expected: str) -> None:
    assert forwarded_client(peer, [header], parse_networks(["10.0.0.0/8"])) == expected


def test_backoff_policy() -> None:
    policy = LockoutPolicy(free=5, base_s=2.0, max_s=900.0)
    assert [policy.wait_after(n) for n in range(1, 10)] == [0, 0, 0, 0, 2, 4, 8, 16, 32]
    assert policy.wait_after(10_000) == 900.0


def test_insight_serve_ignores_forwarded_for_from_local_clients(tmp_path: Path) -> None:
    """The attack as reported, against the server as it is started: a local client sends X-Forwarded-For."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSIGHT_")}
    env.update(
        {
            "INSIGHT_DATA_DIR": str(tmp_path / "data"),
            "INSIGHT_MODEL_DIR": str(MODEL_DIR),
            "INSIGHT_PORT": str(port),
            "INSIGHT_EMBEDDED_WORKER": "false",
            "NO_COLOR": "1",
        }
    )
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--no-worker"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, f"{url}/healthz", log, timeout=90)
        r = httpx.post(
            f"{url}/api/auth/login",
            json={"email": "victim@example.com", "password": "guess"},
            headers={"X-Forwarded-For": "203.0.113.77"},
        )
        assert r.status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    from insight.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'insight.db'}")
    with Session(engine) as s:
        ips = [e.ip for e in s.exec(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()]
    engine.dispose()
    assert ips == ["127.0.0.1"]
