"""Minutes end to end: synthesised sales calls and a real one through the real pipeline (upload → Whisper →
speakers → redaction and minutes) and the API, checked against the facts the scripts contain."""

from __future__ import annotations

import json
import math
import wave
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.main import create_app
from insight import pipeline
from insight.demo import samples
from insight.demo.scripts import EN_SALES_CALL, JA_SALES_CALL
from insight.runtime import Runtime
from insight.worker import build_runner
from models import Minutes, Utterance
from tests.conftest import AUDIO_EN, make_settings, shared
from tests.fixtures import auth, bad_audio

pytestmark = pytest.mark.model

NEEDS_ESPEAK = pytest.mark.skipif(not samples.english_available(), reason="espeak-ng is not installed")
# The scripted calls took place on Wednesday 2026-11-25 (10:00 in Tokyo): 来週の金曜日 / next Friday = 12-04.
RECORDED_AT = "2026-11-25T10:00:00+09:00"
# With aliases for how Whisper may spell what it hears (beam search writes サイボーズ on some CPUs), as a user would
# configure them: the minutes name the catalog's entry whichever spelling the transcript has.
CATALOG = {"competitors": ["サイボウズ|サイボーズ|Cybozu|kintone", "Salesforce", "HubSpot"], "products": []}
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, samples.SampleCall]:
    out = tmp_path_factory.mktemp("minutes_calls")
    scripts = [JA_SALES_CALL] + ([EN_SALES_CALL] if samples.english_available() else [])
    scripts.append(
        samples.Script(key="ja_one_word", language="ja", title="一言", turns=(samples.Turn("customer", "はい。"),))
    )
    return {s.key: samples.synthesize(s, out) for s in scripts}


@pytest.fixture
def app_runtime(tmp_path: Path, db_url: str, transcriber: Any) -> Iterator[Runtime]:
    settings = make_settings(tmp_path, db_url, competitors=CATALOG["competitors"], timezone="Asia/Tokyo")
    runtime = Runtime.build(settings)
    runtime.models.set_transcriber(transcriber)
    yield runtime
    runtime.close()


@pytest.fixture
def people(app_runtime: Runtime) -> dict[str, auth.Account]:
    """The call's owner (a rep) and their manager, who reads the redacted text only."""
    return {
        "rep": auth.make_user(app_runtime, "rep@example.com", role="rep", team="east"),
        "manager": auth.make_user(app_runtime, "manager@example.com", role="manager", team="east"),
    }


@pytest.fixture
def client(app_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(app_runtime.settings, runtime=app_runtime, embedded_worker=False)) as c:
        yield c


def process(client: TestClient, runtime: Runtime, owner: auth.Account, path: Path, **form: str) -> int:
    with path.open("rb") as fh:
        r = client.post("/api/calls", files={"file": (path.name, fh)}, data=form, headers=owner.headers)
    assert r.status_code == 201, r.text
    runner = build_runner(runtime)
    while runner.run_next("transcribe") or runner.run_next("analyze"):
        pass
    call = client.get(f"/api/calls/{r.json()['id']}", headers=owner.headers).json()
    assert call["status"] == "done", call
    assert [j["name"] for j in call["jobs"]] == [stage.name for stage in pipeline.REGISTRY.stages]
    return int(call["id"])


def utterances(runtime: Runtime, call_id: int) -> dict[int, Utterance]:
    with Session(runtime.engine) as s:
        rows = s.exec(select(Utterance).where(Utterance.call_id == call_id).order_by(col(Utterance.idx))).all()
    return {u.id: u for u in rows if u.id is not None}


def turn_of(call: samples.SampleCall, phrase: str) -> samples.PlacedTurn:
    matches = [t for t in call.turns if phrase in t.text]
    assert len(matches) == 1, phrase
    return matches[0]


def cites(item: dict[str, Any], rows: dict[int, Utterance], turn: samples.PlacedTurn) -> bool:
    """The item's evidence is the utterance where the scripted turn was said (their times overlap)."""
    return any(rows[i].start < turn.end + 0.3 and turn.start - 0.3 < rows[i].end for i in item["utterance_ids"])


def no_pii_leaks(text: str, secrets: set[str]) -> list[str]:
    return sorted(s for s in secrets if s in text)


