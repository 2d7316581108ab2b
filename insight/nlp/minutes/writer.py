"""Minutes of a call, written offline: an extractive summary plus slots filled by rules over the language pipeline.

The transcript is cut into sentences (a sentence Whisper split across two utterances of one speaker is joined
again), each sentence is parsed once (entities, resolved dates) and then:

========================  ===========================================================================================
field                     how it is found
========================  ===========================================================================================
summary                   :func:`.summarize.summarize`: topic-bigram coverage + centrality over sentence
                          embeddings + MMR, in call order; greetings, self-introductions and backchannels are
                          never picked, and a greeting that opens a sentence is not shown
needs / objections        customer sentences with need or pain cues (課題, 手間, "by hand") / concern cues (高い,
                          セキュリティ, "more than we hoped")
questions                 customer sentences that are questions (?, ですか, でしょうか)
decisions                 decision phrases (ことにしましょう, "let's start with"), and a rep's proposal with a future
                          date that the customer accepts in the next turn
next actions              commitments (お送りします, 取っておきます, "I will send", "Maria will review"); owner = the
                          speaker's side and name, or the person named as subject; due = the date in the sentence,
                          resolved against the call's date
budget                    money amounts (月額30万円, $50,000 a year) with currency, period, unit and what they refer to
                          (budget, price, a competitor's price); with several amounts in a sentence each takes the
                          period and unit of its own clause
timeline                  other dates after the call's date (導入は来年の4月, "roll out in January")
decision makers           titles (部長, VP of Sales) with the person named beside them, said by the customer or in a
                          decision context (判断, "final decision")
competitors / products    the configured catalog (matched ignoring spaces and case, as ASR splits brand names), the
                          rep's own products (弊社の〜, "our ..."), names in comparisons, and vendors the customer
                          uses (今は〜を使っています, "we use ...")
sentiment                 the customer's utterances, scored by :mod:`.sentiment`, shrunk toward neutral
                          when there is little evidence, with its confidence
========================  ===========================================================================================

An empty transcript or one of a few words gives minutes with ``status`` ``empty`` / ``too_short`` and a notice
saying so; nothing is invented.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

import numpy as np

from insight.nlp.embeddings import Embedder
from insight.nlp.minutes import cues, slots
from insight.nlp.minutes.schemas import MinutesDoc, MinutesItem
from insight.nlp.minutes.sentences import (
    NON_SPEECH,
    MinutesUtterance,
    Sentence,
    content_size,
    item_of,
    parse_sentences,
    split_into_sentences,
)
from insight.nlp.minutes.summarize import (
    SummaryOptions,
    SummaryUnit,
    is_candidate,
    is_small_talk,
    summarize,
    trim_small_talk,
)
from insight.nlp.types import EntityCatalog, Lang

if TYPE_CHECKING:
    from insight.nlp.pipelines import NlpSource

__all__ = ["MinutesOptions", "MinutesUtterance", "MinutesWriter", "OfflineMinutesWriter", "content_size"]

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
    def name(self) -> str:
        """The backend's name, stored with the minutes it wrote."""

    def write(
        self,
        utterances: Sequence[MinutesUtterance],
        *,
        lang: Lang,
        reference_date: date,
        catalog: EntityCatalog | None = None,
    ) -> MinutesDoc:
        """The minutes of ``utterances``; relative dates resolve against ``reference_date``."""


def _length(text: str, lang: Lang) -> float:
    return len(text) / 2.0 if lang == "ja" else float(len(text.split()))


class OfflineMinutesWriter:
    """The default writer: no network, no generative model (see the module docstring).

    Args:
        embedder: Sentence embeddings for the summary.
        options: Summary length and the empty/short thresholds.
        nlp: The spaCy pipeline of a language (the runtime's ``Models.nlp``); the process-wide one by default.
    """

    name = "offline"

    def __init__(
        self, embedder: Embedder, *, options: MinutesOptions | None = None, nlp: NlpSource | None = None
    ) -> None:
        self.embedder = embedder
        self.options = options or MinutesOptions()
        self.nlp = nlp

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
            heard = " ".join(NON_SPEECH.sub(" ", u.text).strip() for u in spoken).strip()
            notice = NOTICES["too_short"][lang].format(text=heard[:80])
            return base.model_copy(update={"status": "too_short", "notice": notice})

        sentences = split_into_sentences(spoken, lang)
        parse_sentences(sentences, lang, reference_date, nlp=self.nlp(lang) if self.nlp is not None else None)
        participants = slots.participants(spoken, sentences, lang)
        names = {p.speaker: p.name for p in participants}
        own = slots.own_names(sentences, participants, lang)
        actions, action_dates = slots.next_actions(sentences, lang, reference_date, names)
        proposals, proposal_actions, proposal_dates = slots.accepted_proposals(sentences, lang, reference_date, names)
        competitors, products = slots.mentions(sentences, lang, catalog, own)
        return base.model_copy(
            update={
                "participants": participants,
                "summary": self._summary(sentences, lang, {p.name for p in participants if p.name}),
                "needs": slots.classified(sentences, lang, cues.NEED[lang], questions=False, confidence=0.6),
                "objections": slots.classified(sentences, lang, cues.OBJECTION[lang], questions=True, confidence=0.65),
                "questions": slots.questions(sentences, lang),
                "decisions": slots.decisions(sentences, lang) + proposals,
                "next_actions": sorted(actions + proposal_actions, key=lambda a: a.start),
                "budget": slots.money(sentences, lang, catalog, {c.name for c in competitors}),
                "timeline": slots.timeline(sentences, lang, reference_date, action_dates | proposal_dates),
                "decision_makers": slots.decision_makers(sentences, lang),
                "competitors": competitors,
                "products": products,
                "sentiment": slots.sentiment(spoken, lang, catalog),
            }
        )

    def _summary(self, sentences: list[Sentence], lang: Lang, names: set[str]) -> list[MinutesItem]:
        opts = self.options
        units: list[SummaryUnit] = []
        for s in sentences:
            known = names | {person for _, _, person in s.persons}
            text = trim_small_talk(s.clean, lang, names=known)
            talk = is_small_talk(text, lang, names=known)
            units.append(
                SummaryUnit(
                    text=text,
                    tokens=s.tokens if not talk else (),
                    stop=s.stop if not talk else (),
                    length=_length(text, lang),
                )
            )
        if opts.summary_budget is not None:
            budget = opts.summary_budget
        else:
            total = sum(u.length for u in units)
            budget = min(opts.summary_max, max(opts.summary_min, opts.summary_share * total))
        candidates = [i for i, u in enumerate(units) if is_candidate(u, opts.summary)]
        embeddings = np.zeros((len(units), 1), dtype=np.float32)
        if candidates:
            vectors = self.embedder.encode([units[i].text for i in candidates])
            embeddings = np.zeros((len(units), vectors.shape[1]), dtype=np.float32)
            embeddings[candidates] = vectors
        cost: Callable[[int], float] | None = (lambda _i: opts.summary_label_cost) if opts.summary_label_cost else None
        chosen = summarize(units, embeddings, budget, options=opts.summary, extra_cost=cost)
        return [item_of(sentences[i], units[i].text, 0.8) for i in chosen]
