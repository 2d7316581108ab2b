"""One redaction decision per name, seen the same in every output of a call.

The call is test_call_audio.wav as transcribed (its reference transcript beside it): a rep following up with
"Dimitri", who compares Shopify and Azure. Utterances are stored as the transcription stage stores them; the
speaker correction, the analysis (redactor and minutes writer) and every read go through the real app.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from insight.db import session_scope
from insight.nlp.minutes.redaction import redact_call, shown_speaker_name
from insight.nlp.pii import PiiRedactor
from insight.runtime import Runtime
from insight.worker import build_runner
from models import Call, Speaker, Utterance
from tests.conftest import AUDIO_EN, make_settings, shared
from tests.fixtures import auth

TRANSCRIPT = AUDIO_EN / "test_call_audio.azure_machine_transcript.txt"
# Dimitri speaks at 0:02 ("Good.") and from 1:40 (the question about optimising his application).
CUSTOMER_STARTS = {2.0, 100.32}


def transcript_lines() -> list[tuple[float, float, str, str]]:
    out = []
    for line in shared(TRANSCRIPT).read_text(encoding="utf-8").splitlines():
        m = re.match(r"\[\s*([\d.]+)-\s*([\d.]+)\] spk=\? (.*)", line)
        assert m is not None, line
        start = float(m[1])
        out.append((start, float(m[2]), "S2" if start in CUSTOMER_STARTS else "S1", m[3]))
    return out


@pytest.fixture
def app_runtime(tmp_path: Path, db_url: str) -> Iterator[Runtime]:
    runtime = Runtime.build(make_settings(tmp_path, db_url, timezone="UTC"))
    yield runtime
    runtime.close()


@pytest.fixture
def client(app_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(app_runtime.settings, runtime=app_runtime, embedded_worker=False)) as c:
        yield c


def stored_call(runtime: Runtime, owner_id: int) -> int:
    """A transcribed call, speakers separated (S1 rep, S2 customer), before its analysis."""
    with session_scope(runtime.engine) as session:
        call = Call(
            audio_sha256="d" * 64, audio_bytes=1, filename="test_call_audio.wav", media_format="wav",
            codec="pcm_s16le", duration_s=120.0, sample_rate=16000, channels=1, language="en", status="done",
            progress=1.0, owner_id=owner_id,
        )  # fmt: skip
        session.add(call)
        session.flush()
        assert call.id is not None
        for i, (start, end, speaker, text) in enumerate(transcript_lines()):
            session.add(Utterance(call_id=call.id, idx=i, start=start, end=end, speaker=speaker, text=text))
        session.add_all(
            [Speaker(call_id=call.id, label="S1", role="rep"), Speaker(call_id=call.id, label="S2", role="customer")]
        )
        return call.id


def test_products_and_speaker_names_get_one_decision_in_every_output(client: TestClient, app_runtime: Runtime) -> None:
    rep = auth.make_user(app_runtime, "rep@example.com", role="rep", team="east")
    manager = auth.make_user(app_runtime, "manager@example.com", role="manager", team="east")
    call_id = stored_call(app_runtime, rep.user_id)

    # The rep names the customer; the call's minutes are rewritten in the background (here: the runner).
    r = client.patch(
        f"/api/calls/{call_id}/speakers", json={"speakers": [{"label": "S2", "name": "Dimitri"}]}, headers=rep.headers
    )
    assert r.status_code == 200, r.text
    assert {s["label"]: s["name"] for s in r.json()["speakers"]}["S2"] == "Dimitri"  # the owner sees originals
    runner = build_runner(app_runtime)
    assert runner.run_next("analyze")

    original = client.get(f"/api/calls/{call_id}/transcript?view=original", headers=rep.headers).json()
    said_azure = sum(u["text"].count("Azure") for u in original["utterances"])
    assert said_azure == 3
    minutes_original = client.get(f"/api/calls/{call_id}/minutes?view=original", headers=rep.headers).json()
    assert "Azure" in {p["name"] for p in minutes_original["minutes"]["products"]}

    for who, query in ((manager, ""), (rep, "?view=redacted")):
        transcript = client.get(f"/api/calls/{call_id}/transcript{query}", headers=who.headers).json()
        assert transcript["view"] == "redacted"
        # The product is kept wherever it was said, not masked once as a person.
        assert sum(u["text"].count("Azure") for u in transcript["utterances"]) == said_azure
        # The customer's name is masked in the text and as the speaker's name alike.
        assert "Dimitri" not in json.dumps(transcript)
        assert {u["speaker_name"] for u in transcript["utterances"] if u["speaker"] == "S2"} == {"[NAME]"}
        assert any("[NAME]" in u["text"] for u in transcript["utterances"])

        minutes: dict[str, Any] = client.get(f"/api/calls/{call_id}/minutes", headers=who.headers).json()["minutes"]
        assert "Dimitri" not in json.dumps(minutes)
        assert {p["speaker"]: p["name"] for p in minutes["participants"]}["S2"] == "[NAME]"
        assert [p["name"] for p in minutes["products"]] == [p["name"] for p in minutes_original["minutes"]["products"]]
        assert all("[NAME]" not in item["text"] for item in minutes["products"])

        markdown = client.get(f"/api/calls/{call_id}/minutes?format=markdown", headers=who.headers).text
        assert "- S2 (customer): [NAME]" in markdown
        assert "Azure (3 mentions)" in markdown
        assert "Dimitri" not in markdown

    # The speakers list and the call page follow the same rule.
    speakers = client.get(f"/api/calls/{call_id}/speakers", headers=manager.headers).json()["speakers"]
    assert {s["label"]: s["name"] for s in speakers} == {"S1": None, "S2": "[NAME]"}
    page = client.get(f"/calls/{call_id}", headers=manager.headers)
    assert page.status_code == 200
    assert "Dimitri" not in page.text
    assert "Azure" in page.text
    # The page shows the call's sentiment as the Markdown minutes do: score and how sure it is.
    # The page is in the reader's language, the Markdown in the call's: compare the figures.
    sentiment = re.search(r"\(([+-]\d\.\d\d), confidence (\d+%)\)", markdown)
    assert sentiment is not None
    assert re.search(rf"\({re.escape(sentiment[1])}, \S+ {sentiment[2]}\)", page.text)
    owner_speakers = client.get(f"/api/calls/{call_id}/speakers", headers=rep.headers).json()["speakers"]
    assert {s["label"]: s["name"] for s in owner_speakers}["S2"] == "Dimitri"


def test_a_finding_is_masked_everywhere_or_nowhere() -> None:
    """NER that takes a word for a person in one sentence and not in the next gets one answer for the call."""
    redactor = PiiRedactor("en")
    texts = [
        "It's Microsoft, it's Azure.",  # "it's Azure" reads as an introduction: a person, alone
        "You're currently using an Azure trial.",
        "Our CFO, Dana Whitfield, decides.",
        "I will send the contract to Dana on Samsung letterhead.",
    ]
    content: dict[str, Any] = {
        "products": [{"name": "Azure", "text": "You're currently using an Azure trial."}],
        "participants": [{"speaker": "S2", "name": None}],
        "summary": [{"text": "Dana asked about Azure."}],
    }
    redactions, minutes = redact_call(texts, content, redactor, speaker_names=["Sam"])
    assert [r.text for r in redactions] == [
        "It's Microsoft, it's Azure.",
        "You're currently using an Azure trial.",
        "Our CFO, [NAME], decides.",
        "I will send the contract to [NAME] on Samsung letterhead.",  # "Dana" alone too; "Sam" is not in "Samsung"
    ]
    assert minutes["products"][0]["name"] == "Azure"
    assert minutes["summary"][0]["text"] == "[NAME] asked about Azure."


def test_a_product_named_as_a_speaker_stays_a_name() -> None:
    """A name users gave a speaker is a person's, even when the minutes list a product of that name."""
    redactor = PiiRedactor("en", use_ner=False)
    content: dict[str, Any] = {"products": [{"name": "Jordan", "text": "Jordan is great."}]}
    redactions, minutes = redact_call(["Jordan is great."], content, redactor, speaker_names=["Jordan"])
    assert redactions[0].text == "[NAME] is great."
    assert minutes["products"][0]["name"] == "[NAME]"


def test_shown_speaker_name() -> None:
    redactor = PiiRedactor("ja", allow_list=["鈴木一郎"], use_ner=False)
    assert shown_speaker_name("田中", original=False, redactor=redactor) == "[氏名]"
    assert shown_speaker_name("田中", original=True, redactor=redactor) == "田中"
    assert shown_speaker_name("鈴木一郎", original=False, redactor=redactor) == "鈴木一郎"  # allow-listed
    assert shown_speaker_name("田中", original=False, redactor=None) == "田中"  # redaction off
    assert shown_speaker_name(None, original=False, redactor=redactor) is None
