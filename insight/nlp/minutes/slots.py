"""The minutes' fields other than the summary, filled by rules over the parsed sentences (see
:mod:`insight.nlp.minutes.writer` for what each field is and how it is found).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from insight.nlp.entities import find_titles, is_decision_maker_title
from insight.nlp.minutes import cues
from insight.nlp.minutes.schemas import (
    DecisionMaker,
    Mention,
    MinutesItem,
    MoneyItem,
    NextAction,
    Owner,
    Participant,
    Sentiment,
    TimelineItem,
    UtteranceSentiment,
)
from insight.nlp.minutes.sentences import MinutesUtterance, Sentence, is_customer_side, item_of
from insight.nlp.minutes.sentiment import overall_sentiment, score_utterances
from insight.nlp.text import fold_width
from insight.nlp.types import DateMention, EntityCatalog, EntityLabel, Lang

# --- participants ----------------------------------------------------------------------------------------------------


@dataclass
class _Found:
    """What the call says about one speaker: a name, an organisation, and where."""

    name: str | None = None
    organization: str | None = None
    utterance_ids: list[int] = field(default_factory=list)


def participants(utterances: Sequence[MinutesUtterance], sentences: list[Sentence], lang: Lang) -> list[Participant]:
    """Every speaker in order of first turn, with names and organizations from self-introductions.

    In a two-party call, a name one speaker addresses the other by names the other; a name set by a user wins.
    """
    order: dict[str, Participant] = {}
    for u in utterances:
        if u.speaker not in order:
            order[u.speaker] = Participant(speaker=u.speaker, role=u.role, name=u.speaker_name)
    found = {label: _Found() for label in order}
    seen_per_speaker: dict[str, int] = {}
    for s in sentences:
        label = s.first.speaker
        seen_per_speaker[label] = seen_per_speaker.get(label, 0) + 1
        info = found[label]
        early = seen_per_speaker[label] <= 4  # people introduce themselves at the start
        if early and info.name is None:
            intro = _self_intro(s, lang)
            if intro is not None:
                info.name, info.organization, info.utterance_ids = intro[0], intro[1], s.ids
        if lang == "en" and early and info.organization is None:
            m = cues.EN_ORG_OF_SPEAKER.search(s.clean)
            if m:
                info.organization = m["org"].rstrip(".")
                info.utterance_ids = list(dict.fromkeys(info.utterance_ids + s.ids))
    # A name one speaker uses to address the other, in a two-party call, names the other one.
    if len(order) == 2:
        labels = list(order)
        for s in sentences:
            other = found[labels[1] if s.first.speaker == labels[0] else labels[0]]
            if other.name is not None:
                continue
            addressed = _addressed(s, lang)
            if addressed is not None:
                other.name = addressed
                other.utterance_ids = list(dict.fromkeys(other.utterance_ids + s.ids))
    return [
        p.model_copy(
            update={
                "name": p.name or found[label].name,
                "organization": found[label].organization,
                "utterance_ids": found[label].utterance_ids,
            }
        )
        for label, p in order.items()
    ]


def _self_intro(s: Sentence, lang: Lang) -> tuple[str, str | None] | None:
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


def _addressed(s: Sentence, lang: Lang) -> str | None:
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


def own_names(sentences: list[Sentence], participants: list[Participant], lang: Lang) -> set[str]:
    """Names of the rep's own company and products: never listed as competitors."""
    own = {p.organization for p in participants if p.role == "rep" and p.organization}
    for s in sentences:
        if s.role != "rep":
            continue
        for m in cues.OWN_PRODUCT[lang].finditer(s.clean):
            own.add(_trim_name(m["name"], lang))
    return {_norm(name) for name in own if name}


# --- classified sentences --------------------------------------------------------------------------------------------


def _is_question(s: Sentence, lang: Lang) -> bool:
    return bool(cues.QUESTION[lang].search(s.clean))


def classified(
    sentences: list[Sentence], lang: Lang, pattern: re.Pattern[str], *, questions: bool, confidence: float
) -> list[MinutesItem]:
    """Customer-side sentences that match ``pattern``, as items with the base ``confidence``.

    Questions are skipped unless ``questions`` is True; commitments are skipped (they are next actions).
    """
    out: list[MinutesItem] = []
    for s in sentences:
        if not is_customer_side(s.role) or not pattern.search(s.clean):
            continue
        if not questions and _is_question(s, lang):
            continue
        if cues.COMMITMENT[lang].search(s.clean):
            continue  # "I will return the security questionnaire" is a next action, not a concern
        out.append(item_of(s, s.clean, confidence))
    return out


