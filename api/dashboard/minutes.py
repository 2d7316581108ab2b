"""The minutes card of the call page: sections of items, each with a link to its evidence utterance."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from insight.calls.view import CallView
from insight.nlp.minutes.render import item_details, labels_for, sentiment_text
from insight.nlp.minutes.schemas import SECTIONS, MinutesDoc, MinutesItem


@dataclass(frozen=True)
class MinutesCardItem:
    """One item of the card, ready to show: its text, details line and evidence (time, utterance, confidence)."""

    text: str
    details: str
    start: float
    utterance_id: int
    confidence: float


@dataclass(frozen=True)
class MinutesCard:
    """The minutes of a call as the page shows them: headed sections of items, in the page's language."""

    notice: str | None
    backend: str
    sections: list[tuple[str, list[MinutesCardItem]]]
    sentiment: str | None


def minutes_card(session: Session, shown: CallView, *, lang: str) -> MinutesCard | None:
    """The call's minutes for the page, in the page's view (the original only when it shows the original
    transcript); None when there is no copy for that view.
    """
    minutes = shown.minutes(session)
    if minutes is None or minutes.content is None:
        return None
    row = minutes.row
    doc = MinutesDoc.model_validate(minutes.content)
    t = labels_for(lang)
    sections: list[tuple[str, list[MinutesCardItem]]] = []
    for name in SECTIONS:
        items: list[MinutesItem] = getattr(doc, name)
        if items:
            sections.append(
                (
                    t[name],
                    [
                        MinutesCardItem(i.text, item_details(i, t), i.start, i.utterance_ids[0], i.confidence)
                        for i in items
                    ],
                )
            )
    sentiment = None
    if doc.sentiment is not None:
        sentiment = f"{t['sentiment']}: {sentiment_text(doc.sentiment, t)}"
    return MinutesCard(notice=doc.notice, backend=row.backend, sections=sections, sentiment=sentiment)
