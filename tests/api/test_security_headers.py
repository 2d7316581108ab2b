"""Security headers on every answer, through a real server (SQLite): each operation of the OpenAPI document with an
admin's credentials and with none, the HTML pages (their markup holds no inline code for the policy to refuse),
static files, the API docs (whose inline scripts are allowed by hash only), redirects and errors (404, 405, 422,
500)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.main import create_app
from api.security import PAGE_POLICY
from insight.db import session_scope
from insight.nlp.minutes.schemas import MinutesDoc, MinutesItem
from insight.repositories import speakers as speakers_repo
from insight.repositories import transcripts as transcripts_repo
from insight.runtime import Runtime
from models import Call, Minutes, Speaker, Utterance
from tests.conftest import make_settings
from tests.fixtures import auth, bad_audio
from tests.fixtures.server import serving

NO_SUCH_ID = "987654"
# Markup a strict policy would refuse: inline scripts, event-handler attributes, style attributes, javascript: URLs.
INLINE_CODE = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|javascript:", re.IGNORECASE)


def directives(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers.get("content-security-policy", "")
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def assert_secured(r: httpx.Response) -> None:
    where = f"{r.request.method} {r.request.url.path} -> {r.status_code}"
    assert r.headers.get("x-frame-options") == "DENY", where
    assert r.headers.get("x-content-type-options") == "nosniff", where
    assert r.headers.get("referrer-policy") == "same-origin", where
    csp = directives(r)
    assert csp.get("frame-ancestors") == ["'none'"], (where, csp)
    assert csp.get("default-src") == ["'none'"], (where, csp)
    assert csp.get("base-uri") == ["'none'"] or "sandbox" in csp, (where, csp)
    assert not {"'unsafe-inline'", "'unsafe-eval'", "data:", "*"} & set(csp.get("script-src", [])), (where, csp)


@dataclass
class Site:
    base: str
    runtime: Runtime
    admin: auth.Account
    call_id: int


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    runtime = Runtime.build(make_settings(tmp_path, f"sqlite:///{tmp_path / 'insight.db'}", rate_limit_per_minute=0))
    admin = auth.admin(runtime)
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)

    def fail() -> None:
        raise RuntimeError("an unexpected failure")

    app.add_api_route("/__fail", fail, include_in_schema=False)  # a 500 no handler maps
    try:
        with serving(app) as base:
            wav = bad_audio.good_wav(tmp_path / "商談.wav", seconds=1.0, channels=2)
            r = httpx.post(f"{base}/api/calls", files={"file": (wav.name, wav.read_bytes())}, headers=admin.headers)
            assert r.status_code == 201, r.text
            call_id = r.json()["id"]
            everything_on_the_call_page(runtime, call_id)
            yield Site(base, runtime, admin, call_id)
    finally:
        runtime.close()


def everything_on_the_call_page(runtime: Runtime, call_id: int) -> None:
    """A failed call with a transcript, speakers, metrics and minutes: every part of the call page is rendered."""
    with session_scope(runtime.engine) as s:
        call = s.get(Call, call_id)
        assert call is not None
        call.status, call.error, call.error_code = "failed", "decoder stopped", "undecodable"
        s.add(call)
        transcripts_repo.replace_for_call(
            s,
            call_id,
            [
                Utterance(call_id=call_id, idx=0, start=0.0, end=0.5, channel=0, speaker="S1", text="ご予算は？"),
                Utterance(call_id=call_id, idx=1, start=0.5, end=1.0, channel=1, speaker="S2", text="百万円です。"),
            ],
        )
        speakers_repo.replace_for_call(
            s,
            call_id,
            [
                Speaker(call_id=call_id, label="S1", role="rep", channel=0, talk_s=0.5),
                Speaker(call_id=call_id, label="S2", role="customer", channel=1, talk_s=0.5),
            ],
        )
        speakers_repo.save_metrics(
            s,
            call_id,
            {
                "talk_ratio": 0.5,
                "longest_monologue_s": 0.5,
                "longest_customer_story_s": 0.5,
                "questions": {"rep": 1, "customer": 0},
                "interactivity_per_min": 2.0,
                "interruptions": 0,
                "pace": {"rep": 300, "customer": 280},
                "pace_unit": "chars_per_min",
                "silence_ratio": 0.0,
                "rep_response_pause_s": 0.2,
            },
        )
        first = transcripts_repo.for_call(s, call_id)[0].id
        assert first is not None
        doc = MinutesDoc(
            language="ja",
            reference_date=date(2026, 11, 25),
            needs=[MinutesItem(text="予算は百万円", utterance_ids=[first], start=0.0, confidence=0.9)],
        ).model_dump(mode="json")
        s.add(
            Minutes(
                call_id=call_id,
                language="ja",
                backend="offline",
                content=doc,
                content_redacted=doc,
                generated_at=datetime.now(UTC),
            )
        )


def operations(base: str, call_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation of the OpenAPI document, path parameters filled in; signing out comes last."""
    spec = httpx.get(f"{base}/openapi.json").json()
    out: list[tuple[str, str, dict[str, Any]]] = []
    for path, ops in spec["paths"].items():
        url = re.sub(r"\{call_id\}", str(call_id), path)
        url = re.sub(r"\{[a-z_]+\}", NO_SUCH_ID, url)
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            kwargs: dict[str, Any] = {"json": {}} if "application/json" in content else {}
            out.append((method.upper(), url, kwargs))
    return sorted(out, key=lambda o: o[1] == "/api/auth/logout")