def questions(sentences: list[Sentence], lang: Lang) -> list[MinutesItem]:
    """The customer side's questions (of two or more tokens); a question mark gives a higher confidence."""
    return [
        item_of(s, s.clean, 0.9 if s.clean.rstrip().endswith(("?", "？")) else 0.7)
        for s in sentences
        if is_customer_side(s.role) and _is_question(s, lang) and len(s.tokens) >= 2
    ]


def decisions(sentences: list[Sentence], lang: Lang) -> list[MinutesItem]:
    """Sentences that state a decision, whoever said them."""
    return [item_of(s, s.clean, 0.75) for s in sentences if cues.DECISION[lang].search(s.clean)]


# --- next actions ----------------------------------------------------------------------------------------------------

_EN_THIRD_PERSON = re.compile(
    r"\b(?P<name>[A-Z][a-z]+(?: [A-Z][a-z]+)?) (?:will|is going to|'ll) (?:\w+ ){0,2}?"
    r"(?:send|share|follow|get|email|call|schedule|set up|prepare|review|check|return|confirm|book|arrange|draft|"
    r"forward|introduce|reach out|put together|update|talk to|sign|approve|present)\b"
)
_DUE_MARK = re.compile(r"までに|まで|by|until|before|no later than|due", re.IGNORECASE)


def _due(s: Sentence) -> DateMention | None:
    if not s.dates:
        return None
    for mention in s.dates:
        after = s.clean[mention.end : mention.end + 4]
        before = s.clean[max(0, mention.start - 12) : mention.start]
        if _DUE_MARK.search(after) or _DUE_MARK.search(before):
            return mention
    return s.dates[0]


def next_actions(
    sentences: list[Sentence], lang: Lang, reference: date, names: dict[str, str | None]
) -> tuple[list[NextAction], set[tuple[date, date]]]:
    """Commitments to do something, with their owner and due date (past dates are not due dates).

    Returns:
        The next actions, and the ``(date_from, date_to)`` ranges used as due dates so the timeline skips them.
    """
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
                **item_of(s, s.clean, 0.9 if due else 0.7).model_dump(),
                owner=owner,
                due=due.due if due else None,
                due_text=due.text if due else None,
            )
        )
    return out, used


def accepted_proposals(
    sentences: list[Sentence], lang: Lang, reference: date, names: dict[str, str | None]
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
        decision = item_of(s, text, 0.7).model_copy(update={"utterance_ids": ids})
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


def money(
    sentences: list[Sentence], lang: Lang, catalog: EntityCatalog | None, competitor_names: set[str]
) -> list[MoneyItem]:
    """Amounts said, each classed as budget, competitor price, price (said by the rep or about pricing) or other."""
    competitor_terms = {_norm(t) for t in (catalog.competitor_terms if catalog else ())} | {
        _norm(n) for n in competitor_names
    }
    out: list[MoneyItem] = []
    for s in sentences:
        for terms in cues.money_terms(s.clean, lang):
            money = terms.money
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
            out.append(
                MoneyItem(
                    **item_of(s, s.clean, 0.9 if money.amount is not None else 0.6).model_dump(),
                    expression=money.text,
                    amount=money.amount,
                    currency=money.currency,
                    period=terms.period,
                    per=terms.per,
                    refers_to=refers,
                )
            )
    return out


def timeline(
    sentences: list[Sentence], lang: Lang, reference: date, taken: set[tuple[date, date]]
) -> list[TimelineItem]:
    """Dates after ``reference`` that are not in ``taken`` (due dates of next actions), once each."""
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
                    **item_of(s, s.clean, confidence).model_dump(),
                    expression=mention.text,
                    date_from=mention.date_from,
                    date_to=mention.date_to,
                )
            )
    return out


@dataclass
class _Person:
    """One decision maker as mentioned across the call (部長 and 鈴木部長 and 営業部長の鈴木 are one)."""

    title: str
    name: str | None
    said: list[Sentence] = field(default_factory=list)
    strong: bool = False  # the customer mentioned them, or someone said they decide

    def same(self, title: str, name: str | None) -> bool:
        if name and self.name:
            return self.name.split()[0] == name.split()[0]
        return title in self.title or self.title in title


