"""Markdown rendering of a minutes document, in the call's language.

Every item ends with its evidence: the time of the utterance it comes from, linked to that utterance when the
caller gives a link pattern (the web page uses ``#u{id}``, the rows of its transcript).

File names, speaker names and what was said are typed or spoken by people: they go in as inert text
(:func:`md_text`), so a file named ``<img src=x onerror=...>.wav`` or a speaker renamed to a Markdown link does not
become HTML or a link wherever the Markdown is rendered.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from insight.nlp.minutes.schemas import (
    SECTIONS,
    DecisionMaker,
    Mention,
    MinutesDoc,
    MinutesItem,
    MoneyItem,
    NextAction,
    Sentiment,
    TimelineItem,
)

_WORDS: dict[str, dict[str, str]] = {
    "ja": {
        "title": "議事録",
        "date": "商談日",
        "participants": "参加者",
        "sentiment": "顧客の反応",
        "owner": "担当",
        "due": "期限",
        "no_due": "期限未定",
        "role_rep": "営業",
        "role_customer": "顧客",
        "role_other": "その他",
        "role_unknown": "不明",
        "positive": "好意的",
        "neutral": "中立",
        "negative": "否定的",
        "refers_budget": "予算",
        "refers_price": "提示価格",
        "refers_competitor_price": "競合の価格",
        "refers_other": "金額",
        "month": "月額",
        "year": "年額",
        "once": "一括",
        "mention": "回",
        "mentions": "回",
        "count_sep": "",
        "none": "なし",
        "confidence": "確度",
    },
    "en": {
        "title": "Minutes",
        "date": "Call date",
        "participants": "Participants",
        "sentiment": "Customer sentiment",
        "owner": "owner",
        "due": "due",
        "no_due": "no due date",
        "role_rep": "rep",
        "role_customer": "customer",
        "role_other": "other",
        "role_unknown": "unknown",
        "positive": "positive",
        "neutral": "neutral",
        "negative": "negative",
        "refers_budget": "budget",
        "refers_price": "price quoted",
        "refers_competitor_price": "competitor's price",
        "refers_other": "amount",
        "month": "per month",
        "year": "per year",
        "once": "one-off",
        "mention": "mention",
        "mentions": "mentions",
        "count_sep": " ",
        "none": "none",
        "confidence": "confidence",
    },
}

# Every label of the rendering in each language: the words above and the section headings of the schema.
LABELS: dict[str, dict[str, str]] = {
    language: {**words, **{str(section): section.heading(language) for section in SECTIONS}}
    for language, words in _WORDS.items()
}


_LINE_BREAKS = re.compile(r"[\r\n\v\f\x85\u2028\u2029]+")


def md_text(value: str) -> str:
    """``value`` as inert Markdown text on one line: no raw HTML (``<``, ``>``, ``&`` become entities), no link or
    image (``](`` and ``![`` are escaped) and no link reference definition (``]:``), no line break that could start
    a heading or a block of its own.
    """
    text = _LINE_BREAKS.sub(" ", value)
    text = html.escape(text, quote=False)
    return text.replace("](", "]\\(").replace("![", "!\\[").replace("]:", "]\\:")


def labels_for(language: str) -> dict[str, str]:
    """The Markdown headings and labels for ``language`` (Japanese for ``ja``, English for anything else)."""
    return LABELS["ja"] if language == "ja" else LABELS["en"]


def clock(seconds: float) -> str:
    """``seconds`` as ``m:ss``, or ``h:mm:ss`` from one hour on (fractions dropped)."""
    s = int(seconds)
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:d}:{s % 60:02d}"


def counted(count: int, noun: str, t: dict[str, str]) -> str:
    """A count with its noun in the labels' language: "1 mention", "3 mentions", "3回"."""
    return f"{count}{t['count_sep']}{t[noun if count == 1 else noun + 's']}"


def item_details(item: MinutesItem, t: dict[str, str]) -> str:
    """The structured part of an item (owner and due date, amount, dates, title, mentions) as one short line."""
    if isinstance(item, NextAction):
        owner = t[f"role_{item.owner.role}"] + (f" ({item.owner.name})" if item.owner.name else "")
        due = f"{item.due.isoformat()}" + (f" ({item.due_text})" if item.due_text else "") if item.due else t["no_due"]
        return f"{t['owner']}: {owner} · {t['due']}: {due}"
    if isinstance(item, MoneyItem):
        parts = [t[f"refers_{item.refers_to}"], item.expression]
        if item.amount is not None:
            parts.append(f"= {item.amount:,.0f} {item.currency or ''}".rstrip())
        if item.period:
            parts.append(t[item.period])
        if item.per:
            parts.append(f"/ {item.per}")
        return " ".join(parts)
    if isinstance(item, TimelineItem):
        span = item.date_from.isoformat()
        if item.date_to != item.date_from:
            span += f" – {item.date_to.isoformat()}"
        return f"{item.expression}: {span}"
    if isinstance(item, DecisionMaker):
        return " ".join(x for x in (item.title, item.name) if x)
    if isinstance(item, Mention):
        return f"{item.name} ({counted(item.mentions, 'mention', t)})"
    return ""


def sentiment_text(sentiment: Sentiment, t: dict[str, str]) -> str:
    """The call's sentiment in one line, as every view shows it: label, score and how sure it is
    ("positive (+0.25, confidence 25%)"; minutes written before confidences were kept show none).
    """
    sure = f", {t['confidence']} {sentiment.confidence:.0%}" if sentiment.confidence is not None else ""
    return f"{t[sentiment.label]} ({sentiment.overall:+.2f}{sure})"


def render_markdown(
    doc: MinutesDoc,
    *,
    title: str | None = None,
    link: Callable[[int], str] | None = None,
) -> str:
    """The minutes as Markdown in the call's language.

    Args:
        doc: The minutes (original or redacted form).
        title: A heading (the call's file name); "Minutes"/"議事録" when absent.
        link: Turns an utterance id into a URL for the evidence links; plain times when absent.
    """
    t = labels_for(doc.language)
    lines = [f"# {md_text(title) if title else t['title']}", "", f"{t['date']}: {doc.reference_date.isoformat()}", ""]
    if doc.notice:
        lines += [f"> {md_text(doc.notice)}", ""]
    if doc.participants:
        lines += [f"## {t['participants']}", ""]
        for p in doc.participants:
            who = " · ".join(md_text(x) for x in (p.name, p.organization) if x)
            lines.append(f"- {md_text(p.speaker)} ({t[f'role_{p.role}']})" + (f": {who}" if who else ""))
        lines.append("")
    for section in SECTIONS:
        items: list[MinutesItem] = getattr(doc, section)
        if not items:
            continue
        lines += [f"## {t[section]}", ""]
        for item in items:
            evidence = clock(item.start)
            if link is not None:
                evidence = f"[{evidence}]({link(item.utterance_ids[0])})"
            details = md_text(item_details(item, t))
            text = f"**{details}** — {md_text(item.text)}" if details else md_text(item.text)
            lines.append(f"- {text} ({evidence})")
        lines.append("")
    if doc.sentiment is not None:
        s = doc.sentiment
        lines += [
            f"## {t['sentiment']}",
            "",
            f"{sentiment_text(s, t)}: +{s.positive_utterances} / -{s.negative_utterances} / ±{s.neutral_utterances}",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"
