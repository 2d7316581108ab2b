"""Hostile uploads: a tiny file claiming hours, oversized headers, path traversal and non-UTF-8 file names, wrong
content types, broken multipart. Each gets a clear 4xx and leaves no rows, no stored bytes and no temporary files
(SQLite and PostgreSQL; the oversized headers also against a real uvicorn server)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.main import create_app
from insight.runtime import Runtime
from models import Call, Job
from tests.fixtures import auth, bad_audio
from tests.fixtures.server import serving

BOUNDARY = "insight-test-boundary"


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    with TestClient(app, headers=auth.admin(runtime).headers) as c:
        yield c


def nothing_left(runtime: Runtime) -> None:
    with Session(runtime.engine) as s:
        assert s.exec(select(Call)).all() == []
        assert s.exec(select(Job)).all() == []
    assert list(runtime.store.iter_files()) == []
    tmp = runtime.settings.tmp_dir
    assert not tmp.exists() or list(tmp.iterdir()) == []


def assert_clear_4xx(r: httpx.Response, status: int | tuple[int, ...], code: str | None = None) -> None:
    statuses = (status,) if isinstance(status, int) else status
    assert r.status_code in statuses, (r.status_code, r.text[:300])
    error = r.json()["error"]
    assert error["message"]
    assert error["hint"]
    if code is not None:
        assert error["code"] == code, error


def raw_multipart(name: bytes, payload: bytes, content_type: bytes = b"audio/wav") -> bytes:
    return (
        f"--{BOUNDARY}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + name
        + b'"\r\nContent-Type: '
        + content_type
        + b"\r\n\r\n"
        + payload
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def post_raw(client: TestClient, body: bytes, content_type: str | None = None) -> httpx.Response:
    return client.post(
        "/api/calls",
        content=body,
        headers={"Content-Type": content_type or f"multipart/form-data; boundary={BOUNDARY}"},
    )


@pytest.mark.parametrize(("hours", "code"), [(10.0, "too_long"), (2.0, "truncated")])
def test_tiny_file_claiming_hours(
    client: TestClient, runtime: Runtime, tmp_path: Path, hours: float, code: str
) -> None:
    """A 32 kB WAV whose header claims hours: refused from the header, before any decoding of hours of audio."""
    path = bad_audio.wav_claiming_hours(tmp_path, hours=hours)
    assert path.stat().st_size < 40_000
    started = time.monotonic()
    r = client.post("/api/calls", files={"file": (path.name, path.read_bytes())})
    assert time.monotonic() - started < 5.0
    assert_clear_4xx(r, 422, code)
    nothing_left(runtime)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        (b"../../etc/passwd.wav", "invalid_filename"),
        (b"..\\\\..\\\\windows\\\\system32\\\\x.wav", "invalid_filename"),
        (b"/etc/shadow.wav", "invalid_filename"),
        (b"\x8f\xa4\x92k.wav", "invalid_filename"),  # Shift_JIS for 商談.wav: not UTF-8
        (b"\x80\x81\x82.wav", "invalid_filename"),  # invalid UTF-8 bytes
        (b"ok\x00.wav", None),  # a NUL in the name
        (b"x" * 300 + b".wav", "invalid_filename"),
    ],
)
def test_hostile_file_names(client: TestClient, runtime: Runtime, tmp_path: Path, name: bytes, code: str) -> None:
    wav = bad_audio.good_wav(tmp_path / "ok.wav", seconds=1.0, channels=1).read_bytes()
    r = post_raw(client, raw_multipart(name, wav))
    assert_clear_4xx(r, 400, code)
    nothing_left(runtime)


def test_names_never_reach_the_file_system(client: TestClient, runtime: Runtime, tmp_path: Path) -> None:
    """Percent-encoded or Latin-1 names are text, not paths: the file is stored under its sha256 only."""
    for i, name in enumerate((b"..%2F..%2Fetc%2Fpasswd.wav", b"\xff\xfe.wav")):
        wav = bad_audio.good_wav(tmp_path / f"{i}.wav", seconds=1.0 + i / 10, channels=1).read_bytes()
        r = post_raw(client, raw_multipart(name, wav))
        assert r.status_code == 201, r.text
        sha = r.json()["sha256"]
        assert [p.name for p in runtime.store.iter_files() if p.name == sha] == [sha]
    assert all(p.name != "passwd.wav" for p in runtime.settings.data_dir.rglob("*"))


@pytest.mark.parametrize(
    ("label", "body", "content_type", "status"),
    [
        ("json instead of multipart", b'{"file": "abc"}', "application/json", 422),
        ("raw audio body", b"RIFF....WAVEfmt ", "audio/wav", 422),
        ("form without a file", b"language=ja", "application/x-www-form-urlencoded", 422),
        ("broken multipart", b"--nope\r\ngarbage", None, 400),
        ("multipart without boundary", b"--x--", "multipart/form-data", (400, 422)),
    ],
)
def test_wrong_content_types(
    client: TestClient,
    runtime: Runtime,
    label: str,
    body: bytes,
    content_type: str | None,
    status: int | tuple[int, ...],
) -> None:
    assert_clear_4xx(post_raw(client, body, content_type), status)
    nothing_left(runtime)


@pytest.mark.parametrize(
    ("label", "payload", "declared", "status"),
    [
        ("html declared audio/wav", b"<html><body>hi</body></html>" * 50, b"audio/wav", 415),
        ("png declared audio/mpeg", None, b"audio/mpeg", 415),
        ("text declared video/mp4", b"meeting notes\n" * 200, b"video/mp4", 415),
    ],
)
def test_declared_type_is_not_trusted(
    client: TestClient,
    runtime: Runtime,
    tmp_path: Path,
    label: str,
    payload: bytes | None,
    declared: bytes,
    status: int,
) -> None:
    data = payload if payload is not None else bad_audio.png_file(tmp_path).read_bytes()
    assert_clear_4xx(post_raw(client, raw_multipart(b"call.wav", data, declared)), status)
    nothing_left(runtime)


def test_oversized_part_header(client: TestClient, runtime: Runtime, tmp_path: Path) -> None:
    wav = bad_audio.good_wav(tmp_path / "ok.wav", seconds=1.0, channels=1).read_bytes()
    huge = (
        f"--{BOUNDARY}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        + b"X-Padding: "
        + b"p" * 2_000_000
        + b"\r\nContent-Type: audio/wav\r\n\r\n"
        + wav
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    assert_clear_4xx(post_raw(client, huge), (400, 413, 431))
    nothing_left(runtime)


def test_huge_request_headers_on_a_real_server(runtime: Runtime, tmp_path: Path) -> None:
    """Header blocks over the server's limit are refused by the HTTP layer before the app reads a byte."""
    token = auth.admin(runtime).token
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    with serving(app) as base:
        wav = bad_audio.good_wav(tmp_path / "h.wav", seconds=1.0, channels=1).read_bytes()
        url = f"{base}/api/calls"
        auth_header = {"Authorization": f"Bearer {token}"}
        for headers in (
            {**auth_header, "X-Padding": "a" * 200_000},  # one huge header
            {**auth_header, **{f"X-H{i}": "b" * 200 for i in range(2000)}},  # very many headers
        ):
            try:
                r = httpx.post(url, files={"file": ("h.wav", wav)}, headers=headers, timeout=30)
                assert 400 <= r.status_code < 500, r.status_code
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                pass  # uvicorn answered 400 and closed while the client was still sending: also a refusal
        # A huge Authorization header reaches the app and is answered with the error body.
        r = httpx.get(f"{base}/api/calls", headers={"Authorization": "Bearer " + "x" * 8000})
        assert_clear_4xx(r, 401)
        # The server is still healthy afterwards.
        assert httpx.get(f"{base}/healthz").status_code == 200
    nothing_left(runtime)
