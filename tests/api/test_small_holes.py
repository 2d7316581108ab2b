"""Smaller holes, each replayed through a real server (SQLite and PostgreSQL): Markdown minutes carry names as
inert text, the sign-in page shows only its own messages, and a recording someone else uploaded is neither revealed
nor lost when their copy is erased or expires."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx
from markdown_it import MarkdownIt
from sqlalchemy import update
from sqlmodel import col

from api.main import create_app
from insight.db import session_scope
from insight.nlp.minutes.schemas import MinutesDoc
from insight.repositories import customers as customers_repo
from insight.retention.service import purge_expired
from insight.runtime import Runtime
from models import Call, Minutes
from tests.fixtures import auth, bad_audio
from tests.fixtures.server import serving


class Tags(HTMLParser):
    """Every start tag of an HTML fragment, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))


SCRIPT = "<script>fetch('/api/admin/users')</script>"
IMG = "<img src=x onerror=alert(document.cookie)>"
LINK = "[請求書はこちら](javascript:alert(1))"


def minutes_with_hostile_names(call_id: int) -> dict[str, object]:
    evidence = {"utterance_ids": [1], "start": 40.0, "confidence": 0.9}
    doc = MinutesDoc.model_validate(
        {
            "language": "ja",
            "reference_date": date(2026, 11, 25),
            "notice": f"{IMG} 様",
            "participants": [
                {"speaker": "S1", "role": "rep", "name": SCRIPT, "organization": LINK},
                {"speaker": "S2", "role": "customer", "name": f"田中\n# {IMG}", "organization": "[x]: javascript:y"},
            ],
            "summary": [{"text": f"![追跡](http://evil.example/t.png) {IMG}", **evidence}],
            "next_actions": [
                {
                    "text": "見積もりを送る",
                    "owner": {"role": "rep", "name": "<b onmouseover=alert(1)>佐藤</b>"},
                    "due": "2026-12-04",
                    "due_text": "来週の金曜日",
                    **evidence,
                }
            ],
        }
    )
    return doc.model_dump(mode="json")


def test_markdown_minutes_escape_file_and_speaker_names(runtime: Runtime, tmp_path: Path) -> None:
    rep = auth.make_user(runtime, "rep@example.com")
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    wav = bad_audio.good_wav(tmp_path / "x.wav", seconds=1.0, channels=1)
    with serving(app) as base, httpx.Client(base_url=base, headers=rep.headers, timeout=30) as client:
        with wav.open("rb") as fh:
            r = client.post("/api/calls", files={"file": (f"{IMG}.wav", fh)})
        assert r.status_code == 201, r.text
        call_id = r.json()["id"]
        assert IMG in r.json()["filename"]  # the name is kept as the uploader wrote it...
        content = minutes_with_hostile_names(call_id)
        with session_scope(runtime.engine) as s:
            s.add(
                Minutes(
                    call_id=call_id,
                    language="ja",
                    backend="offline",
                    content=content,
                    content_redacted=content,
                    generated_at=datetime.now(UTC),
                )
            )
        md = client.get(f"/api/calls/{call_id}/minutes", params={"format": "markdown", "view": "original"})
        assert md.status_code == 200, md.text
    assert md.headers["content-type"].startswith("text/markdown")
    # ...and rendered (CommonMark with raw HTML on, as most viewers do), nothing of it is markup.
    rendered = MarkdownIt("commonmark").render(md.text)
    tags = Tags()
    tags.feed(rendered)
    # Only the document's own structure; the only links are the evidence links the server writes.
    assert {t for t, _ in tags.seen} <= {"h1", "h2", "p", "blockquote", "ul", "li", "strong", "a"}, rendered
    assert [a for t, a in tags.seen if a] == [[("href", f"/calls/{call_id}#u1")]] * 2, rendered
    assert [t for t, _ in tags.seen].count("h1") == 1  # a line break in a name starts no heading of its own
    # The names are still there to read, as text.
    assert "&lt;script&gt;fetch('/api/admin/users')&lt;/script&gt;" in rendered
    assert "請求書はこちら" in rendered
    assert "田中" in rendered
    assert "2026-12-04 (来週の金曜日)" in md.text  # the structured details are unchanged
    assert f"[0:40](/calls/{call_id}#u1)" in md.text  # and the evidence links still work