@SQLITE_ONLY
def test_japanese_sales_call(
    client: TestClient, app_runtime: Runtime, people: dict[str, auth.Account], rendered: dict[str, samples.SampleCall]
) -> None:
    call = rendered["ja_minutes_call"]
    rep, manager = people["rep"], people["manager"]
    call_id = process(client, app_runtime, rep, call.stereo_path, rep_channel="left", recorded_at=RECORDED_AT)
    rows = utterances(app_runtime, call_id)
    body = client.get(f"/api/calls/{call_id}/minutes", params={"view": "original"}, headers=rep.headers).json()
    assert (body["view"], body["backend"]) == ("original", "offline")
    m = body["minutes"]
    assert (m["language"], m["reference_date"], m["status"]) == ("ja", "2026-11-25", "ok")

    # Exactly the two next actions, with owners and absolute due dates, citing where they were said.
    actions = m["next_actions"]
    assert [(a["owner"]["role"], a["due"]) for a in actions] == [("rep", "2026-12-04"), ("customer", "2026-11-30")]
    assert cites(actions[0], rows, turn_of(call, "お見積もりをお送りします"))
    assert cites(actions[1], rows, turn_of(call, "社内の承認"))
    assert actions[1]["owner"]["name"] == "山田"
    # Exactly the budget and the price quoted.
    money = {(b["amount"], b["currency"], b["period"], b["refers_to"]) for b in m["budget"]}
    assert money == {(4_000_000, "JPY", "year", "budget"), (300_000, "JPY", "month", "price")}
    budget = next(b for b in m["budget"] if b["refers_to"] == "budget")
    assert cites(budget, rows, turn_of(call, "四百万円"))
    # The competitor, the decision maker, the timeline and the decision.
    assert [c["name"] for c in m["competitors"]] == ["サイボウズ"]
    assert cites(m["competitors"][0], rows, turn_of(call, "サイボウズ"))
    assert [(d["title"], d["name"]) for d in m["decision_makers"]] == [("営業部長", "鈴木")]
    assert cites(m["decision_makers"][0], rows, turn_of(call, "最終的な判断"))
    assert [(t["date_from"], t["date_to"]) for t in m["timeline"]] == [("2027-04-01", "2027-04-30")]
    assert len(m["decisions"]) == 1
    assert "無料" in m["decisions"][0]["text"]  # トライアル comes out as ドライアル on some CPUs
    assert cites(m["decisions"][0], rows, turn_of(call, "トライアル"))
    assert any("高い" in o["text"] for o in m["objections"])
    assert len(m["questions"]) >= 5
    assert 3 <= len(m["summary"]) <= 12

    # PII: the names said in the call are in the original minutes and nowhere in what readers get by default.
    secrets = {"佐藤", "山田", "鈴木"}
    stored = {span["original"] for u in rows.values() for span in (u.pii or []) if len(span["original"]) >= 2}
    assert secrets <= stored  # the redactor found every name in the transcript
    assert no_pii_leaks(json.dumps(m, ensure_ascii=False), secrets) == sorted(secrets)
    default = client.get(f"/api/calls/{call_id}/minutes", headers=rep.headers)
    assert default.json()["view"] == "redacted"
    assert no_pii_leaks(default.text, secrets | stored) == []
    with Session(app_runtime.engine) as s:
        row = s.get(Minutes, call_id)
        assert row is not None
        assert no_pii_leaks(json.dumps(row.content_redacted, ensure_ascii=False), secrets | stored) == []
    assert "[氏名]" in default.text
    # The manager reads redacted minutes and, by default, the redacted transcript; originals are refused.
    assert no_pii_leaks(client.get(f"/api/calls/{call_id}/minutes", headers=manager.headers).text, secrets) == []
    transcript = client.get(f"/api/calls/{call_id}/transcript", headers=manager.headers)
    assert transcript.json()["view"] == "redacted"
    assert transcript.json()["utterances"]
    assert no_pii_leaks(transcript.text, secrets | stored) == []
    refused = client.get(f"/api/calls/{call_id}/minutes", params={"view": "original"}, headers=manager.headers)
    assert refused.status_code == 403

    # Markdown in Japanese, by parameter or by Accept header, linking each item to its utterance.
    md = client.get(f"/api/calls/{call_id}/minutes?format=markdown", headers=rep.headers)
    assert md.headers["content-type"].startswith("text/markdown")
    assert "## ネクストアクション" in md.text
    assert f"(/calls/{call_id}#u{actions[0]['utterance_ids'][0]})" in md.text
    assert "2026-12-04 (来週の金曜日)" in md.text
    assert no_pii_leaks(md.text, secrets) == []
    by_accept = client.get(f"/api/calls/{call_id}/minutes", headers={**rep.headers, "Accept": "text/markdown"})
    assert by_accept.text == md.text
    # The call page shows the minutes with links to the evidence rows.
    page = client.get(f"/calls/{call_id}?lang=ja", headers=rep.headers)
    assert "議事録" in page.text
    assert f'href="#u{actions[0]["utterance_ids"][0]}"' in page.text


