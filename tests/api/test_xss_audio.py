"""Stored XSS through the audio endpoint: a rep uploads a valid WAV named ``q3-forecast.htm`` that carries a page with
a ``<script>`` in an extra RIFF chunk. The script would read the admin's CSRF token from ``/`` and make the rep an
admin. Served with the type of the probed container (never of the file name), it is audio: an admin who opens it in
Chromium plays it, no script runs and the rep stays a rep (real server, SQLite)."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlmodel import Session

from api.main import create_app
from insight.runtime import Runtime
from models import Call, User
from tests.conftest import REQUIRE_SERVICES, make_settings
from tests.fixtures import auth, bad_audio
from tests.fixtures.server import serving

if TYPE_CHECKING:
    from playwright.sync_api._context_manager import PlaywrightContextManager

CHROMIUM = Path("/usr/bin/chromium")
MARK_RAN = "/xss-ran"
MARK_DONE = "/xss-done"


def attack_script(rep_id: int) -> str:
    """What the attacker's page does with the admin's session: promote the rep, leaving marks the test can see."""
    return f"""(async () => {{
  fetch("{MARK_RAN}");
  const page = await (await fetch("/")).text();
  const csrf = page.match(/name="csrf-token" content="([^"]+)"/)[1];
  await fetch("/api/admin/users/{rep_id}", {{method: "PATCH",
    headers: {{"Content-Type": "application/json", "X-CSRF-Token": csrf}}, body: JSON.stringify({{role: "admin"}})}});
  fetch("{MARK_DONE}");
}})();"""


def hostile_wav(path: Path, script: str) -> Path:
    """A valid one-second WAV with an extra RIFF chunk (before the audio) holding an HTML page with ``script``."""
    wav = bad_audio.good_wav(path, seconds=1.0, channels=1).read_bytes()
    assert wav[:4] == b"RIFF"
    assert wav[8:12] == b"WAVE"
    page = f"<!doctype html><html><body><h1>Q3 forecast</h1><script>{script}</script></body></html>".encode()
    if len(page) % 2:
        page += b" "  # RIFF chunks are word-aligned
    fmt_end = 12 + 8 + struct.unpack("<I", wav[16:20])[0]  # "fmt " is the first chunk the wave module writes
    assert wav[12:16] == b"fmt "
    body = wav[12:fmt_end] + b"note" + struct.pack("<I", len(page)) + page + wav[fmt_end:]
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body)
    return path


@dataclass
class Site:
    base: str
    runtime: Runtime
    admin: auth.Account
    rep: auth.Account


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    runtime = Runtime.build(make_settings(tmp_path, f"sqlite:///{tmp_path / 'insight.db'}"))
    admin = auth.admin(runtime)
    rep = auth.make_user(runtime, "rep.west@example.com", role="rep", team="west")
    try:
        with serving(create_app(runtime.settings, runtime=runtime, embedded_worker=False)) as base:
            yield Site(base, runtime, admin, rep)
    finally:
        runtime.close()


def upload(site: Site, path: Path, name: str) -> dict[str, object]:
    with path.open("rb") as fh:
        r = httpx.post(f"{site.base}/api/calls", files={"file": (name, fh)}, headers=site.rep.headers, timeout=60)
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    return body


def role_of(runtime: Runtime, user_id: int) -> str:
    with Session(runtime.engine) as s:
        user = s.get(User, user_id)
        assert user is not None
        return user.role


def test_audio_is_served_as_its_probed_container(site: Site, tmp_path: Path) -> None:
    call = upload(site, hostile_wav(tmp_path / "x.wav", attack_script(site.rep.user_id)), "q3-forecast.htm")
    assert call["media_format"] == "wav"
    assert call["filename"] == "q3-forecast.wav"  # the stored name takes the probed format's extension
    r = httpx.get(f"{site.base}/api/calls/{call['id']}/audio", headers=site.admin.headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "audio/wav"
    assert r.headers["content-disposition"] == 'inline; filename="q3-forecast.wav"'  # playable: the player seeks
    assert r.headers["x-content-type-options"] == "nosniff"
    directives = r.headers["content-security-policy"].split("; ")
    sandbox = next(d for d in directives if d.startswith("sandbox"))
    assert "allow-scripts" not in sandbox
    assert {"default-src 'none'", "frame-ancestors 'none'"} <= set(directives)
    ranged = httpx.get(
        f"{site.base}/api/calls/{call['id']}/audio", headers={**site.admin.headers, "Range": "bytes=0-3"}
    )
    assert ranged.status_code == 206
    assert ranged.content == b"RIFF"

    # A call stored before names were normalised still carries its .html name: it is served as audio all the same.
    with Session(site.runtime.engine) as s:
        row = s.get(Call, call["id"])
        assert row is not None
        row.filename = "old-upload.html"
        s.add(row)
        s.commit()
    legacy = httpx.get(f"{site.base}/api/calls/{call['id']}/audio", headers=site.admin.headers)
    assert legacy.headers["content-type"] == "audio/wav"
    assert legacy.headers["content-disposition"] == 'inline; filename="old-upload.wav"'

    # A container browsers do not play (MPEG-TS) is a download, never shown in the browser.
    ts = bad_audio._encode(tmp_path / "call.ts", codec="mp2", container_format="mpegts", seconds=1.0)
    other = upload(site, ts, "議事録.html")
    assert other["filename"] == "議事録.ts"
    r = httpx.get(f"{site.base}/api/calls/{other['id']}/audio", headers=site.rep.headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"] == "attachment; filename*=utf-8''%E8%AD%B0%E4%BA%8B%E9%8C%B2.ts"
    assert r.headers["x-content-type-options"] == "nosniff"


def _playwright() -> Callable[[], PlaywrightContextManager]:
    """Playwright's sync API, or a skip (a failure under INSIGHT_TEST_REQUIRE_SERVICES=1) when it cannot run."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "the playwright package is not installed (pip install -e '.[dev]')"
    if missing:
        if REQUIRE_SERVICES:
            pytest.fail(f"browser test cannot run: {missing}")
        pytest.skip(f"browser test skipped: {missing}")
    return sync_playwright


