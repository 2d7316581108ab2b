"""Minutes of a call, written offline: an extractive summary plus slots filled by rules over the language pipeline.

The transcript is cut into sentences (a sentence Whisper split across two utterances of one speaker is joined
again), each sentence is parsed once (entities, resolved dates) and then:

========================  ===========================================================================================
field                     how it is found
========================  ===========================================================================================
summary                   :func:`insight.nlp.summarize.summarize`: topic-bigram coverage + centrality over sentence
                          embeddings + MMR, in call order
needs / objections        customer sentences with need or pain cues (課題, 手間, "by hand") / concern cues (高い,
                          セキュリティ, "more than we hoped")
questions                 customer sentences that are questions (?, ですか, でしょうか)
decisions                 decision phrases (ことにしましょう, "let's start with"), and a rep's proposal with a future
                          date that the customer accepts in the next turn
next actions              commitments (お送りします, 取っておきます, "I will send", "Maria will review"); owner = the
                          speaker's side and name, or the person named as subject; due = the date in the sentence,
                          resolved against the call's date
budget                    money amounts (月額30万円, $50,000 a year) with currency, period, unit and what they refer to
                          (budget, price, a competitor's price)
timeline                  other dates after the call's date (導入は来年の4月, "roll out in January")
decision makers           titles (部長, VP of Sales) with the person named beside them, said by the customer or in a
                          decision context (判断, "final decision")
competitors / products    the configured catalog (matched ignoring spaces and case, as ASR splits brand names), the
                          rep's own products (弊社の〜, "our ..."), names in comparisons, and vendors the customer
                          uses (今は〜を使っています, "we use ...")
sentiment                 the customer's utterances, scored by :mod:`insight.nlp.sentiment`
========================  ===========================================================================================

An empty transcript or one of a few words gives minutes with ``status`` ``empty`` / ``too_short`` and a notice
saying so; nothing is invented.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

import numpy as np

from insight.nlp import cues
from insight.nlp.dates import find_dates
from insight.nlp.embeddings import Embedder
from insight.nlp.entities import find_titles, is_decision_maker_title
from insight.nlp.minutes_schema import (
    DecisionMaker,
    Mention,
    MinutesDoc,
    MinutesItem,
    MoneyItem,
    NextAction,
    Owner,
    Participant,
    RoleName,
    Sentiment,
    TimelineItem,
    UtteranceSentiment,
)
from insight.nlp.sentiment import overall_sentiment, score_utterances
from insight.nlp.summarize import SummaryOptions, SummaryUnit, summarize
from insight.nlp.text import fold_width, split_sentences
from insight.nlp.types import DateMention, EntityCatalog, EntityLabel, Lang

# spaCy pipelines may not be thread-safe; one minutes job at a time per process parses.
_PARSE_LOCK = threading.Lock()

_TERMINAL = "。．！？!?."
_FUNCTION_POS = frozenset({"ADP", "AUX", "PART", "PUNCT", "SCONJ", "CCONJ", "DET", "PRON", "SYM", "SPACE", "NUM"})
# Whisper's markers for non-speech, removed before deciding whether there is anything to write minutes about.
_NON_SPEECH = re.compile(
    r"[♪♫♬]+|[\[(（【](?:music|音楽|拍手|applause|laughter|笑|silence|無音|BLANK_AUDIO)[\])）】]", re.I
)

NOTICES: dict[str, dict[Lang, str]] = {
    "empty": {
        "ja": "この通話では発話が認識されなかったため、議事録は作成していません。",
        "en": "No speech was recognised in this call, so there are no minutes.",
    },
    "too_short": {
        "ja": "文字起こしが短すぎるため（「{text}」のみ）、議事録は作成していません。",
        "en": "The transcript is too short to write minutes from (only “{text}”).",
    },
}


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
        if not self.char_times:
            return self.start
        offsets = [c for c, _ in self.char_times]
        i = bisect.bisect_right(offsets, offset) - 1
        return self.char_times[max(i, 0)][1]


@dataclass(frozen=True)
class MinutesOptions:
    """Length of the summary and the thresholds for empty/short transcripts.

    Attributes:
        summary: Scoring knobs of the summary.
        summary_share: Summary length as a share of the transcript's length.
        summary_min: Shortest summary budget (words; Japanese characters count half).
        summary_max: Longest summary budget.
        summary_budget: A fixed budget instead (benchmarks use the reference summary's length).
        summary_label_cost: Budget charged per summary line for a speaker label printed before it.
        min_words: Fewer words (English) than this in the whole transcript means "too short".
        min_chars: Fewer characters (Japanese) than this means "too short".
    """

    summary: SummaryOptions = field(default_factory=SummaryOptions)
    summary_share: float = 0.15
    summary_min: float = 20.0
    summary_max: float = 150.0
    summary_budget: float | None = None
    summary_label_cost: float = 0.0
    min_words: int = 5
    min_chars: int = 10


class MinutesWriter(Protocol):
    """Anything that writes minutes for a transcript (the offline writer, an LLM-backed one)."""

    @property
    def name(self) -> str: ...

    def write(
        self,
        utterances: Sequence[MinutesUtterance],
        *,
        lang: Lang,
        reference_date: date,
        catalog: EntityCatalog | None = None,
    ) -> MinutesDoc: ...


@dataclass
class _Sentence:
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
        return self.utterances[0]

    @property
    def role(self) -> RoleName:
        return self.first.role

    @property
    def ids(self) -> list[int]:
        return [u.id for u in self.utterances]

    @property
    def asr(self) -> float:
        return min(u.asr_confidence for u in self.utterances)


def content_size(text: str, lang: Lang) -> int:
    """Words (English) or letters (Japanese) of speech in ``text``, non-speech markers removed."""
    text = _NON_SPEECH.sub(" ", text)
    if lang == "ja":
        return sum(1 for ch in text if ch.isalnum())
    return len(re.findall(r"[A-Za-z0-9']+", text))


def _length(text: str, lang: Lang) -> float:
    return len(text) / 2.0 if lang == "ja" else float(len(text.split()))


def _is_customer_side(role: RoleName) -> bool:
    return role in ("customer", "unknown")


class OfflineMinutesWriter:
    """The default writer: no network, no generative model (see the module docstring).

    Args:
        embedder: Sentence embeddings for the summary.
        options: Summary length and the empty/short thresholds.
    """

    name = "offline"

    def __init__(self, embedder: Embedder, *, options: MinutesOptions | None = None) -> None:
        self.embedder = embedder
        self.options = options or MinutesOptions()

    def write(
        self,
        utterances: Sequence[MinutesUtterance],
        *,
        lang: Lang,
        reference_date: date,
        catalog: EntityCatalog | None = None,
    ) -> MinutesDoc:
        """Write the minutes of one call.

        Args:
            utterances: The call's utterances in order.
            lang: The call's language.
            reference_date: The call's date; relative dates resolve against it.
            catalog: Competitors and products to recognise.

        Returns:
            The minutes; ``status`` says when there was nothing (or too little) to write about.
        """
        spoken = [u for u in utterances if content_size(u.text, lang) > 0]
        base = MinutesDoc(language=lang, reference_date=reference_date)
        if not spoken:
            return base.model_copy(update={"status": "empty", "notice": NOTICES["empty"][lang]})
        size = sum(content_size(u.text, lang) for u in spoken)
        if size < (self.options.min_chars if lang == "ja" else self.options.min_words):
            heard = " ".join(_NON_SPEECH.sub(" ", u.text).strip() for u in spoken).strip()
            notice = NOTICES["too_short"][lang].format(text=heard[:80])
            return base.model_copy(update={"status": "too_short", "notice": notice})

        sentences = _sentences(spoken, lang)
        _parse(sentences, lang, reference_date)
        participants = _participants(spoken, sentences, lang)
        names = {p.speaker: p.name for p in participants}
        own = _own_names(sentences, participants, lang)
        actions, action_dates = _next_actions(sentences, lang, reference_date, names)
        proposals, proposal_actions, proposal_dates = _accepted_proposals(sentences, lang, reference_date, names)
        competitors, products = _mentions(sentences, lang, catalog, own)
        return base.model_copy(
            update={
                "participants": participants,
                "summary": self._summary(sentences, lang),
                "needs": _classified(sentences, lang, cues.NEED[lang], questions=False, confidence=0.6),
                "objections": _classified(sentences, lang, cues.OBJECTION[lang], questions=True, confidence=0.65),
                "questions": _questions(sentences, lang),
                "decisions": _decisions(sentences, lang) + proposals,
                "next_actions": sorted(actions + proposal_actions, key=lambda a: a.start),
                "budget": _money(sentences, lang, catalog, {c.name for c in competitors}),
                "timeline": _timeline(sentences, lang, reference_date, action_dates | proposal_dates),
                "decision_makers": _decision_makers(sentences, lang),
                "competitors": competitors,
                "products": products,
                "sentiment": _sentiment(spoken, lang, catalog),
            }
        )

    def _summary(self, sentences: list[_Sentence], lang: Lang) -> list[MinutesItem]:
        opts = self.options
        units = [
            SummaryUnit(
                text=s.clean,
                tokens=s.tokens if not _pleasantry(s, lang) else (),
                stop=s.stop if not _pleasantry(s, lang) else (),
                length=_length(s.clean, lang),
            )
            for s in sentences
        ]
        if opts.summary_budget is not None:
            budget = opts.summary_budget
        else:
            total = sum(u.length for u in units)
            budget = min(opts.summary_max, max(opts.summary_min, opts.summary_share * total))
        candidates = [i for i, u in enumerate(units) if len(u.tokens) >= opts.summary.min_tokens and u.length > 0]
        embeddings = np.zeros((len(units), 1), dtype=np.float32)
        if candidates:
            vectors = self.embedder.encode([units[i].text for i in candidates])
            embeddings = np.zeros((len(units), vectors.shape[1]), dtype=np.float32)
            embeddings[candidates] = vectors
        cost: Callable[[int], float] | None = (lambda _i: opts.summary_label_cost) if opts.summary_label_cost else None
        chosen = summarize(units, embeddings, budget, options=opts.summary, extra_cost=cost)
        return [_item(sentences[i], sentences[i].clean, 0.8) for i in chosen]


def _pleasantry(s: _Sentence, lang: Lang) -> bool:
    """A greeting or thanks with little else in it ("本日はお時間をいただき、ありがとうございます")."""
    rest = cues.PLEASANTRY[lang].sub(" ", s.clean)
    return content_size(rest, lang) < 0.5 * content_size(s.clean, lang)


# --- sentences -------------------------------------------------------------------------------------------------


def _sentences(utterances: Sequence[MinutesUtterance], lang: Lang) -> list[_Sentence]:
    """Sentences in call order; a fragment left open at the end of an utterance joins the speaker's next one."""
    pieces: list[tuple[MinutesUtterance, int, int]] = []
    for u in utterances:
        pieces.extend((u, start, end) for start, end in split_sentences(u.text))
    out: list[_Sentence] = []
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
        out.append(_Sentence(index=len(out), utterances=owners, text=raw, clean=clean, start=sentence_start))
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


def _parse(sentences: list[_Sentence], lang: Lang, reference: date) -> None:
    """Tokens (for the summary), person names and resolved dates of every sentence, in one batched parse."""
    from insight.nlp.entities import map_label
    from insight.nlp.pipelines import parse_many

    with _PARSE_LOCK:
        docs = parse_many([s.clean for s in sentences], lang)
    talk = cues.CONVERSATIONAL_STOP[lang]
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
        sentence.dates = find_dates(sentence.clean, reference, lang)


def _confidence(base: float, sentence: _Sentence) -> float:
    # An item is as trustworthy as its rule and as the words the ASR was unsure of.
    return round(max(0.0, min(1.0, base * (0.5 + 0.5 * sentence.asr))), 3)


def _item(sentence: _Sentence, text: str, confidence: float) -> MinutesItem:
    return MinutesItem(
        text=text,
        utterance_ids=sentence.ids,
        start=round(sentence.start, 2),
        speaker=sentence.first.speaker,
        role=sentence.role,
        confidence=_confidence(confidence, sentence),
    )


# --- participants ----------------------------------------------------------------------------------------------------


def _participants(utterances: Sequence[MinutesUtterance], sentences: list[_Sentence], lang: Lang) -> list[Participant]:
    order: dict[str, Participant] = {}
    for u in utterances:
        if u.speaker not in order:
            order[u.speaker] = Participant(speaker=u.speaker, role=u.role, name=u.speaker_name)
    found: dict[str, dict[str, object]] = {label: {} for label in order}
    seen_per_speaker: dict[str, int] = {}
    for s in sentences:
        label = s.first.speaker
        seen_per_speaker[label] = seen_per_speaker.get(label, 0) + 1
        info = found[label]
        if seen_per_speaker[label] <= 4 and "name" not in info:
            intro = _self_intro(s, lang)
            if intro is not None:
                name, org = intro
                info.update(name=name, org=org, ids=s.ids)
        if lang == "en" and "org" not in info and seen_per_speaker[label] <= 4:
            m = cues.EN_ORG_OF_SPEAKER.search(s.clean)
            if m:
                info.update(org=m["org"].rstrip("."), ids=s.ids)
    # A name one speaker uses to address the other, in a two-party call, names the other one.
    if len(order) == 2:
        labels = list(order)
        for s in sentences:
            other = labels[1] if s.first.speaker == labels[0] else labels[0]
            if "name" in found[other]:
                continue
            addressed = _addressed(s, lang)
            if addressed is not None:
                found[other].update(name=addressed, ids=s.ids)
    out: list[Participant] = []
    for label, p in order.items():
        info = found[label]
        out.append(
            p.model_copy(
                update={
                    "name": p.name or info.get("name"),
                    "organization": info.get("org"),
                    "utterance_ids": list(info.get("ids", [])),  # type: ignore[call-overload]
                }
            )
        )
    return out


def _self_intro(s: _Sentence, lang: Lang) -> tuple[str, str | None] | None:
    text = s.clean
    for m in cues.SELF_INTRO[lang].finditer(text):
        if lang == "en":
            name = m["name"] or m["name2"]
            if name and name.split()[0] not in cues.EN_NOT_NAMES:
                org = m.groupdict().get("org")
                return name, org.rstrip(".") if org else None
            continue
        start, end = m.span("name")
        is_person = any(p_start < end and start < p_end for p_start, p_end, _ in s.persons)
        if is_person or m["dept"]:
            org = m["org"]
            if org and (org.endswith("さん") or len(org) < 2 or org in ("はい", "ええ", "こちらこそ")):
                org = None
            return m["name"], org
    return None


def _addressed(s: _Sentence, lang: Lang) -> str | None:
    for m in cues.ADDRESSED[lang].finditer(s.clean):
        name = m["name"] if lang == "ja" else (m["name"] or m["name2"])
        if not name:
            continue
        if lang == "en" and name in cues.EN_NOT_NAMES:
            continue
        start = m.start("name") if m["name"] else m.start("name2")
        is_person = any(p_start <= start < p_end for p_start, p_end, _ in s.persons)
        if lang == "ja" and not is_person:
            continue
        return name
    return None


def _own_names(sentences: list[_Sentence], participants: list[Participant], lang: Lang) -> set[str]:
    """Names of the rep's own company and products: never listed as competitors."""
    own = {p.organization for p in participants if p.role == "rep" and p.organization}
    for s in sentences:
        if s.role != "rep":
            continue
        for m in cues.OWN_PRODUCT[lang].finditer(s.clean):
            own.add(_trim_name(m["name"], lang))
    return {_norm(name) for name in own if name}


# --- classified sentences --------------------------------------------------------------------------------------------


def _is_question(s: _Sentence, lang: Lang) -> bool:
    return bool(cues.QUESTION[lang].search(s.clean))


def _classified(
    sentences: list[_Sentence], lang: Lang, pattern: re.Pattern[str], *, questions: bool, confidence: float
) -> list[MinutesItem]:
    out: list[MinutesItem] = []
    for s in sentences:
        if not _is_customer_side(s.role) or not pattern.search(s.clean):
            continue
        if not questions and _is_question(s, lang):
            continue
        if cues.COMMITMENT[lang].search(s.clean):
            continue  # "I will return the security questionnaire" is a next action, not a concern
        out.append(_item(s, s.clean, confidence))
    return out


def _questions(sentences: list[_Sentence], lang: Lang) -> list[MinutesItem]:
    return [
        _item(s, s.clean, 0.9 if s.clean.rstrip().endswith(("?", "？")) else 0.7)
        for s in sentences
        if _is_customer_side(s.role) and _is_question(s, lang) and len(s.tokens) >= 2
    ]


def _decisions(sentences: list[_Sentence], lang: Lang) -> list[MinutesItem]:
    return [_item(s, s.clean, 0.75) for s in sentences if cues.DECISION[lang].search(s.clean)]


# --- next actions ----------------------------------------------------------------------------------------------------

_EN_THIRD_PERSON = re.compile(
    r"\b(?P<name>[A-Z][a-z]+(?: [A-Z][a-z]+)?) (?:will|is going to|'ll) (?:\w+ ){0,2}?"
    r"(?:send|share|follow|get|email|call|schedule|set up|prepare|review|check|return|confirm|book|arrange|draft|"
    r"forward|introduce|reach out|put together|update|talk to|sign|approve|present)\b"
)
_DUE_MARK = re.compile(r"までに|まで|by|until|before|no later than|due", re.IGNORECASE)


def _due(s: _Sentence) -> DateMention | None:
    if not s.dates:
        return None
    for mention in s.dates:
        after = s.clean[mention.end : mention.end + 4]
        before = s.clean[max(0, mention.start - 12) : mention.start]
        if _DUE_MARK.search(after) or _DUE_MARK.search(before):
            return mention
    return s.dates[0]


def _next_actions(
    sentences: list[_Sentence], lang: Lang, reference: date, names: dict[str, str | None]
) -> tuple[list[NextAction], set[tuple[date, date]]]:
    out: list[NextAction] = []
    used: set[tuple[date, date]] = set()
    for s in sentences:
        if _is_question(s, lang):
            continue
        owner: Owner | None = None
        if lang == "en":
            third = _EN_THIRD_PERSON.search(s.clean)
            if third and third["name"].split()[0] not in cues.EN_NOT_NAMES:
                named = third["name"]
                speaker = next((label for label, n in names.items() if n and n.split()[0] == named.split()[0]), None)
                role = next((sx.role for sx in sentences if sx.first.speaker == speaker), s.role) if speaker else s.role
                owner = Owner(role=role, name=named, speaker=speaker)
        if owner is None and cues.COMMITMENT[lang].search(s.clean):
            owner = Owner(role=s.role, name=names.get(s.first.speaker), speaker=s.first.speaker)
        if owner is None:
            continue
        due = _due(s)
        if due is not None and due.date_to < reference:
            due = None  # "I sent it last week" is not a next action's due date
        if due is not None:
            used.add((due.date_from, due.date_to))
        out.append(
            NextAction(
                **_item(s, s.clean, 0.9 if due else 0.7).model_dump(),
                owner=owner,
                due=due.due if due else None,
                due_text=due.text if due else None,
            )
        )
    return out, used


def _accepted_proposals(
    sentences: list[_Sentence], lang: Lang, reference: date, names: dict[str, str | None]
) -> tuple[list[MinutesItem], list[NextAction], set[tuple[date, date]]]:
    """A rep's proposal of a future meeting (a question with a date) that the customer accepts next."""
    decisions: list[MinutesItem] = []
    actions: list[NextAction] = []
    used: set[tuple[date, date]] = set()
    for i, s in enumerate(sentences[:-1]):
        if s.role != "rep" or not _is_question(s, lang) or not cues.PROPOSAL_TOPIC[lang].search(s.clean):
            continue
        future = [d for d in s.dates if d.date_from > reference]
        reply = next((n for n in sentences[i + 1 : i + 4] if n.first.speaker != s.first.speaker), None)
        if not future or reply is None or not cues.ACCEPTANCE[lang].search(reply.clean):
            continue
        ids = list(dict.fromkeys(s.ids + reply.ids))
        text = f"{s.clean} → {reply.clean}"
        decision = _item(s, text, 0.7).model_copy(update={"utterance_ids": ids})
        decisions.append(decision)
        when = future[0]
        used.add((when.date_from, when.date_to))
        actions.append(
            NextAction(
                **decision.model_dump(),
                owner=Owner(role="rep", name=names.get(s.first.speaker), speaker=s.first.speaker),
                due=when.date_from,
                due_text=when.text,
            )
        )
    return decisions, actions, used


# --- money, timeline, decision makers ------------------------------------------------------------------------------


def _money(
    sentences: list[_Sentence], lang: Lang, catalog: EntityCatalog | None, competitor_names: set[str]
) -> list[MoneyItem]:
    competitor_terms = {_norm(t) for t in (catalog.competitor_terms if catalog else ())} | {
        _norm(n) for n in competitor_names
    }
    out: list[MoneyItem] = []
    for s in sentences:
        for money in cues.find_money(s.clean, lang):
            folded = _norm(s.clean)
            refers: Literal["budget", "price", "competitor_price", "other"]
            if cues.BUDGET[lang].search(s.clean):
                refers = "budget"
            elif any(term and term in folded for term in competitor_terms):
                refers = "competitor_price"
            elif s.role == "rep" or cues.PRICE[lang].search(s.clean):
                refers = "price"
            else:
                refers = "other"
            per = cues.PER_UNIT[lang].search(s.clean)
            out.append(
                MoneyItem(
                    **_item(s, s.clean, 0.9 if money.amount is not None else 0.6).model_dump(),
                    expression=money.text,
                    amount=money.amount,
                    currency=money.currency,
                    period=cues.find_period(s.clean, lang),
                    per=per["unit"].lower() if per else None,
                    refers_to=refers,
                )
            )
    return out


def _timeline(
    sentences: list[_Sentence], lang: Lang, reference: date, taken: set[tuple[date, date]]
) -> list[TimelineItem]:
    out: list[TimelineItem] = []
    seen: set[tuple[date, date]] = set()
    for s in sentences:
        for mention in s.dates:
            key = (mention.date_from, mention.date_to)
            if mention.date_from <= reference or key in taken or key in seen:
                continue
            seen.add(key)
            confidence = 0.85 if cues.TIMELINE[lang].search(s.clean) else 0.6
            out.append(
                TimelineItem(
                    **_item(s, s.clean, confidence).model_dump(),
                    expression=mention.text,
                    date_from=mention.date_from,
                    date_to=mention.date_to,
                )
            )
    return out


def _decision_makers(sentences: list[_Sentence], lang: Lang) -> list[DecisionMaker]:
    groups: list[dict[str, object]] = []
    for s in sentences:
        context = bool(cues.DECISION_CONTEXT[lang].search(s.clean))
        for found_start, end in find_titles(s.clean, lang):
            start = _expand_title(s, found_start, lang)
            title = s.clean[start:end]
            if not is_decision_maker_title(title):
                continue
            name = _name_near(s, start, end)
            group = next((g for g in groups if _same_person(g, title, name)), None)
            if group is None:
                group = {"title": title, "name": name, "sentences": [], "strong": False}
                groups.append(group)
            if name and not group["name"]:
                group["name"] = name
            if len(title) > len(str(group["title"])):
                group["title"] = title
            group["sentences"].append(s)  # type: ignore[attr-defined]
            group["strong"] = bool(group["strong"]) or context or _is_customer_side(s.role)
    out: list[DecisionMaker] = []
    for g in groups:
        if not g["strong"]:
            continue
        said: list[_Sentence] = g["sentences"]  # type: ignore[assignment]
        best = next((x for x in said if cues.DECISION_CONTEXT[lang].search(x.clean)), said[0])
        ids = list(dict.fromkeys(i for x in said for i in x.ids))
        item = _item(
            best, best.clean, 0.9 if best is not said[0] or cues.DECISION_CONTEXT[lang].search(best.clean) else 0.6
        )
        out.append(
            DecisionMaker(
                **item.model_copy(update={"utterance_ids": ids, "start": round(said[0].start, 2)}).model_dump(),
                title=str(g["title"]),
                name=str(g["name"]) if g["name"] else None,
            )
        )
    return out


_JA_DEPARTMENT = re.compile(r"[一-龥ァ-ヶー]{1,8}$")


def _expand_title(s: _Sentence, start: int, lang: Lang) -> int:
    """Include the department before a Japanese title (営業 + 部長), unless it is a person's name (鈴木部長)."""
    if lang != "ja":
        return start
    m = _JA_DEPARTMENT.search(s.clean[:start])
    if m is None or any(p_start < start and m.start() < p_end for p_start, p_end, _ in s.persons):
        return start
    # Stop at a particle-like kana boundary: only the kanji/katakana run directly before the title.
    return m.start()


def _name_near(s: _Sentence, start: int, end: int) -> str | None:
    best: tuple[int, str] | None = None
    for p_start, p_end, text in s.persons:
        if p_start < end and start < p_end:
            continue  # the title itself
        gap = p_start - end if p_start >= end else start - p_end
        if gap <= 12 and (best is None or gap < best[0]):
            best = (gap, text.strip(" 、,"))
    return best[1] if best else None


def _same_person(group: dict[str, object], title: str, name: str | None) -> bool:
    known = group["name"]
    if name and known:
        return str(known).split()[0] == name.split()[0]
    other = str(group["title"])
    return title in other or other in title


# --- competitors and products --------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return "".join(fold_width(text).casefold().split())


def _trim_name(name: str, lang: Lang) -> str:
    name = name.strip(" 、。,.!?")
    if lang == "ja":
        name = re.sub(r"(?:という|って|さん|様|社製|の|は|を)$", "", name)
    return name


_GENERIC = frozenset(
    _norm(w)
    for w in "ツール システム サービス 製品 ソフト アプリ エクセル 紙 手書き 他社 ほか 他 今 現在 それ これ "
    "It This That They We You Our The A An".split()
)


def _find_term(sentence: str, term: str) -> bool:
    """Whether the catalog ``term`` occurs in ``sentence``, ignoring case, width and spaces ("sales force")."""
    key = _norm(term)
    if not key:
        return False
    folded = fold_width(sentence).casefold()
    positions = [i for i, ch in enumerate(folded) if not ch.isspace()]
    squeezed = "".join(folded[i] for i in positions)
    at = squeezed.find(key)
    while at >= 0:
        first, last = positions[at], positions[at + len(key) - 1]
        before = folded[first - 1] if first > 0 else " "
        after = folded[last + 1] if last + 1 < len(folded) else " "
        # ASCII terms must not sit inside a longer word (HubSpot in "HubSpotter", "sales force" in "resales").
        inside = key.isascii() and any(ch.isascii() and ch.isalnum() for ch in (before, after))
        if not inside:
            return True
        at = squeezed.find(key, at + 1)
    return False


def _mentions(
    sentences: list[_Sentence], lang: Lang, catalog: EntityCatalog | None, own: set[str]
) -> tuple[list[Mention], list[Mention]]:
    # name key -> (display name, kind, strength, sentences); strength: catalog 3, own 2, compared 1, context 0.
    found: dict[str, tuple[str, str, int, list[_Sentence]]] = {}

    def add(name: str, kind: str, strength: int, s: _Sentence) -> None:
        key = _norm(name)
        if not key or key in _GENERIC or len(key) < 2:
            return
        if kind == "competitor" and key in own:
            return
        current = found.get(key)
        if current is None:
            found[key] = (name, kind, strength, [s])
            return
        display, old_kind, old_strength, said = current
        if s not in said:
            said.append(s)
        if strength > old_strength:
            found[key] = (name if strength >= 3 else display, kind, strength, said)

    for s in sentences:
        if catalog:
            for entry in catalog.entries:
                if any(_find_term(s.clean, term) for term in entry.terms):
                    add(entry.name, "competitor" if entry.label == EntityLabel.COMPETITOR else "product", 3, s)
        if s.role == "rep":
            for m in cues.OWN_PRODUCT[lang].finditer(s.clean):
                add(_trim_name(m["name"], lang), "product", 2, s)
        if cues.COMPARISON_CONTEXT[lang].search(s.clean):
            for m in cues.COMPARISON[lang].finditer(s.clean):
                for group in ("a", "b"):
                    name = _trim_name(m[group], lang)
                    if lang == "en" and name.split()[0] in cues.EN_NOT_NAMES:
                        continue
                    add(name, "product", 1, s)
        for pattern in cues.COMPETITOR_CONTEXT[lang]:
            for m in pattern.finditer(s.clean):
                name = _trim_name(m["name"], lang)
                if lang == "en" and name.split()[0] in cues.EN_NOT_NAMES:
                    continue
                add(name, "competitor", 0, s)
    # Later sentences that name a found vendor count as mentions too ("sales force" and "Salesforce").
    for key, (display, kind, strength, said) in list(found.items()):
        for s in sentences:
            if s not in said and _find_term(s.clean, display):
                said.append(s)
        said.sort(key=lambda x: x.index)
        found[key] = (display, kind, strength, said)

    competitors: list[Mention] = []
    products: list[Mention] = []
    for display, kind, strength, said in sorted(found.values(), key=lambda v: v[3][0].index):
        first = said[0]
        ids = list(dict.fromkeys(i for x in said for i in x.ids))
        mention = Mention(
            **_item(first, first.clean, (0.95, 0.7, 0.8, 0.85)[strength]).model_dump(exclude={"utterance_ids"}),
            utterance_ids=ids,
            name=display,
            mentions=len(said),
        )
        (competitors if kind == "competitor" else products).append(mention)
    return competitors, products


# --- sentiment -------------------------------------------------------------------------------------------------------


def _sentiment(utterances: Sequence[MinutesUtterance], lang: Lang, catalog: EntityCatalog | None) -> Sentiment | None:
    customer = [u for u in utterances if u.role == "customer"] or [u for u in utterances if u.role != "rep"]
    if not customer:
        return None
    scores = score_utterances([u.text for u in customer], lang, catalog=catalog)
    overall = overall_sentiment(scores)
    label = "positive" if overall.score >= 0.1 else "negative" if overall.score <= -0.1 else "neutral"
    return Sentiment(
        overall=overall.score,
        label=label,
        positive_utterances=overall.positive_utterances,
        negative_utterances=overall.negative_utterances,
        neutral_utterances=overall.neutral_utterances,
        utterances=[
            UtteranceSentiment(utterance_id=u.id, start=round(u.start, 2), score=sc.score, cues=list(sc.cues))
            for u, sc in zip(customer, scores, strict=True)
            if sc.weight
        ],
    )