@SQLITE_ONLY
@NEEDS_ESPEAK
def test_english_sales_call(
    client: TestClient, app_runtime: Runtime, people: dict[str, auth.Account], rendered: dict[str, samples.SampleCall]
) -> None:
    call = rendered["en_minutes_call"]
    rep = people["rep"]
    call_id = process(client, app_runtime, rep, call.stereo_path, rep_channel="left", recorded_at=RECORDED_AT)
    rows = utterances(app_runtime, call_id)
    m = client.get(f"/api/calls/{call_id}/minutes?view=original", headers=rep.headers).json()["minutes"]
    assert (m["language"], m["status"]) == ("en", "ok")
    actions = m["next_actions"]
    assert [(a["owner"]["role"], a["due"]) for a in actions] == [("rep", "2026-12-04"), ("customer", "2026-11-30")]
    assert cites(actions[0], rows, turn_of(call, "send you the proposal"))
    assert cites(actions[1], rows, turn_of(call, "security questionnaire"))
    money = {(b["amount"], b["currency"], b["period"], b["per"], b["refers_to"]) for b in m["budget"]}
    assert money == {(50_000, "USD", "year", None, "budget"), (45, "USD", "month", "seat", "price")}
    assert [c["name"] for c in m["competitors"]] == ["Salesforce"]  # Whisper writes "sales force"
    assert cites(m["competitors"][0], rows, turn_of(call, "Salesforce"))
    makers = m["decision_makers"]
    assert [d["name"] for d in makers] == ["Maria Lopez"]
    assert "president" in makers[0]["title"].lower()
    assert [(t["date_from"], t["date_to"]) for t in m["timeline"]] == [("2027-01-01", "2027-01-31")]
    assert len(m["decisions"]) == 1
    assert "pilot" in m["decisions"][0]["text"]
    assert cites(m["decisions"][0], rows, turn_of(call, "pilot"))
    assert {(p["role"], p["name"]) for p in m["participants"]} == {("rep", "David Morgan"), ("customer", "Emily")}

    secrets = {"David", "Morgan", "Emily", "Maria", "Lopez"}
    assert set(no_pii_leaks(json.dumps(m), secrets)) == secrets
    redacted = client.get(f"/api/calls/{call_id}/minutes", headers=rep.headers)
    assert no_pii_leaks(redacted.text, secrets) == []
    transcript = client.get(f"/api/calls/{call_id}/transcript?view=redacted", headers=rep.headers)
    assert no_pii_leaks(transcript.text, secrets) == []
    md = client.get(f"/api/calls/{call_id}/minutes?format=markdown", headers=rep.headers).text
    assert "## Next actions" in md
    assert "owner: rep ([NAME])" in md


@SQLITE_ONLY
def test_real_sales_call_names_the_prospect_products_and_follow_up(
    client: TestClient, app_runtime: Runtime, people: dict[str, auth.Account]
) -> None:
    """test_call_audio.wav: a rep following up with "Dimitri", who compares Shopify and Azure (one mono channel)."""
    rep = people["rep"]
    call_id = process(client, app_runtime, rep, shared(AUDIO_EN / "test_call_audio.wav"))
    m = client.get(f"/api/calls/{call_id}/minutes?view=original", headers=rep.headers).json()["minutes"]
    assert m["status"] == "ok"
    prospect = [p for p in m["participants"] if p["role"] == "customer"]
    assert [p["name"] for p in prospect] == ["Dimitri"]
    assert {"Shopify", "Azure"} <= {x["name"] for x in m["products"] + m["competitors"]}
    rows = utterances(app_runtime, call_id)
    compared = [x for x in m["products"] + m["competitors"] if x["name"] in ("Shopify", "Azure")]
    assert all(any(30.0 < rows[i].start < 50.0 for i in x["utterance_ids"]) for x in compared)  # said at ~0:37
    # What the rep is to follow up on: the prospect's request for a service that optimises their application
    # (asked at 1:40), and the competitor's price the rep quoted.
    follow_up = [n for n in m["needs"] + m["questions"] if "optimiz" in n["text"]]
    assert len(follow_up) == 1
    assert follow_up[0]["role"] == "customer"
    assert 95.0 < follow_up[0]["start"] < 105.0
    assert any(b["amount"] == 29 and b["period"] == "month" for b in m["budget"])


