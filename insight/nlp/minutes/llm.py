"""Optional LLM backend for the minutes: an OpenAI-compatible chat-completions endpoint (Ollama, vLLM, llama.cpp).

Off unless ``INSIGHT_LLM_URL`` is set. The offline minutes are always written first; the LLM is then asked for the
item lists (summary, needs, objections, questions, decisions, next actions, budget, timeline, decision makers,
competitors, products) in the same schema, citing utterance ids from the numbered transcript it is given. Its answer
is validated strictly: JSON only, exactly the schema's keys, every cited id present in the call, dates as ISO
dates. Participants and sentiment stay from the offline writer (they are measured, not written).

Any failure (connection, timeout, HTTP error, not JSON, schema violation, an invented utterance id) raises
:class:`LlmError`, and :func:`write_minutes` keeps the offline minutes instead.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from insight.errors import InsightError
from insight.nlp.minutes.schemas import (
    DecisionMaker,
    Mention,
    MinutesDoc,
    MinutesItem,
    MoneyItem,
    NextAction,
    Owner,
    RoleName,
    TimelineItem,
)
from insight.nlp.minutes.writer import MinutesUtterance, MinutesWriter
from insight.nlp.types import EntityCatalog, Lang

log = logging.getLogger(__name__)

LLM_CONFIDENCE = 0.6  # the model gives no calibrated confidence; its items rank below the offline rules' best


class LlmError(InsightError):
    """The LLM endpoint did not produce valid minutes (unreachable, slow, an error, or an invalid answer)."""

    code = "llm_failed"


# --- what the model must answer (validated) -----------------------------------------------------------------------


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Item(_Answer):
    text: str = Field(min_length=1, max_length=2000)
    utterance_ids: list[int] = Field(min_length=1)


class _Owner(_Answer):
    role: RoleName
    name: str | None = None


class _Action(_Item):
    owner: _Owner
    due: date | None = None
    due_text: str | None = None


class _Money(_Item):
    expression: str
    amount: float | None = None
    currency: str | None = None
    period: Literal["month", "year", "once"] | None = None
    per: str | None = None
    refers_to: Literal["budget", "price", "competitor_price", "other"] = "other"


class _Timeline(_Item):
    expression: str
    date_from: date
    date_to: date


class _DecisionMaker(_Item):
    title: str | None = None
    name: str | None = None


class _Mention(_Item):
    name: str = Field(min_length=1)


class _Minutes(_Answer):
    summary: list[_Item]
    needs: list[_Item] = Field(default_factory=list)
    objections: list[_Item] = Field(default_factory=list)
    questions: list[_Item] = Field(default_factory=list)
    decisions: list[_Item] = Field(default_factory=list)
    next_actions: list[_Action] = Field(default_factory=list)
    budget: list[_Money] = Field(default_factory=list)
    timeline: list[_Timeline] = Field(default_factory=list)
    decision_makers: list[_DecisionMaker] = Field(default_factory=list)
    competitors: list[_Mention] = Field(default_factory=list)
    products: list[_Mention] = Field(default_factory=list)


_INSTRUCTIONS = {
    "ja": "議事録の本文（text）は日本語で書いてください。",
    "en": "Write the text of every item in English.",
}

SYSTEM_PROMPT = """You write the minutes of a recorded sales call. The user message gives the call's date and the
transcript, one utterance per line as "[id] speaker (role, time): text". Answer with one JSON object and nothing else:

{"summary": [item], "needs": [item], "objections": [item], "questions": [item], "decisions": [item],
 "next_actions": [item + {"owner": {"role": "rep"|"customer"|"other"|"unknown", "name": str|null},
                          "due": "YYYY-MM-DD"|null, "due_text": str|null}],
 "budget": [item + {"expression": str, "amount": number|null, "currency": "JPY"|"USD"|..., "period":
            "month"|"year"|"once"|null, "per": str|null, "refers_to": "budget"|"price"|"competitor_price"|"other"}],
 "timeline": [item + {"expression": str, "date_from": "YYYY-MM-DD", "date_to": "YYYY-MM-DD"}],
 "decision_makers": [item + {"title": str|null, "name": str|null}],
 "competitors": [item + {"name": str}], "products": [item + {"name": str}]}

