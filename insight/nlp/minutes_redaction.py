"""The redacted form of a minutes document, and names the minutes found that the redactor missed.

Minutes are written from the original transcript (owners and decision makers need their names), so the copy that
readers get by default is made afterwards, in two passes over every free-text field:

1. every piece of personal data found in the call's transcript (the stored PII spans) is replaced wherever it
   appears, longest first, so a name the redactor found in one utterance is also gone from an item that quotes
   another utterance, or from the owner's name;
2. the redactor runs over the resulting strings, for data the minutes carry in a form the transcript did not
   (an LLM that reformatted a phone number).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from insight.nlp.pii import PiiRedactor
from insight.nlp.text import fold_width
from insight.nlp.types import PiiKind, PiiSpan, Redaction

# Keys whose values are free text that may quote the call; enumerations, dates, ids and numbers are kept.
TEXT_KEYS = frozenset({"text", "name", "expression", "due_text", "title", "organization", "notice"})


def _replace_known(value: str, known: list[tuple[str, str]]) -> str:
    for original, placeholder in known:
        if original in value:
            value = value.replace(original, placeholder)
        folded = fold_width(original)
        if folded != original and folded in value:
            value = value.replace(folded, placeholder)
    return value


def _walk(node: Any, visit: list[tuple[dict[str, Any], str]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_KEYS and isinstance(value, str):
                visit.append((node, key))
            else:
                _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


def redact_document(
    content: dict[str, Any], known: Iterable[tuple[str, str]], redactor: PiiRedactor | None
) -> dict[str, Any]:
    """A copy of the minutes JSON with personal data replaced.

    Args:
        content: The minutes as JSON (``MinutesDoc.model_dump(mode="json")``).
        known: ``(original, placeholder)`` pairs found in the transcript.
        redactor: Runs over the text fields afterwards; ``None`` skips the second pass.

    Returns:
        The redacted copy; ``content`` is not modified.
    """
    import copy

    out: dict[str, Any] = copy.deepcopy(content)
    # A one-character finding (a lone 林, or a misfire on 名) replaced everywhere would mangle unrelated words; the
    # redactor's own pass below still judges those in context.
    pairs = sorted({(o, p) for o, p in known if len(o.strip()) >= 2}, key=lambda pair: len(pair[0]), reverse=True)
    fields: list[tuple[dict[str, Any], str]] = []
    _walk(out, fields)
    for node, key in fields:
        node[key] = _replace_known(node[key], pairs)
    if redactor is not None and fields:
        texts = [node[key] for node, key in fields]
        for (node, key), redaction in zip(fields, redactor.redact_many(texts), strict=True):
            node[key] = redaction.text
    return out


def person_names(content: dict[str, Any]) -> set[str]:
    """People the minutes name: participants, owners of next actions, decision makers.

    The writer finds names the redactor's NER can miss ("Hi Priya," in a greeting); they are personal data too.
    """
    names: set[str] = set()
    for p in content.get("participants", []):
        if p.get("name"):
            names.add(p["name"])
    for a in content.get("next_actions", []):
        if a.get("owner", {}).get("name"):
            names.add(a["owner"]["name"])
    for d in content.get("decision_makers", []):
        if d.get("name"):
            names.add(d["name"])
    # "Dana Whitfield" also hides a later bare "Dana".
    for name in list(names):
        names.update(part for part in name.split() if len(part) >= 2)
    return {n for n in names if n.strip() and not n.startswith("[")}


def _allowed(name: str, allow_list: Iterable[str]) -> bool:
    key = "".join(fold_width(name).casefold().split())
    return any(key and key in "".join(fold_width(a).casefold().split()) for a in allow_list)


def add_names(
    text: str, redaction: Redaction, names: Iterable[str], placeholder: str, allow_list: Iterable[str] = ()
) -> Redaction:
    """``redaction`` of ``text`` with every further occurrence of ``names`` replaced as a person."""
    allowed = list(allow_list)
    spans = list(redaction.spans)
    for name in sorted(set(names), key=len, reverse=True):
        if _allowed(name, allowed):
            continue
        boundary = name.isascii()
        pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])" if boundary else re.escape(name))
        for m in pattern.finditer(text):
            if any(m.start() < s.end and s.start < m.end() for s in spans):
                continue
            spans.append(PiiSpan(PiiKind.PERSON, m.start(), m.end(), m.group(), placeholder))
    if len(spans) == len(redaction.spans):
        return redaction
    spans.sort(key=lambda s: s.start)
    parts: list[str] = []
    cursor = 0
    for span in spans:
        parts += [text[cursor : span.start], span.placeholder]
        cursor = span.end
    parts.append(text[cursor:])
    return Redaction(text="".join(parts), spans=tuple(spans))


def redact_call(
    texts: list[str], content: dict[str, Any], redactor: PiiRedactor, allow_list: Iterable[str] = ()
) -> tuple[list[Redaction], dict[str, Any]]:
    """Redact a call's utterances and its minutes together.

    Args:
        texts: The utterances' original text, in order.
        content: The minutes as JSON, written from the original text.
        redactor: The call language's redactor.
        allow_list: Names never redacted (they are also kept when the minutes found them).

    Returns:
        One redaction per utterance (the redactor's findings plus the people the minutes name) and the redacted
        minutes.
    """
    names = person_names(content)
    placeholder = redactor.placeholders[PiiKind.PERSON]
    allowed = list(allow_list)
    redactions = [
        add_names(t, r, names, placeholder, allowed) for t, r in zip(texts, redactor.redact_many(texts), strict=True)
    ]
    known = [(span.original, span.placeholder) for redaction in redactions for span in redaction.spans]
    return redactions, redact_document(content, known, redactor)
