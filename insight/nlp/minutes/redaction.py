"""A call's redaction: one decision per name, shared by the redacted transcript, the minutes and speaker names.

Minutes are written from the original transcript (owners and decision makers need their names), so the copies that
readers get by default are made afterwards, together, from one set of decisions:

- the call's **names**: the people the redactor found in the utterances, the people the minutes name (participants,
  owners of next actions, decision makers: the writer finds greetings the NER misses) and the names users gave the
  speakers, each also as its words ("Dana Whitfield" hides a later bare "Dana"). A name is masked wherever it
  appears, in every utterance and every field of the minutes, or nowhere: the redactor's NER judges each sentence
  alone and may take "Azure" for a person in one of them and not in the next;
- the call's **products and competitors** (the minutes' lists, the configured catalog) and the allow-list are not
  names: a finding of the redactor that is one of them is dropped everywhere. A name a user gave a speaker, or that
  the minutes give a participant, stays a name even if it looks like a product;
- other personal data (numbers, addresses, e-mail) is replaced where the redactor found it, and its text wherever
  the minutes quote it; the redactor then runs over the minutes' fields for data they carry in a form the
  transcript did not (an LLM that reformatted a phone number). A person that pass finds joins the call's names, so
  the transcript masks it too.

Speaker names are shown by the same rule (:func:`shown_speaker_name`): in a redacted view, a name a user typed is a
person's name, masked unless allow-listed, as the minutes mask it. Later outputs (search, CRM payloads) call these
functions too.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from insight.nlp.pii import AllowList, PiiRedactor
from insight.nlp.text import fold_width
from insight.nlp.types import EntityCatalog, Lang, PiiKind, PiiSpan, Redaction
from insight.settings import Settings

if TYPE_CHECKING:
    from insight.nlp.pipelines import NlpSource

# Keys whose values are free text that may quote the call; enumerations, dates, ids and numbers are kept.
TEXT_KEYS = frozenset({"text", "name", "expression", "due_text", "title", "organization", "notice"})
# Words of a name that are not names themselves: "Dr. Priya Shah" must not mask every "Dr".
_TITLES = frozenset("mr mrs ms miss mx dr prof sir madam".split())
# A one-character finding (a lone 林, or a misfire on 名) replaced everywhere would mangle unrelated words.
_MIN_PROPAGATED = 2


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


def name_forms(name: str) -> set[str]:
    """A name and the words it is made of, as they may appear alone later ("Dana Whitfield": also "Dana")."""
    name = name.strip()
    if len(name) < _MIN_PROPAGATED or name.startswith("["):
        return set()
    forms = {name}
    words = name.split()
    if len(words) > 1:
        forms.update(
            w for w in words if len(w) >= _MIN_PROPAGATED and w.rstrip(".").casefold() not in _TITLES and w[0].isalpha()
        )
    return forms


def person_names(content: dict[str, Any]) -> set[str]:
    """People the minutes name: participants, owners of next actions, decision makers (with the words of each)."""
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
    return {form for name in names for form in name_forms(name)}


def things_named(content: dict[str, Any]) -> list[str]:
    """The products and competitors the minutes list: names of things, never of people."""
    return [m["name"] for key in ("products", "competitors") for m in content.get(key, []) if m.get("name")]


def _name_pattern(name: str) -> re.Pattern[str]:
    # Latin names as whole words ("Sam" is not in "Samsung"); Japanese has no spaces to tell words apart.
    if name.isascii():
        return re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])")
    return re.compile(re.escape(name))


def add_names(
    text: str,
    redaction: Redaction,
    names: Iterable[str],
    placeholder: str,
    allow_list: Iterable[str] | AllowList = (),
) -> Redaction:
    """``redaction`` of ``text`` with every further occurrence of ``names`` replaced as a person.

    Args:
        text: The original text.
        redaction: Its redaction so far; its spans are kept.
        names: Names to mask wherever they appear outside those spans (longest first).
        placeholder: The person placeholder of the call's language.
        allow_list: Names never masked (entries, or an :class:`AllowList`).
    """
    allowed = allow_list if isinstance(allow_list, AllowList) else AllowList(list(allow_list))
    spans = list(redaction.spans)
    for name in sorted(set(names), key=lambda n: (-len(n), n)):
        if not name.strip() or allowed.allows(PiiKind.PERSON, name):
            continue
        for m in _name_pattern(name).finditer(text):
            if any(m.start() < s.end and s.start < m.end() for s in spans):
                continue
            spans.append(PiiSpan(PiiKind.PERSON, m.start(), m.end(), m.group(), placeholder))
    if len(spans) == len(redaction.spans):
        return redaction
    return _apply(text, spans)


def _apply(text: str, spans: Sequence[PiiSpan]) -> Redaction:
    ordered = sorted(spans, key=lambda s: s.start)
    parts: list[str] = []
    cursor = 0
    for span in ordered:
        parts += [text[cursor : span.start], span.placeholder]
        cursor = span.end
    parts.append(text[cursor:])
    return Redaction(text="".join(parts), spans=tuple(ordered))


class _NameDecisions:
    """Which strings of one call are people's names: one answer for every output."""

    def __init__(
        self, redactor: PiiRedactor, explicit: Iterable[str], things: Iterable[str], allow_list: Iterable[str]
    ) -> None:
        self._redactor = redactor
        self._allow = AllowList(list(allow_list))
        self._things = AllowList(list(things))
        self.explicit = {n for n in explicit if not self._allowed(n)}
        self.names: set[str] = set(self.explicit)

    def _allowed(self, name: str) -> bool:
        return self._redactor.allows(PiiKind.PERSON, name) or self._allow.allows(PiiKind.PERSON, name)

    def is_name(self, original: str) -> bool:
        """Whether a person the redactor found is one: not allow-listed, and not a product or competitor unless
        the call names someone so.
        """
        if self._allowed(original):
            return False
        if original.strip() in self.explicit:
            return True
        return not self._things.allows(PiiKind.PERSON, original)

    def keep(self, spans: Iterable[PiiSpan]) -> list[PiiSpan]:
        """The spans that stand; the people among them join the call's names."""
        kept = [s for s in spans if s.kind is not PiiKind.PERSON or self.is_name(s.original)]
        for span in kept:
            if span.kind is PiiKind.PERSON:
                self.names.update(n for n in name_forms(span.original) if not self._allowed(n))
        return kept

    @property
    def allow(self) -> AllowList:
        return self._allow


