"""The redacted form of a minutes document.

Minutes are written from the original transcript (owners and decision makers need their names), so the copy that
readers get by default is made afterwards, in two passes over every free-text field:

1. every piece of personal data found in the call's transcript (the stored PII spans) is replaced wherever it
   appears, longest first, so a name the redactor found in one utterance is also gone from an item that quotes
   another utterance, or from the owner's name;
2. the redactor runs over the resulting strings, for data the minutes carry in a form the transcript did not
   (an LLM that reformatted a phone number).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from insight.nlp.pii import PiiRedactor
from insight.nlp.text import fold_width

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
    pairs = sorted({(o, p) for o, p in known if o.strip()}, key=lambda pair: len(pair[0]), reverse=True)
    fields: list[tuple[dict[str, Any], str]] = []
    _walk(out, fields)
    for node, key in fields:
        node[key] = _replace_known(node[key], pairs)
    if redactor is not None and fields:
        texts = [node[key] for node, key in fields]
        for (node, key), redaction in zip(fields, redactor.redact_many(texts), strict=True):
            node[key] = redaction.text
    return out