where item = {"text": str, "utterance_ids": [int, ...]}. Rules: every item cites the ids of the utterances it comes
from, and only ids from the transcript; needs, objections and questions are the customer's; resolve relative dates
(next Friday, 来週の金曜日, end of the month) to absolute dates using the call's date; leave a list empty rather than
guess; no keys other than these."""


@dataclass(frozen=True)
class LlmConfig:
    url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 120.0


def _transcript(utterances: Sequence[MinutesUtterance]) -> str:
    lines = []
    for u in utterances:
        minutes, seconds = divmod(int(u.start), 60)
        lines.append(f"[{u.id}] {u.speaker} ({u.role}, {minutes}:{seconds:02d}): {u.text}")
    return "\n".join(lines)


def _content(body: Any) -> str:
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LlmError("the LLM answer is not a chat completion", hint="Check INSIGHT_LLM_URL.") from exc
    if not isinstance(content, str):
        raise LlmError("the LLM answer has no text content")
    return content


def _parse_json(text: str) -> Any:
    # Models often wrap JSON in a Markdown fence despite being told not to.
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    raw = fenced.group(1) if fenced else text
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LlmError(f"the LLM answer is not JSON: {exc}") from exc


class LlmMinutesWriter:
    """Asks an OpenAI-compatible endpoint for the minutes' item lists.

    Args:
        config: Endpoint URL (``.../v1``), model name, optional key, time limit.
        transport: An httpx transport (tests pass none: they run a real local server).
    """

    name = "llm"

    def __init__(self, config: LlmConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self._transport = transport

    @property
    def model(self) -> str:
        return self.config.model

    def complete(self, messages: list[dict[str, str]]) -> str:
        """One chat completion; returns the message text.

        Raises:
            LlmError: network failure, timeout or an HTTP error status.
        """
        url = self.config.url.rstrip("/") + "/chat/completions"
        headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        payload = {
            "model": self.config.model,
            "messages": messages,
            "temperature": 0,
            "response_format": {"type": "json_object"},
        }
        try:
            with httpx.Client(timeout=self.config.timeout_s, transport=self._transport) as client:
                response = client.post(url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise LlmError(
                f"the LLM endpoint failed: {type(exc).__name__}: {exc}", hint="Check INSIGHT_LLM_URL."
            ) from exc
        if response.status_code >= 400:
            raise LlmError(f"the LLM endpoint answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            body = response.json()
        except ValueError as exc:
            raise LlmError("the LLM endpoint did not answer JSON") from exc
        return _content(body)

    def improve(
        self,
        offline: MinutesDoc,
        utterances: Sequence[MinutesUtterance],
        *,
        lang: Lang,
        reference_date: date,
    ) -> MinutesDoc:
        """The offline minutes with their item lists written by the LLM.

        Raises:
            LlmError: the endpoint failed or its answer is not valid minutes for this call.
        """
        user = (
            f"Call date: {reference_date.isoformat()} ({reference_date.strftime('%A')}). Language: {lang}. "
            f"{_INSTRUCTIONS[lang]}\n\nTranscript:\n{_transcript(utterances)}"
        )
        text = self.complete([{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}])
        try:
            answer = _Minutes.model_validate(_parse_json(text))
        except ValidationError as exc:
            raise LlmError(f"the LLM answer does not fit the minutes schema: {exc.error_count()} errors") from exc
        return _to_doc(offline, answer, {u.id: u for u in utterances})


def _to_doc(offline: MinutesDoc, answer: _Minutes, by_id: dict[int, MinutesUtterance]) -> MinutesDoc:
    def base(item: _Item) -> dict[str, Any]:
        unknown = [i for i in item.utterance_ids if i not in by_id]
        if unknown:
            raise LlmError(f"the LLM cited utterances that are not in the call: {unknown[:5]}")
        first = min((by_id[i] for i in item.utterance_ids), key=lambda u: u.start)
        return {
            "text": item.text,
            "utterance_ids": list(dict.fromkeys(item.utterance_ids)),
            "start": round(first.start, 2),
            "speaker": first.speaker,
            "role": first.role,
            "confidence": LLM_CONFIDENCE,
        }

    try:
        return offline.model_copy(
            update={
                "summary": [MinutesItem(**base(i)) for i in answer.summary],
                "needs": [MinutesItem(**base(i)) for i in answer.needs],
                "objections": [MinutesItem(**base(i)) for i in answer.objections],
                "questions": [MinutesItem(**base(i)) for i in answer.questions],
                "decisions": [MinutesItem(**base(i)) for i in answer.decisions],
                "next_actions": [
                    NextAction(
                        **base(a),
                        owner=Owner(role=a.owner.role, name=a.owner.name),
                        due=a.due,
                        due_text=a.due_text,
                    )
                    for a in answer.next_actions
                ],
                "budget": [
                    MoneyItem(**base(m), **m.model_dump(exclude={"text", "utterance_ids"})) for m in answer.budget
                ],
                "timeline": [
                    TimelineItem(**base(t), **t.model_dump(exclude={"text", "utterance_ids"})) for t in answer.timeline
                ],
                "decision_makers": [
                    DecisionMaker(**base(d), title=d.title, name=d.name) for d in answer.decision_makers
                ],
                "competitors": [
                    Mention(**base(c), name=c.name, mentions=len(set(c.utterance_ids))) for c in answer.competitors
                ],
                "products": [
                    Mention(**base(p), name=p.name, mentions=len(set(p.utterance_ids))) for p in answer.products
                ],
            }
        )
    except ValidationError as exc:
        raise LlmError(f"the LLM answer does not fit the minutes schema: {exc.error_count()} errors") from exc


@dataclass(frozen=True)
class WrittenMinutes:
    """Minutes with the backend that wrote them; ``fallback_reason`` says why the LLM's were not used."""

    doc: MinutesDoc
    backend: str
    model: str | None = None
    fallback_reason: str | None = None


def write_minutes(
    utterances: Sequence[MinutesUtterance],
    *,
    offline: MinutesWriter,
    llm: LlmMinutesWriter | None,
    lang: Lang,
    reference_date: date,
    catalog: EntityCatalog | None = None,
) -> WrittenMinutes:
    """Offline minutes, improved by the LLM when one is configured and it answers validly."""
    doc = offline.write(utterances, lang=lang, reference_date=reference_date, catalog=catalog)
    if llm is None or doc.status != "ok":
        return WrittenMinutes(doc=doc, backend=offline.name)
    try:
        better = llm.improve(doc, utterances, lang=lang, reference_date=reference_date)
    except LlmError as exc:
        log.warning("LLM minutes failed, keeping the offline minutes: %s", exc.message)
        return WrittenMinutes(doc=doc, backend=offline.name, fallback_reason=exc.message)
    return WrittenMinutes(doc=better, backend=llm.name, model=llm.model)