def test_every_api_operation_answers_with_the_headers(site: Site) -> None:
    ops = operations(site.base, site.call_id)
    assert len(ops) >= 30, ops
    statuses: set[int] = set()
    with httpx.Client(base_url=site.base, timeout=60) as anonymous:
        for method, url, kwargs in ops:
            r = anonymous.request(method, url, **kwargs)
            assert_secured(r)
            statuses.add(r.status_code)
    with httpx.Client(base_url=site.base, headers=site.admin.headers, timeout=60) as admin:
        for method, url, kwargs in ops:
            r = admin.request(method, url, **kwargs)
            assert_secured(r)
            statuses.add(r.status_code)
            if r.headers.get("content-type", "").startswith("text/html"):
                assert directives(r)["script-src"] == ["'self'"]
    assert {200, 401, 404, 422} <= statuses, statuses


def test_pages_static_files_and_errors_answer_with_the_headers(site: Site) -> None:
    with httpx.Client(base_url=site.base, timeout=60) as c:
        login = c.post("/api/auth/login", json={"email": site.admin.email, "password": auth.PASSWORD})
        assert login.status_code == 200
        pages = ["/", "/?lang=en", f"/calls/{site.call_id}", f"/calls/{site.call_id}?lang=en", "/login"]
        for url in pages:
            r = c.get(url)
            assert r.status_code == 200, (url, r.text[:200])
            assert_secured(r)
            assert r.headers["content-security-policy"] == PAGE_POLICY
            assert not INLINE_CODE.findall(r.text), (url, INLINE_CODE.findall(r.text))
        call_page = c.get(f"/calls/{site.call_id}").text
        for part in ('data-retry="', 'id="speakers"', '<progress class="bar"', 'data-start="', '<audio id="player"'):
            assert part in call_page, part  # the checks above did cover each part of the page
        answers = [
            c.get("/static/app.css"),
            c.get("/static/app.js"),
            c.get(f"/api/calls/{site.call_id}/audio"),
            c.get(f"/calls/{NO_SUCH_ID}"),
            c.get("/?page=0"),  # 422
            c.get("/no/such/page"),  # 404
            c.request("DELETE", "/login"),  # 405
            c.get("/__fail"),  # 500
            c.get("/openapi.json"),
            c.get("/healthz"),
        ]
        c.cookies.clear()
        answers += [
            c.get("/", headers={"Accept": "text/html"}),  # a redirect to the sign-in page
            c.post("/login", data={"email": site.admin.email, "password": "wrong"}),
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 404, 422, 404, 405, 500, 200, 200, 303, 303]
    assert answers[1].headers["content-type"].startswith("text/javascript")
    for r in answers:
        assert_secured(r)
    assert answers[7].json()["error"]["code"] == "internal_error"


def test_docs_allow_their_own_inline_scripts_by_hash_only(site: Site) -> None:
    for url in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        r = httpx.get(site.base + url)
        assert r.status_code == 200, url
        assert_secured(r)
        scripts = directives(r)["script-src"]
        inline = re.findall(rb"<script>(.*?)</script>", r.content, re.DOTALL)
        hashes = {f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'" for body in inline}
        assert hashes <= set(scripts), (url, scripts)
        assert len([s for s in scripts if s.startswith("'sha256-")]) == len(hashes), (url, scripts)
    assert directives(httpx.get(site.base + "/docs"))["connect-src"] == ["'self'"]
