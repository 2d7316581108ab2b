"""Sentences of a call for the minutes: utterances cut into sentences, parsed once, with their evidence.

A sentence Whisper split over two utterances of one speaker ("来週の金曜日までに" | "お見積もりをお送りします。") is
joined again and cites both. Each sentence is parsed once (tokens for the summary, person names, resolved dates).
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from insight.nlp.dates import DateContext, find_dates
from insight.nlp.minutes import cues
from insight.nlp.minutes.schemas import MinutesItem, RoleName
from insight.nlp.text import split_sentences
from insight.nlp.types import DateMention, EntityLabel, Lang

if TYPE_CHECKING:
    from spacy.language import Language

# spaCy pipelines may not be thread-safe; one parse at a time per process.
_PARSE_LOCK = threading.Lock()

_TERMINAL = "。．！？!?."
_FUNCTION_POS = frozenset({"ADP", "AUX", "PART", "PUNCT", "SCONJ", "CCONJ", "DET", "PRON", "SYM", "SPACE", "NUM"})
# Whisper's markers for non-speech, removed before deciding whether there is anything to write minutes about.
NON_SPEECH = re.compile(
    r"[♪♫♬]+|[\[(（【](?:music|音楽|拍手|applause|laughter|笑|silence|無音|BLANK_AUDIO)[\])）】]", re.I
)


@dataclass(frozen=True)
class MinutesUtterance:
    """One utterance as the minutes writer sees it.

    Attributes:
        id: The utterance's id: what evidence cites.
        start: Seconds into the call.
        end: Seconds into the call.
        speaker: Speaker label (S1, S2 ...).
        text: The original text.
        role: rep, customer, other, or unknown.
        speaker_name: The speaker's name when a user set it.
        asr_confidence: Mean word probability from the ASR (1.0 when unknown).
        char_times: ``(character offset in text, start time)`` per word, to time sentences inside long utterances.
    """

    id: int
    start: float
    end: float
    speaker: str
    text: str
    role: RoleName = "unknown"
    speaker_name: str | None = None
    asr_confidence: float = 1.0
    char_times: tuple[tuple[int, float], ...] = ()

    def time_at(self, offset: int) -> float:
        """Seconds into the call at which the word holding character ``offset`` of ``text`` starts (else ``start``)."""
        if not self.char_times:
            return self.start
        offsets = [c for c, _ in self.char_times]
        i = bisect.bisect_right(offsets, offset) - 1
        return self.char_times[max(i, 0)][1]


@dataclass
class Sentence:
    """One sentence of the call, possibly joined from several utterances of one speaker, parsed once."""

    index: int
    utterances: tuple[MinutesUtterance, ...]
    text: str
    clean: str
    start: float
    tokens: tuple[str, ...] = ()
    stop: tuple[bool, ...] = ()
    dates: list[DateMention] = field(default_factory=list)
    persons: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def first(self) -> MinutesUtterance:
        """The utterance the sentence starts in."""
        return self.utterances[0]

    @property
    def role(self) -> RoleName:
        """The role of the speaker who said the sentence."""
        return self.first.role

    @property
    def ids(self) -> list[int]:
        """Ids of the utterances the sentence comes from: its evidence."""
        return [u.id for u in self.utterances]

    @property
    def asr(self) -> float:
        """The lowest ASR confidence (0..1) among the sentence's utterances."""
        return min(u.asr_confidence for u in self.utterances)


def content_size(text: str, lang: Lang) -> int:
    """Words (English) or letters (Japanese) of speech in ``text``, non-speech markers removed."""
    text = NON_SPEECH.sub(" ", text)
    if lang == "ja":
        return sum(1 for ch in text if ch.isalnum())
    return len(re.findall(r"[A-Za-z0-9']+", text))


def is_customer_side(role: RoleName) -> bool:
    """Whether ``role`` counts as the customer's side (customer, or not identified)."""
    return role in ("customer", "unknown")


