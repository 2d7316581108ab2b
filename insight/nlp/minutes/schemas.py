"""The minutes document: one JSON schema for the offline writer and the optional LLM writer.

Every item cites its evidence: the ids of the utterances it comes from (``utterance_ids``), the time of the first
one (``start``, seconds into the call) and a ``confidence`` in [0, 1]. The document is stored as JSON
(``models.Minutes.content``) and rendered as Markdown by :mod:`insight.nlp.minutes.render`.

:class:`MinutesDoc` is the one minutes document of every layer. Around it: ``models.Minutes`` is its stored row
(both forms, original and redacted, plus the backend that wrote it), ``llm.WriterResult`` what the writers return
(the document and which backend wrote it), ``local.FileMinutesResult`` the minutes of an audio file with their
evidence utterances, ``api.schemas.minutes.MinutesPublic`` the API answer (the document as it is, plus the call and
its view) and ``api.dashboard.minutes.MinutesCard`` the call page's card (display-ready text).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

RoleName = Literal["rep", "customer", "other", "unknown"]
MinutesStatus = Literal["ok", "empty", "too_short", "unsupported_language"]


class _Strict(BaseModel):
    # An LLM's extra keys are an error, not silently kept: the stored document has exactly this shape.
    model_config = ConfigDict(extra="forbid")


class MinutesItem(_Strict):
    """One statement of the minutes and where it was said."""

    text: str = Field(min_length=1, max_length=2000)
    utterance_ids: list[int] = Field(min_length=1, description="Evidence: the utterances this item comes from.")
    start: float = Field(ge=0, description="Seconds into the call of the first evidence utterance.")
    speaker: str | None = Field(default=None, description="Speaker label (S1, S2 ...) of the first evidence.")
    role: RoleName = "unknown"
    confidence: float = Field(ge=0.0, le=1.0)


class Owner(_Strict):
    """Who does a next action: the rep's side, the customer's side, or a named person."""

    role: RoleName
    name: str | None = None
    speaker: str | None = None


class NextAction(MinutesItem):
    """Something someone committed to do, with who does it and by when (None when no date was said)."""

    owner: Owner
    due: date | None = Field(default=None, description="Absolute due date (relative dates resolved).")
    due_text: str | None = Field(default=None, description="The date as it was said (来週の金曜日, next Friday).")


class MoneyItem(MinutesItem):
    """A money amount and what it refers to (the customer's budget, a price quoted, a competitor's price)."""

    expression: str = Field(description="The amount as said: 月額30万円, $45 per seat.")
    amount: float | None = None
    currency: str | None = Field(default=None, description="ISO 4217: JPY, USD, EUR, GBP.")
    period: Literal["month", "year", "once"] | None = None
    per: str | None = Field(default=None, description="Unit the price is per: seat, user, ...")
    refers_to: Literal["budget", "price", "competitor_price", "other"] = "other"


class TimelineItem(MinutesItem):
    """A future date or period that matters to the deal (go-live, renewal), resolved to absolute dates."""

    expression: str
    date_from: date
    date_to: date


class DecisionMaker(MinutesItem):
    """A person who decides on the purchase, by title and, when said, name."""

    title: str | None = None
    name: str | None = None


class Mention(MinutesItem):
    """A competitor or product: ``text`` is the first sentence naming it; ``mentions`` counts sentences naming it."""

    name: str
    mentions: int = Field(ge=1)


class Participant(_Strict):
    """One speaker of the call with their role and, when introduced, name and organization."""

    speaker: str
    role: RoleName
    name: str | None = None
    organization: str | None = None
    utterance_ids: list[int] = Field(default_factory=list, description="Where the name/organization was said.")


class UtteranceSentiment(_Strict):
    """The sentiment score in [-1, 1] of one customer utterance and the cues behind it."""

    utterance_id: int
    start: float
    score: float = Field(ge=-1.0, le=1.0)
    cues: list[str] = Field(default_factory=list)


class Sentiment(_Strict):
    """The customer's sentiment: each customer utterance with cues, and the call overall."""

    overall: float = Field(ge=-1.0, le=1.0, description="Shrunk toward 0 when there is little evidence.")
    label: Literal["positive", "neutral", "negative"]
    confidence: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="How much evidence there was: cues / (cues + 3); absent in old minutes.",
    )
    cues: int | None = Field(default=None, ge=0, description="Sentiment cues heard in the customer's utterances.")
    positive_utterances: int = 0
    negative_utterances: int = 0
    neutral_utterances: int = 0
    utterances: list[UtteranceSentiment] = Field(default_factory=list)