def music(path: Path, seconds: float = 8.0) -> Path:
    """Chords with a melody and a beat, no voice."""
    rate = 16000
    t = np.arange(int(seconds * rate)) / rate
    notes = [261.6, 329.6, 392.0, 523.3]
    signal = sum(0.08 * np.sin(2 * math.pi * f * t) * (1 + 0.3 * np.sin(2 * math.pi * 0.5 * t)) for f in notes)
    melody = 0.1 * np.sin(2 * math.pi * np.array(notes)[(t * 2).astype(int) % 4] * 2 * t)
    beat = np.random.default_rng(7).normal(0, 0.2, t.size) * (np.mod(t, 0.5) < 0.03)
    pcm = np.clip((signal + melody + beat) * 32767, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


@pytest.mark.parametrize("kind", ["silence", "music", "one_word"])
def test_bad_input_gets_minutes_that_say_so(
    client: TestClient,
    app_runtime: Runtime,
    people: dict[str, auth.Account],
    rendered: dict[str, samples.SampleCall],
    tmp_path: Path,
    kind: str,
) -> None:
    rep = people["rep"]
    path = {
        "silence": lambda: bad_audio.silent_wav(tmp_path / "silence.wav", seconds=4.0),
        "music": lambda: music(tmp_path / "music.wav"),
        "one_word": lambda: rendered["ja_one_word"].mono_path,
    }[kind]()
    call_id = process(client, app_runtime, rep, path, language="ja", recorded_at=RECORDED_AT)
    body = client.get(f"/api/calls/{call_id}/minutes", headers=rep.headers).json()
    m = body["minutes"]
    expected = {"silence": {"empty"}, "music": {"empty", "too_short"}, "one_word": {"too_short"}}[kind]
    assert m["status"] in expected
    assert m["notice"]
    for name in ("summary", "needs", "objections", "questions", "decisions", "next_actions", "budget", "timeline"):
        assert m[name] == [], name
    assert m["decision_makers"] == m["competitors"] == m["products"] == []
    md = client.get(f"/api/calls/{call_id}/minutes?format=markdown", headers=rep.headers).text
    assert m["notice"] in md
    if kind == "one_word":
        assert "はい" in m["notice"]


def test_no_minutes_before_analysis(
    client: TestClient, app_runtime: Runtime, people: dict[str, auth.Account], tmp_path: Path
) -> None:
    rep = people["rep"]
    wav = bad_audio.good_wav(tmp_path / "x.wav", seconds=1.0, channels=1)
    with wav.open("rb") as fh:
        call_id = client.post("/api/calls", files={"file": ("x.wav", fh)}, headers=rep.headers).json()["id"]
    r = client.get(f"/api/calls/{call_id}/minutes", headers=rep.headers)
    assert r.status_code == 404
    assert "queued" in r.json()["error"]["hint"]
    bad = client.post(
        "/api/calls",
        files={"file": ("y.wav", b"RIFF")},
        data={"recorded_at": "2026-11-25T10:00:00"},
        headers=rep.headers,
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_recorded_at"


def test_reference_date_is_the_local_day_of_the_call() -> None:
    from insight.nlp.service import call_date
    from models import Call

    late = Call(
        audio_sha256="x",
        audio_bytes=1,
        filename="x",
        media_format="wav",
        codec="pcm",
        duration_s=1,
        sample_rate=16000,
        channels=1,
        recorded_at=datetime(2026, 11, 29, 23, 30, tzinfo=UTC),
    )
    # Sunday 23:30 UTC is Monday morning in Tokyo: "next week" means different weeks.
    assert call_date(late, "Asia/Tokyo") == date(2026, 11, 30)
    assert call_date(late, "UTC") == date(2026, 11, 29)


class GermanTranscriber:
    """Stands in for Whisper on a call in a language without a pipeline (the only fake here: the ASR edge)."""

    def detect_language(self, audio: Any) -> tuple[str, float]:
        return "de", 0.99

    def transcribe(self, audio: Any, *, language: str, offset_s: float = 0.0, **kw: Any) -> list[Any]:
        from insight.transcribe.types import Segment, Word

        words = (
            "Guten",
            " Tag,",
            " hier",
            " spricht",
            " Anna",
            " Schmidt,",
            " rufen",
            " Sie",
            " 030",
            " 1234567",
            " an.",
        )
        timed = tuple(Word(offset_s + 0.3 * i, offset_s + 0.3 * i + 0.25, w, 0.9) for i, w in enumerate(words))
        return [Segment(start=timed[0].start, end=timed[-1].end, text="".join(words), words=timed)]


def test_unsupported_language_is_redacted_and_says_so(
    client: TestClient, app_runtime: Runtime, people: dict[str, auth.Account], tmp_path: Path
) -> None:
    app_runtime.models.set_transcriber(GermanTranscriber())
    rep = people["rep"]
    wav = bad_audio.good_wav(tmp_path / "de.wav", seconds=4.0, channels=1)
    call_id = process(client, app_runtime, rep, wav)
    m = client.get(f"/api/calls/{call_id}/minutes", headers=rep.headers).json()["minutes"]
    assert (m["language"], m["status"]) == ("de", "unsupported_language")
    assert "'de'" in m["notice"]
    assert m["summary"] == m["next_actions"] == []
    # The English patterns and NER still redact: the phone number and the name are gone (with some over-redaction).
    transcript = client.get(f"/api/calls/{call_id}/transcript?view=redacted", headers=rep.headers).json()
    text = " ".join(u["text"] for u in transcript["utterances"])
    assert "spricht" in text
    assert "[PHONE]" in text
    assert "1234567" not in text
    assert "Schmidt" not in text
