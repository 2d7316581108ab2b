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
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from insight.errors import InsightError
from insight.nlp.minutes.schemas import (
    SECTIONS,
    DecisionMaker,
    Mention,
    MinutesDoc,
    MinutesItem,
    MoneyItem,
    NextAction,
    Owner,
    Section,
    TimelineItem,
    section_item_type,
)
from insight.nlp.minutes.writer import MinutesUtterance, MinutesWriter
from insight.nlp.types import EntityCatalog, Lang

log = logging.getLogger(__name__)

LLM_CONFIDENCE = 0.6  # the model gives no calibrated confidence; its items rank below the offline rules' best


class LlmError(InsightError):
    """The LLM endpoint did not produce valid minutes (unreachable, slow, an error, or an invalid answer)."""

    code = "llm_failed"


# --- what the model must answer (validated), derived from the minutes schema ---------------------------------------

# The model writes what was said and cites it; where the evidence starts, who said it, how sure the item is and how
# often a name was said are measured from the cited utterances (``_to_doc``), so an answer must not carry them.
_MEASURED = frozenset({"start", "speaker", "role", "confidence", "mentions"})


def _answer_model(schema: type[BaseModel], *, exclude: frozenset[str] = _MEASURED, **overrides: Any) -> type[BaseModel]:
    """``schema`` without the ``exclude`` fields, as a strict model (extra keys are an error).

    Args:
        schema: A class of the minutes schema.
        exclude: The fields the model must not fill.
        overrides: ``(type, FieldInfo)`` for fields typed or constrained differently in an answer.
    """
    fields: dict[str, Any] = {
        name: overrides.get(name, (info.annotation, info))
        for name, info in schema.model_fields.items()
        if name not in exclude
    }
    return create_model(f"{schema.__name__}Answer", __config__=ConfigDict(extra="forbid"), **fields)


# The answer model of each item class. An owner's role is the model's to say (only its speaker label is not), and a
# competitor or product it names must have a name.
_ITEM_ANSWERS: dict[type[MinutesItem], type[BaseModel]] = {
    MinutesItem: _answer_model(MinutesItem),
    NextAction: _answer_model(NextAction, owner=(_answer_model(Owner, exclude=frozenset({"speaker"})), ...)),
    MoneyItem: _answer_model(MoneyItem),
    TimelineItem: _answer_model(TimelineItem),
    DecisionMaker: _answer_model(DecisionMaker),
    Mention: _answer_model(Mention, name=(str, Field(min_length=1))),
}

# Every section of the minutes; the model must write a summary, any other list may be absent (empty).
_SECTION_ANSWERS: dict[str, Any] = {
    str(section): (
        list[_ITEM_ANSWERS[section_item_type(section)]],  # type: ignore[misc]
        ... if section is Section.summary else Field(default_factory=list),
    )
    for section in SECTIONS
}
_MinutesAnswer = create_model("MinutesAnswer", __config__=ConfigDict(extra="forbid"), **_SECTION_ANSWERS)


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
    """Where the LLM writer sends requests: OpenAI-compatible base URL, model, optional API key, timeout (s)."""

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
        """The name of the model the endpoint is asked to use."""
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
            answer = _MinutesAnswer.model_validate(_parse_json(text))
        except ValidationError as exc:
            raise LlmError(f"the LLM answer does not fit the minutes schema: {exc.error_count()} errors") from exc
        return _to_doc(offline, answer, {u.id: u for u in utterances})


def _to_doc(offline: MinutesDoc, answer: BaseModel, by_id: dict[int, MinutesUtterance]) -> MinutesDoc:
    def item(item_type: type[MinutesItem], answered: dict[str, Any]) -> MinutesItem:
        ids: list[int] = answered["utterance_ids"]
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise LlmError(f"the LLM cited utterances that are not in the call: {unknown[:5]}")
        first = min((by_id[i] for i in ids), key=lambda u: u.start)
        measured: dict[str, Any] = {
            "utterance_ids": list(dict.fromkeys(ids)),
            "start": round(first.start, 2),
            "speaker": first.speaker,
            "role": first.role,
            "confidence": LLM_CONFIDENCE,
        }
        if "mentions" in item_type.model_fields:
            measured["mentions"] = len(set(ids))
        return item_type.model_validate(answered | measured)

    update: dict[str, list[MinutesItem]] = {}
    try:
        for section in SECTIONS:
            item_type = section_item_type(section)
            update[str(section)] = [item(item_type, a.model_dump()) for a in getattr(answer, section)]
    except ValidationError as exc:
        raise LlmError(f"the LLM answer does not fit the minutes schema: {exc.error_count()} errors") from exc
    return offline.model_copy(update=update)


@dataclass(frozen=True)
class WriterResult:
    """What :func:`write_minutes` returns: the minutes document and which writer wrote it.

    ``backend`` and ``model`` are stored beside the document (``models.Minutes``); ``fallback_reason`` says why the
    LLM's minutes were not used.
    """

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
) -> WriterResult:
    """Offline minutes, improved by the LLM when one is configured and it answers validly."""
    doc = offline.write(utterances, lang=lang, reference_date=reference_date, catalog=catalog)
    if llm is None or doc.status != "ok":
        return WriterResult(doc=doc, backend=offline.name)
    try:
        better = llm.improve(doc, utterances, lang=lang, reference_date=reference_date)
    except LlmError as exc:
        log.warning("LLM minutes failed, keeping the offline minutes: %s", exc.message)
        return WriterResult(doc=doc, backend=offline.name, fallback_reason=exc.message)
    return WriterResult(doc=better, backend=llm.name, model=llm.model)