class MinutesDoc(_Strict):
    """The minutes of one call."""

    schema_version: int = SCHEMA_VERSION
    language: str = Field(description="ja or en; another code only with status unsupported_language.")
    reference_date: date = Field(description="The call's date: relative dates were resolved against it.")
    status: MinutesStatus = "ok"
    notice: str | None = Field(default=None, description="Why the minutes are empty or short, in the call's language.")
    participants: list[Participant] = Field(default_factory=list)
    summary: list[MinutesItem] = Field(default_factory=list)
    needs: list[MinutesItem] = Field(default_factory=list, description="Customer needs and pain points.")
    objections: list[MinutesItem] = Field(default_factory=list, description="Objections and concerns.")
    questions: list[MinutesItem] = Field(default_factory=list, description="Questions the customer asked.")
    decisions: list[MinutesItem] = Field(default_factory=list)
    next_actions: list[NextAction] = Field(default_factory=list)
    budget: list[MoneyItem] = Field(default_factory=list)
    timeline: list[TimelineItem] = Field(default_factory=list)
    decision_makers: list[DecisionMaker] = Field(default_factory=list)
    competitors: list[Mention] = Field(default_factory=list)
    products: list[Mention] = Field(default_factory=list)
    sentiment: Sentiment | None = None

    def evidence_ids(self) -> set[int]:
        """Every utterance id cited anywhere in the document."""
        ids: set[int] = set()
        for section in SECTIONS:
            for item in getattr(self, section):
                ids.update(item.utterance_ids)
        return ids


class Section(StrEnum):
    """One item list of :class:`MinutesDoc` (the value is its field name) and its heading in each language."""

    ja: str
    en: str

    def __new__(cls, field: str, ja: str, en: str) -> Section:
        """Make the member whose value is the field name ``field``, with its Japanese and English headings."""
        member = str.__new__(cls, field)
        member._value_ = field
        member.ja = ja
        member.en = en
        return member

    summary = "summary", "要約", "Summary"
    needs = "needs", "顧客の課題・ニーズ", "Needs and pain points"
    objections = "objections", "懸念・反論", "Objections and concerns"
    questions = "questions", "顧客からの質問", "Questions the customer asked"
    decisions = "decisions", "決定事項", "Decisions"
    next_actions = "next_actions", "ネクストアクション", "Next actions"
    budget = "budget", "予算・金額", "Budget and prices"
    timeline = "timeline", "スケジュール", "Timeline"
    decision_makers = "decision_makers", "意思決定者", "Decision makers"
    competitors = "competitors", "競合", "Competitors"
    products = "products", "製品", "Products"

    def heading(self, language: str) -> str:
        """The heading in ``language``: Japanese for ``ja``, English for every other language."""
        return self.ja if language == "ja" else self.en


# The item lists in display order: the Markdown rendering, the command line and the dashboard follow it.
SECTIONS: tuple[Section, ...] = tuple(Section)


def section_item_type(name: str) -> type[MinutesItem]:
    """The item class of the section ``name`` (``MinutesItem``, ``NextAction``, ``MoneyItem`` ...)."""
    (item_type,) = get_args(MinutesDoc.model_fields[name].annotation)
    if not (isinstance(item_type, type) and issubclass(item_type, MinutesItem)):
        raise TypeError(f"{name} is not an item list of the minutes")
    return item_type
