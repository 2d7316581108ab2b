"""Request bodies are capped per route before they are read, and uploads are authenticated before theirs is: a client
without credentials cannot make the server take in hundreds of megabytes (real server, raw sockets; SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from api.main import create_app
from insight.runtime import Runtime
from tests.fixtures import auth, bad_audio
from tests.fixtures.server import serving

MiB = 1024 * 1024
# What a client may push into loopback socket buffers before a server that reads nothing stops it; far below the
# hundreds of megabytes an attacker declares.
SOCKET_SLACK = 16 * MiB


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the client managed to send before the answer came
    seconds: float

    def error(self) -> dict[str, str]:
        error: dict[str, str] = json.loads(self.body)["error"]
        return error


def _read_answer(sock: socket.socket, deadline: float) -> tuple[int, dict[str, str], bytes]:
    data = b""
    sock.setblocking(True)
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def send_streaming(url: str, head: bytes, chunks: Iterator[bytes], *, limit: int, timeout: float = 20.0) -> Answer:
    """Send ``head``, then body chunks for as long as the server does not answer (at most ``limit`` bytes).

    Fails when no answer comes: a server that reads the whole body before answering never answers this sender.
    """
    parts = urlsplit(url)
    started = time.monotonic()
    deadline = started + timeout
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        pending = b""
        while time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock] if sent < limit else [], [], 0.5)
            if readable:
                break
            if writable:
                if not pending:
                    pending = next(chunks, b"")
                    if not pending:
                        continue
                try:
                    n = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += n
                pending = pending[n:]
        else:
            pytest.fail(f"no answer after {sent:,} body bytes in {timeout} s: the server is reading the body")
        status, headers, body = _read_answer(sock, deadline)
    return Answer(status, headers, body, sent, time.monotonic() - started)


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def zeros(size: int = 64 * 1024) -> Iterator[bytes]:
    while True:
        yield b"0" * size


def chunked(size: int = 8 * 1024) -> Iterator[bytes]:
    """HTTP/1.1 chunked framing around endless JSON-ish filler (no length is declared up front)."""
    payload = b'{"email": "' + b"a" * (size - 11)
    yield f"{len(payload):x}\r\n".encode() + payload + b"\r\n"
    while True:
        yield f"{size:x}\r\n".encode() + b"a" * size + b"\r\n"


BOUNDARY = "----insight-test-boundary"


def multipart_start(filename: str = "big.wav") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()


def multipart_body(declared: int) -> Iterator[bytes]:
    yield multipart_start()
    yield from zeros()


@pytest.fixture
def served(runtime: Runtime) -> Iterator[str]:
    with serving(create_app(runtime.settings, runtime=runtime, embedded_worker=False)) as url:
        yield url


def test_a_huge_anonymous_sign_in_body_is_refused_unread(served: str) -> None:
    declared = 400 * MiB
    head = request_head(
        "POST", "/api/auth/login", {"Content-Type": "application/json", "Content-Length": str(declared)}
    )
    answer = send_streaming(served, head, zeros(), limit=SOCKET_SLACK)
    assert answer.status == 413
    error = answer.error()
    assert error["code"] == "body_too_large"
    assert "64 KiB" in error["message"]
    assert error["hint"]
    assert answer.headers.get("x-request-id")  # answered inside the request context, like every other answer
    assert answer.sent < SOCKET_SLACK


def test_a_chunked_body_is_cut_off_when_it_passes_the_cap(served: str) -> None:
    head = request_head("POST", "/api/auth/login", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    answer = send_streaming(served, head, chunked(), limit=SOCKET_SLACK)
    assert answer.status == 413, answer.body
    assert answer.error()["code"] == "body_too_large"
    assert answer.sent < SOCKET_SLACK


@pytest.mark.parametrize("credentials", [None, "Bearer ins_not-a-real-token"])
def test_an_anonymous_upload_is_refused_before_its_body_is_read(served: str, credentials: str | None) -> None:
    declared = 300 * MiB  # under the 1 GiB upload cap: only authentication can stop it early
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Content-Length": str(declared)}
    if credentials:
        headers["Authorization"] = credentials
    answer = send_streaming(
        served, request_head("POST", "/api/calls", headers), multipart_body(declared), limit=64 * MiB
    )
    assert answer.status == 401, answer.body
    assert answer.error()["code"] == "unauthorized"
    assert answer.sent < SOCKET_SLACK, f"{answer.sent:,} bytes went in before the 401"
    assert answer.seconds < 10


def test_a_token_without_the_scope_is_refused_before_an_import_is_read(served: str, runtime: Runtime) -> None:
    rep = auth.make_user(runtime, "rep@example.com")  # calls scopes only; imports need sync
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(200 * MiB),
        **rep.headers,
    }
    answer = send_streaming(
        served, request_head("POST", "/api/imports/transactions", headers), multipart_body(0), limit=64 * MiB
    )
    assert answer.status == 403, answer.body
    assert answer.error()["code"] == "missing_scope"
    assert answer.sent < SOCKET_SLACK


def test_uploads_over_the_configured_cap_are_refused_up_front(runtime: Runtime, tmp_path: Path) -> None:
    settings = runtime.settings.model_copy(update={"max_upload_bytes": 1 * MiB})
    rt = Runtime(settings=settings, engine=runtime.engine, store=runtime.store, queues=runtime.queues)
    rep = auth.make_user(runtime, "rep@example.com")
    with serving(create_app(settings, runtime=rt, embedded_worker=False)) as url:
        headers = {
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(5 * MiB),
            **rep.headers,
        }
        answer = send_streaming(url, request_head("POST", "/api/calls", headers), multipart_body(0), limit=64 * MiB)
        assert answer.status == 413
        error = answer.error()
        assert error["code"] == "upload_too_large"
        assert "1 MiB" in error["message"]
        assert "compress" in error["hint"]
        assert answer.sent < SOCKET_SLACK
        # A recording within the cap still goes through, and so does ordinary JSON.
        wav = bad_audio.good_wav(tmp_path / "ok.wav", seconds=1.0, channels=1)
        with wav.open("rb") as fh:
            ok = httpx.post(f"{url}/api/calls", files={"file": ("ok.wav", fh)}, headers=rep.headers, timeout=30)
        assert ok.status_code == 201, ok.text
        signed_in = httpx.post(f"{url}/api/auth/login", json={"email": rep.email, "password": auth.PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        # JSON over its cap is refused even from a signed-in user, with a length declared or not.
        big = json.dumps({"name": "x" * (80 * 1024)})
        r = httpx.post(
            f"{url}/api/auth/tokens", content=big, headers={**rep.headers, "Content-Type": "application/json"}
        )
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "body_too_large"