def test_sign_in_page_shows_only_its_own_messages(runtime: Runtime) -> None:
    auth.make_user(runtime, "sato@example.jp", role="rep")
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    forged = "Your account is locked. Call +1-555-0100 or visit evil.example to unlock it"
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        # A crafted link used to make the page say anything, on our own origin.
        for lang, generic in (("ja", "ログインできませんでした"), ("en", "Sign-in failed")):
            page = client.get("/login", params={"lang": lang, "error": forged})
            assert page.status_code == 200
            assert "evil.example" not in page.text
            assert "555-0100" not in page.text
            assert generic in page.text
        assert 'role="alert"' not in client.get("/login").text
        # A real failed sign-in: the redirect carries a code, the page its message in the page's language.
        r = client.post(
            "/login",
            params={"lang": "en"},
            data={"email": "sato@example.jp", "password": "wrong password", "next": "/"},
            headers={"Origin": base},
            follow_redirects=False,
        )
        assert r.status_code == 303
        location = r.headers["location"]
        assert "error=login_failed" in location
        assert "Wrong" not in location
        assert "Wrong e-mail or password." in client.get(location).text
        ja = client.get(location.replace("lang=en", "lang=ja")).text
        assert "メールアドレスまたはパスワードが違います。" in ja


def test_a_shared_recording_is_neither_revealed_nor_lost(runtime: Runtime, tmp_path: Path) -> None:
    with session_scope(runtime.engine) as s:
        customer, _ = customers_repo.upsert(s, source="crm", external_id="C-1", values={"name": "消す顧客"})
        customer_id = customer.id
    admin = auth.admin(runtime)
    rep_a = auth.make_user(runtime, "rep.a@example.com", team="east")
    rep_b = auth.make_user(runtime, "rep.b@example.com", team="east")
    wav = bad_audio.good_wav(tmp_path / "same.wav", seconds=1.5, channels=1)
    fresh = bad_audio.good_wav(tmp_path / "fresh.wav", seconds=1.2, channels=1)
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)

    def upload(client: httpx.Client, who: auth.Account, path: Path, **data: str) -> httpx.Response:
        with path.open("rb") as fh:
            return client.post("/api/calls", files={"file": (path.name, fh)}, data=data, headers=who.headers)

    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        b = upload(client, rep_b, wav, customer_external_id="C-1")
        assert b.status_code == 201, b.text
        # Rep A uploads the same bytes: the answer is that of any new upload, nothing about rep B's call.
        a = upload(client, rep_a, wav)
        unrelated = upload(client, rep_a, fresh)
        assert a.status_code == unrelated.status_code == 201, a.text
        assert set(a.json()) == set(unrelated.json())
        assert a.json()["duplicate"] is False
        assert a.json()["id"] != b.json()["id"]
        assert f"/calls/{b.json()['id']}" not in a.text
        assert (a.json()["owner_id"], a.json()["customer_external_id"]) == (rep_a.user_id, None)
        assert len(list(runtime.store.iter_files())) == 2  # one file for the shared recording

        # Erasing rep B's customer erases rep B's call, not the file rep A's call still plays.
        erased = client.delete(f"/api/admin/customers/{customer_id}", headers=admin.headers)
        assert erased.status_code == 200, erased.text
        assert erased.json()["audio_files_deleted"] == 0
        assert client.get(f"/api/calls/{b.json()['id']}", headers=admin.headers).status_code == 404
        audio = client.get(f"/api/calls/{a.json()['id']}/audio", headers=rep_a.headers)
        assert audio.status_code == 200
        assert audio.content == wav.read_bytes()

        # Retention: rep A's copy expires while rep B's new one does not; the file stays until both are gone.
        b2 = upload(client, rep_b, wav)
        assert b2.status_code == 201
        with session_scope(runtime.engine) as s:
            old = datetime.now(UTC) - timedelta(days=60)
            s.execute(
                update(Call)
                .where(col(Call.id).in_([a.json()["id"], unrelated.json()["id"]]))
                .values(created_at=old, status="done")
            )
        report = purge_expired(runtime.engine, runtime.store, days=30)
        assert (report.calls_purged, report.audio_files_deleted) == (2, 1)  # only the unshared file went
        assert client.get(f"/api/calls/{b2.json()['id']}/audio", headers=rep_b.headers).content == wav.read_bytes()
        with session_scope(runtime.engine) as s:
            s.execute(update(Call).where(col(Call.id) == b2.json()["id"]).values(created_at=old, status="done"))
        assert purge_expired(runtime.engine, runtime.store, days=30).audio_files_deleted == 1
        assert list(runtime.store.iter_files()) == []