def split_into_sentences(utterances: Sequence[MinutesUtterance], lang: Lang) -> list[Sentence]:
    """Sentences in call order; a fragment left open at the end of an utterance joins the speaker's next one."""
    pieces: list[tuple[MinutesUtterance, int, int]] = []
    for u in utterances:
        pieces.extend((u, start, end) for start, end in split_sentences(u.text))
    out: list[Sentence] = []
    consumed: set[int] = set()
    for k, (u, start, end) in enumerate(pieces):
        if k in consumed:
            continue
        raw = u.text[start:end].strip()
        owners: tuple[MinutesUtterance, ...] = (u,)
        sentence_start = u.time_at(start + (len(u.text[start:end]) - len(u.text[start:end].lstrip())))
        last_in_utterance = k + 1 >= len(pieces) or pieces[k + 1][0] is not u
        if last_in_utterance and raw and raw[-1] not in _TERMINAL:
            follow = _continuation(pieces, k, u)
            if follow is not None:
                nu, ns, ne = pieces[follow]
                joiner = " " if lang == "en" else ""
                raw = raw + joiner + nu.text[ns:ne].strip()
                owners = (u, nu)
                consumed.add(follow)
        clean = cues.clean_sentence(raw, lang)
        if not clean or content_size(clean, lang) == 0:
            continue
        out.append(Sentence(index=len(out), utterances=owners, text=raw, clean=clean, start=sentence_start))
    return out


def _continuation(pieces: list[tuple[MinutesUtterance, int, int]], k: int, u: MinutesUtterance) -> int | None:
    """The first sentence of the speaker's next utterance, if it follows within 3 s (and 3 utterances)."""
    seen: set[int] = set()
    for j in range(k + 1, len(pieces)):
        nu = pieces[j][0]
        if nu is u:
            continue
        if nu.id not in seen:
            seen.add(nu.id)
            if len(seen) > 3:
                return None
        if nu.speaker == u.speaker:
            return j if nu.start - u.end <= 3.0 else None
    return None


def parse_sentences(sentences: list[Sentence], lang: Lang, reference: date, *, nlp: Language | None = None) -> None:
    """Tokens (for the summary), person names and resolved dates of every sentence, in one batched parse.

    ``nlp`` is the pipeline of ``lang`` (the process-wide one by default).
    """
    from insight.nlp.entities import map_label
    from insight.nlp.pipelines import parse_many

    with _PARSE_LOCK:
        docs = parse_many([s.clean for s in sentences], lang, nlp=nlp)
    talk = cues.CONVERSATIONAL_STOP[lang]
    dates = DateContext()  # one per call: 来週の火曜日 … later 火曜日 is the same Tuesday
    for sentence, doc in zip(sentences, docs, strict=True):
        tokens: list[str] = []
        stop: list[bool] = []
        for token in doc:
            if token.is_space:
                continue
            form = (token.norm_ or token.text).lower()
            tokens.append(form)
            stop.append(bool(token.is_stop or token.is_punct or token.pos_ in _FUNCTION_POS or form in talk))
        sentence.tokens, sentence.stop = tuple(tokens), tuple(stop)
        sentence.persons = [
            (ent.start_char, ent.end_char, ent.text) for ent in doc.ents if map_label(ent.label_) == EntityLabel.PERSON
        ]
        sentence.dates = find_dates(sentence.clean, reference, lang, context=dates)


def confidence_of(base: float, sentence: Sentence) -> float:
    """An item's confidence in [0, 1]: the rule's ``base`` scaled down by up to half for uncertain ASR."""
    # An item is as trustworthy as its rule and as the words the ASR was unsure of.
    return round(max(0.0, min(1.0, base * (0.5 + 0.5 * sentence.asr))), 3)


def item_of(sentence: Sentence, text: str, confidence: float) -> MinutesItem:
    """A minutes item saying ``text`` with ``sentence`` as its evidence; ``confidence`` is the rule's base value."""
    return MinutesItem(
        text=text,
        utterance_ids=sentence.ids,
        start=round(sentence.start, 2),
        speaker=sentence.first.speaker,
        role=sentence.role,
        confidence=confidence_of(confidence, sentence),
    )