def redact_call(
    texts: list[str],
    content: dict[str, Any],
    redactor: PiiRedactor,
    allow_list: Iterable[str] = (),
    *,
    speaker_names: Iterable[str | None] = (),
) -> tuple[list[Redaction], dict[str, Any]]:
    """Redact a call's utterances and its minutes together, with one decision per name (see the module docstring).

    Args:
        texts: The utterances' original text, in order.
        content: The minutes as JSON (``MinutesDoc.model_dump(mode="json")``), written from the original text.
        redactor: The call language's redactor (its allow-list and catalog apply).
        allow_list: Names never redacted (they are also kept when the minutes found them).
        speaker_names: The names users gave the call's speakers: people, masked wherever they appear.

    Returns:
        One redaction per utterance and the redacted copy of the minutes (``content`` is not modified).
    """
    placeholder = redactor.placeholders[PiiKind.PERSON]
    explicit = person_names(content) | {form for n in speaker_names if n for form in name_forms(n)}
    decisions = _NameDecisions(redactor, explicit, things_named(content), allow_list)
    kept = [decisions.keep(r.spans) for r in redactor.redact_many(texts)]

    out: dict[str, Any] = copy.deepcopy(content)
    fields: list[tuple[dict[str, Any], str]] = []
    _walk(out, fields)
    # Other personal data the transcript holds, wherever the minutes quote it (names follow, as whole words).
    known = sorted(
        {(s.original, s.placeholder) for spans in kept for s in spans if s.kind is not PiiKind.PERSON},
        key=lambda pair: len(pair[0]),
        reverse=True,
    )
    known = [(o, p) for o, p in known if len(o.strip()) >= _MIN_PROPAGATED]
    values = [_replace_names(_replace_known(node[key], known), decisions, placeholder) for node, key in fields]
    if values:
        # Data the minutes carry in a form the transcript did not; a person found here is one everywhere.
        second = redactor.redact_many(values)
        values = [_apply(v, decisions.keep(r.spans)).text for v, r in zip(values, second, strict=True)]
        values = [_replace_names(v, decisions, placeholder) for v in values]
    for (node, key), value in zip(fields, values, strict=True):
        node[key] = value

    redactions = [
        add_names(text, _apply(text, spans), decisions.names, placeholder, decisions.allow)
        for text, spans in zip(texts, kept, strict=True)
    ]
    return redactions, out


def _replace_names(value: str, decisions: _NameDecisions, placeholder: str) -> str:
    return add_names(value, Redaction(text=value, spans=()), decisions.names, placeholder, decisions.allow).text


def shown_speaker_name(name: str | None, *, original: bool, redactor: PiiRedactor | None) -> str | None:
    """The speaker name a reader sees.

    A name a user gave a speaker is a person's name: the redacted views (transcript, minutes, the call page, the
    speakers list) show the person placeholder instead, as the redacted minutes do, unless the allow-list or the
    catalog names it. The original view shows it, and so does every view when redaction is off (``redactor`` None).
    """
    if name is None or original or redactor is None:
        return name
    if redactor.allows(PiiKind.PERSON, name):
        return name
    return redactor.placeholders[PiiKind.PERSON]


def redaction_language(language: str | None) -> Lang:
    """The redactor language of a call: Japanese for Japanese codes (``ja``, ``ja-JP``), else English, whose
    patterns and NER still catch numbers, e-mail addresses and most Latin-script names in other languages.
    """
    key = (language or "").strip().lower().replace("_", "-")
    return "ja" if key in ("ja", "jp", "jpn", "japanese") or key.startswith("ja-") else "en"


def call_redactor(
    language: str | None,
    *,
    enabled: bool = True,
    allow_list: Iterable[str] = (),
    catalog: EntityCatalog | None = None,
    nlp: NlpSource | None = None,
) -> PiiRedactor | None:
    """The redactor of a call in ``language`` (None when redaction is off).

    The analysis and every reader of its output build it this way, so they agree on what is a name. Building it is
    cheap: the language pipeline (from ``nlp``, the runtime's ``Models.nlp``; the process-wide one by default) loads
    only when it first finds names.
    """
    if not enabled:
        return None
    return PiiRedactor(redaction_language(language), allow_list=allow_list, catalog=catalog, nlp=nlp)


def redactor_from_settings(
    settings: Settings, language: str | None, *, nlp: NlpSource | None = None
) -> PiiRedactor | None:
    """:func:`call_redactor` configured as the analysis is (``INSIGHT_PII_*``, competitors and products)."""
    return call_redactor(
        language,
        enabled=settings.pii_redaction,
        allow_list=settings.pii_allow_list,
        catalog=EntityCatalog.from_lists(settings.competitors, settings.products),
        nlp=nlp,
    )