def test_admin_opening_the_rep_upload_in_chromium_runs_no_script(site: Site, tmp_path: Path) -> None:
    sync_playwright = _playwright()
    call = upload(site, hostile_wav(tmp_path / "x.wav", attack_script(site.rep.user_id)), "q3-forecast.htm")
    own = bad_audio.good_wav(tmp_path / "own-call.wav", seconds=1.0, channels=2)
    requests: list[tuple[str, str]] = []
    csp_violations: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page()
            page.on("request", lambda req: requests.append((req.method, req.url)))
            page.on(
                "console",
                lambda msg: csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None,
            )
            # The admin signs in through the real page.
            page.goto(f"{site.base}/login")
            page.fill("input[name=email]", site.admin.email)
            page.fill("input[name=password]", auth.PASSWORD)
            page.click("form[action^='/login'] button")
            page.wait_for_url(f"{site.base}/")
            # The pages' own script still works under the policy: upload through the form, land on the call page.
            page.set_input_files("#upload input[type=file]", str(own))
            page.click("#upload button")
            page.wait_for_url(f"{site.base}/calls/*")
            assert page.title().startswith("own-call.wav")

            # The admin opens the rep's "forecast" link.
            response = page.goto(f"{site.base}/api/calls/{call['id']}/audio")
            assert response is not None
            served = (response.status, response.headers["content-type"])
            deadline = time.monotonic() + 3.0  # the script, had it run, marks its start and its end
            while time.monotonic() < deadline and not any(url.endswith(MARK_DONE) for _, url in requests):
                page.wait_for_timeout(100)
            page.screenshot(path=str(tmp_path / "audio.png"))
            # Chromium shows its media player on the WAV (and it has loaded it: the one-second duration is known).
            player = page.evaluate(
                "(() => { const v = document.querySelector('video');"
                " return v && {ready: v.readyState, duration: v.duration, scripts: document.scripts.length}; })()"
            )
        finally:
            browser.close()
    assert role_of(site.runtime, site.rep.user_id) == "rep"
    assert not [url for _, url in requests if url.endswith((MARK_RAN, MARK_DONE))], requests
    assert not [(m, url) for m, url in requests if m == "PATCH"], requests
    assert served == (200, "audio/wav")
    assert player is not None
    assert player["ready"] >= 1
    assert player["duration"] == pytest.approx(1.0, abs=0.05)
    assert player["scripts"] == 0
    assert csp_violations == []  # the sign-in, list and call pages run under their policy without a violation
