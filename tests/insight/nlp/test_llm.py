"""The LLM minutes backend against a real local HTTP server speaking OpenAI's chat-completions protocol.

The server answers what each test scripts (a valid answer, an HTTP error, prose instead of JSON, a schema violation,
an invented utterance id, a stall past the time limit) and records the requests it got.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from spacy.language import Language
from sqlmodel import Session

from insight.db import session_scope
from insight.nlp.embeddings import Embedder, get_embedder
from insight.nlp.minutes.llm import LlmConfig, LlmMinutesWriter, write_minutes
from insight.nlp.minutes.writer import MinutesUtterance, OfflineMinutesWriter
from insight.nlp.service import AnalyzeConfig, analyze_call
from insight.runtime import Runtime
from models import Call, Minutes, Speaker, Utterance
from tests.insight.nlp.conftest import REFERENCE
from tests.insight.nlp.test_minutes import EN_CALL


@dataclass
class FakeLlm:
    """What the server answers next: (HTTP status, body), or a delay before answering."""

    status: int = 200
    body: Any = None
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def chat(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
    }


@pytest.fixture
def llm_server() -> Iterator[tuple[str, FakeLlm]]:
    state = FakeLlm()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("content-length", 0))
            state.requests.append(json.loads(self.rfile.read(length)))
            state.headers.append(dict(self.headers))
            if self.path != "/v1/chat/completions":
                self.send_error(404)
                return
            time.sleep(state.delay_s)
            payload = state.body if isinstance(state.body, bytes) else json.dumps(state.body).encode()
            try:
                self.send_response(state.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def offline(nlp_en: Language) -> OfflineMinutesWriter:
    embedder: Embedder = get_embedder()
    return OfflineMinutesWriter(embedder)


GOOD = {
    "summary": [
        {"text": "Priya's team uses Salesforce but the data is stale.", "utterance_ids": [102]},
        {"text": "Price is $75 per seat; budget is $3,000 a month.", "utterance_ids": [105, 106]},
    ],
    "needs": [{"text": "Reliable forecast without manual updates.", "utterance_ids": [102]}],
    "objections": [{"text": "Price is above expectations.", "utterance_ids": [106]}],
    "questions": [{"text": "How much does it cost?", "utterance_ids": [104]}],
    "decisions": [{"text": "Demo with Dana next Tuesday.", "utterance_ids": [109, 110]}],
    "next_actions": [
        {
            "text": "Send the updated quote.",
            "utterance_ids": [111],
            "owner": {"role": "rep", "name": "Sam"},
            "due": "2026-11-27",
            "due_text": "by Friday",
        }
    ],
    "budget": [
        {
            "text": "Budget of $3,000 a month.",
            "utterance_ids": [106],
            "expression": "three thousand dollars a month",
            "amount": 3000,
            "currency": "USD",
            "period": "month",
            "refers_to": "budget",
        }
    ],
    "timeline": [
        {
            "text": "Go live in March.",
            "utterance_ids": [108],
            "expression": "March",
            "date_from": "2027-03-01",
            "date_to": "2027-03-31",
        }
    ],
    "decision_makers": [{"text": "The CFO decides.", "utterance_ids": [107], "title": "CFO", "name": "Dana Whitfield"}],
    "competitors": [{"text": "Uses Salesforce today.", "utterance_ids": [102], "name": "Salesforce"}],
    "products": [],
}


def run(url: str, offline: OfflineMinutesWriter, utterances: list[MinutesUtterance] = EN_CALL):  # type: ignore[no-untyped-def]
    llm = LlmMinutesWriter(LlmConfig(url=url, model="test-model", api_key="sk-test", timeout_s=2.0))
    return write_minutes(utterances, offline=offline, llm=llm, lang="en", reference_date=REFERENCE)


def test_valid_answer_becomes_the_minutes(llm_server: tuple[str, FakeLlm], offline: OfflineMinutesWriter) -> None:
    url, state = llm_server
    # Models like to fence their JSON: accepted.
    state.body = chat("```json\n" + json.dumps(GOOD) + "\n```")
    written = run(url, offline)
    assert (written.backend, written.model, written.fallback_reason) == ("llm", "test-model", None)
    doc = written.doc
    assert [s.text for s in doc.summary] == [i["text"] for i in GOOD["summary"]]
    action = doc.next_actions[0]
    assert (action.owner.role, action.owner.name, action.due) == ("rep", "Sam", date(2026, 11, 27))
    # Evidence comes from the call: start time, speaker and role of the cited utterance.
    assert (action.start, action.speaker, action.role) == (50.0, "S1", "rep")
    assert doc.budget[0].amount == 3000
    assert doc.decision_makers[0].name == "Dana Whitfield"
    # Participants and sentiment stay measured by the offline pipeline.
    assert [p.name for p in doc.participants] == ["Sam", "Priya"]
    assert doc.sentiment is not None
    # What went over the wire: an OpenAI chat completion request with the numbered transcript.
    request = state.requests[0]
    assert request["model"] == "test-model"
    assert request["temperature"] == 0
    assert [m["role"] for m in request["messages"]] == ["system", "user"]
    assert (
        "[111] S1 (rep, 0:50): Great. I will send you the updated quote by Friday." in request["messages"][1]["content"]
    )
    assert "Call date: 2026-11-25 (Wednesday)" in request["messages"][1]["content"]
    assert state.headers[0]["Authorization"] == "Bearer sk-test"


@pytest.mark.parametrize(
    ("status", "body", "delay", "reason"),
    [
        (500, {"error": {"message": "model crashed"}}, 0.0, "HTTP 500"),
        (200, chat("Here are the minutes: the customer wants a demo."), 0.0, "not JSON"),
        (200, chat(json.dumps({**GOOD, "mood": "great"})), 0.0, "schema"),
        (200, chat(json.dumps({**GOOD, "questions": [{"text": "Cost?", "utterance_ids": [999]}]})), 0.0, "[999]"),
        (200, chat(json.dumps({**GOOD, "summary": [{"text": "", "utterance_ids": [101]}]})), 0.0, "schema"),
        (200, {"unexpected": True}, 0.0, "not a chat completion"),
        (200, b"<html>proxy error</html>", 0.0, "did not answer JSON"),
        (200, chat(json.dumps(GOOD)), 3.0, "ReadTimeout"),
    ],
    ids=["http-500", "prose", "extra-key", "invented-id", "empty-text", "not-chat", "not-json-body", "timeout"],
)
def test_any_failure_keeps_the_offline_minutes(
    llm_server: tuple[str, FakeLlm],
    offline: OfflineMinutesWriter,
    status: int,
    body: Any,
    delay: float,
    reason: str,
) -> None:
    url, state = llm_server
    state.status, state.body, state.delay_s = status, body, delay
    written = run(url, offline)
    assert written.backend == "offline"
    assert written.fallback_reason is not None
    assert reason in written.fallback_reason
    expected = offline.write(EN_CALL, lang="en", reference_date=REFERENCE)
    assert written.doc == expected


def test_unreachable_endpoint_and_empty_call(offline: OfflineMinutesWriter, llm_server: tuple[str, FakeLlm]) -> None:
    written = run("http://127.0.0.1:9/v1", offline)  # nothing listens on the discard port
    assert written.backend == "offline"
    assert written.fallback_reason is not None
    assert "ConnectError" in written.fallback_reason
    # A call with nothing to summarise is not sent to the LLM at all.
    url, state = llm_server
    written = run(url, offline, utterances=[])
    assert written.doc.status == "empty"
    assert state.requests == []


def test_analyze_stage_stores_which_backend_wrote_the_minutes(
    llm_server: tuple[str, FakeLlm], runtime: Runtime, nlp_en: Language
) -> None:
    """Through the stage's service and the database: the LLM's minutes are stored as such, a failure as offline."""
    url, state = llm_server
    settings = runtime.settings.model_copy(update={"llm_url": url, "llm_model": "test-model", "timezone": "UTC"})
    config = AnalyzeConfig.from_settings(settings)
    assert config.llm == LlmConfig(url=url, model="test-model", api_key=None, timeout_s=120.0)
    with session_scope(runtime.engine) as session:
        call = Call(
            audio_sha256="b" * 64, audio_bytes=1, filename="c.wav", media_format="wav", codec="pcm_s16le",
            duration_s=60.0, sample_rate=16000, channels=1, language="en",
            recorded_at=datetime(2026, 11, 25, 12, tzinfo=UTC),
        )  # fmt: skip
        session.add(call)
        session.flush()
        assert call.id is not None
        call_id = call.id
        rows = [
            Utterance(call_id=call_id, idx=i, start=u.start, end=u.end, speaker=u.speaker, text=u.text)
            for i, u in enumerate(EN_CALL)
        ]
        session.add_all(rows)
        session.add_all(
            [Speaker(call_id=call_id, label="S1", role="rep"), Speaker(call_id=call_id, label="S2", role="customer")]
        )
        session.flush()
        by_script_id = {101 + i: u.id for i, u in enumerate(rows)}
    # The stored utterances have their own ids: the model's answer cites those.
    answer = json.loads(json.dumps(GOOD))
    for section in answer.values():
        for item in section:
            item["utterance_ids"] = [by_script_id[i] for i in item["utterance_ids"]]
    state.body = chat(json.dumps(answer))
    write = analyze_call(engine=runtime.engine, call_id=call_id, config=config, models=runtime.models)
    with session_scope(runtime.engine) as session:
        write(session)
    with Session(runtime.engine) as session:
        row = session.get(Minutes, call_id)
        assert row is not None
        assert (row.backend, row.model, row.language) == ("llm", "test-model", "en")
        assert row.content["summary"][0]["text"] == GOOD["summary"][0]["text"]
        assert row.content_redacted is not None
    state.status, state.body = 503, {"error": "overloaded"}
    write = analyze_call(engine=runtime.engine, call_id=call_id, config=config, models=runtime.models)
    with session_scope(runtime.engine) as session:
        write(session)
    with Session(runtime.engine) as session:
        row = session.get(Minutes, call_id)
        assert row is not None
        assert (row.backend, row.model) == ("offline", None)