def decision_makers(sentences: list[Sentence], lang: Lang) -> list[DecisionMaker]:
    """Decision makers by title, merged per person, cited by every sentence naming them.

    A title counts only when said by the customer side or in a decision context.
    """
    people: list[_Person] = []
    for s in sentences:
        context = bool(cues.DECISION_CONTEXT[lang].search(s.clean))
        for found_start, end in find_titles(s.clean, lang):
            start = _expand_title(s, found_start, lang)
            title = s.clean[start:end]
            if not is_decision_maker_title(title):
                continue
            name = _name_near(s, start, end)
            person = next((p for p in people if p.same(title, name)), None)
            if person is None:
                person = _Person(title=title, name=name)
                people.append(person)
            person.name = person.name or name
            if len(title) > len(person.title):
                person.title = title
            person.said.append(s)
            person.strong = person.strong or context or is_customer_side(s.role)
    out: list[DecisionMaker] = []
    for person in people:
        if not person.strong:
            continue
        said = person.said
        best = next((x for x in said if cues.DECISION_CONTEXT[lang].search(x.clean)), None)
        item = item_of(best or said[0], (best or said[0]).clean, 0.9 if best is not None else 0.6)
        ids = list(dict.fromkeys(i for x in said for i in x.ids))
        out.append(
            DecisionMaker(
                **item.model_copy(update={"utterance_ids": ids, "start": round(said[0].start, 2)}).model_dump(),
                title=person.title,
                name=person.name,
            )
        )
    return out


_JA_DEPARTMENT = re.compile(r"[一-龥ァ-ヶー]{1,8}$")


def _expand_title(s: Sentence, start: int, lang: Lang) -> int:
    """Include the department before a Japanese title (営業 + 部長), unless it is a person's name (鈴木部長)."""
    if lang != "ja":
        return start
    m = _JA_DEPARTMENT.search(s.clean[:start])
    if m is None or any(p_start < start and m.start() < p_end for p_start, p_end, _ in s.persons):
        return start
    # Stop at a particle-like kana boundary: only the kanji/katakana run directly before the title.
    return m.start()


def _name_near(s: Sentence, start: int, end: int) -> str | None:
    best: tuple[int, str] | None = None
    for p_start, p_end, text in s.persons:
        if p_start < end and start < p_end:
            continue  # the title itself
        gap = p_start - end if p_start >= end else start - p_end
        if gap <= 12 and (best is None or gap < best[0]):
            best = (gap, text.strip(" 、,"))
    return best[1] if best else None


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


def mentions(
    sentences: list[Sentence], lang: Lang, catalog: EntityCatalog | None, own: set[str]
) -> tuple[list[Mention], list[Mention]]:
    """Vendors and products named in the call, each once with every sentence that names it.

    Names come from the catalog, the rep's own product phrases, comparisons and competitor contexts; names in
    ``own`` are never competitors.

    Returns:
        ``(competitors, products)``, each in order of first mention.
    """
    # name key -> (display name, kind, strength, sentences); strength: catalog 3, own 2, compared 1, context 0.
    found: dict[str, tuple[str, str, int, list[Sentence]]] = {}
    # A name the cues find that is one of a catalog entry's spellings is that entry (added from the catalog).
    aliases = {_norm(term) for entry in catalog.entries for term in entry.terms} if catalog else set()

    def add(name: str, kind: str, strength: int, s: Sentence) -> None:
        key = _norm(name)
        if not key or key in _GENERIC or len(key) < 2:
            return
        if strength < 3 and key in aliases:
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
            **item_of(first, first.clean, (0.95, 0.7, 0.8, 0.85)[strength]).model_dump(exclude={"utterance_ids"}),
            utterance_ids=ids,
            name=display,
            mentions=len(said),
        )
        (competitors if kind == "competitor" else products).append(mention)
    return competitors, products


# --- sentiment -------------------------------------------------------------------------------------------------------


def sentiment(utterances: Sequence[MinutesUtterance], lang: Lang, catalog: EntityCatalog | None) -> Sentiment | None:
    """The customer's sentiment overall and per utterance; None when only reps speak.

    Utterances of every non-rep speaker count when no one is tagged customer. The label is positive from 0.1,
    negative from -0.1 down, neutral between.
    """
    customer = [u for u in utterances if u.role == "customer"] or [u for u in utterances if u.role != "rep"]
    if not customer:
        return None
    scores = score_utterances([u.text for u in customer], lang, catalog=catalog)
    overall = overall_sentiment(scores)
    label = "positive" if overall.score >= 0.1 else "negative" if overall.score <= -0.1 else "neutral"
    return Sentiment(
        overall=overall.score,
        label=label,
        confidence=overall.confidence,
        cues=overall.cues,
        positive_utterances=overall.positive_utterances,
        negative_utterances=overall.negative_utterances,
        neutral_utterances=overall.neutral_utterances,
        utterances=[
            UtteranceSentiment(utterance_id=u.id, start=round(u.start, 2), score=sc.score, cues=list(sc.cues))
            for u, sc in zip(customer, scores, strict=True)
            if sc.weight
        ],
    )
