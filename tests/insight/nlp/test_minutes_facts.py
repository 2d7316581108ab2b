"""Facts in the minutes that a reader checks at once: one day per weekday, the terms of each amount, a summary
without greetings, a sentiment that does not overstate thin evidence."""

from __future__ import annotations

from datetime import date

import pytest
from spacy.language import Language

from insight.nlp.embeddings import Embedder, get_embedder
from insight.nlp.minutes import MinutesUtterance, OfflineMinutesWriter
from insight.nlp.render import render_markdown

# A Monday: 来週の火曜日 / "next Tuesday" is 2026-12-08; the bare weekday alone would be 2026-12-01.
MONDAY = date(2026, 11, 30)
NEXT_TUESDAY = date(2026, 12, 8)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder()


@pytest.fixture(scope="session")
def writer(embedder: Embedder, nlp_ja: Language, nlp_en: Language) -> OfflineMinutesWriter:
    return OfflineMinutesWriter(embedder)


def call(*turns: tuple[str, str]) -> list[MinutesUtterance]:
    """Utterances 101, 102, ... five seconds apart; S1 is the rep, S2 the customer."""
    return [
        MinutesUtterance(
            id=101 + i,
            start=5.0 * i,
            end=5.0 * i + 4.0,
            speaker="S1" if role == "rep" else "S2",
            role="rep" if role == "rep" else "customer",
            text=text,
        )
        for i, (role, text) in enumerate(turns)
    ]


JA_TUESDAY = call(
    ("rep", "お世話になっております。株式会社クラウドリンクの佐藤です。"),
    ("customer", "東西物産の山田です。よろしくお願いします。"),
    ("rep", "来週の火曜日に、現場の皆さま向けにデモをお見せしたいのですが、いかがでしょうか。"),
    ("customer", "はい、大丈夫です。"),
    ("rep", "では火曜日までに、デモの資料をお送りします。"),
    ("customer", "火曜日には部長も同席できます。"),
)

EN_TUESDAY = call(
    ("rep", "Hi Jordan, this is Alex from CallSpring."),
    ("customer", "Hi Alex."),
    ("rep", "Could we set up a demo for your sales managers next Tuesday?"),
    ("customer", "Yes, next Tuesday works."),
    ("rep", "Great. I will send you the deck before the demo on Tuesday."),
    ("customer", "On Tuesday our VP of Sales can join too."),
)


@pytest.mark.parametrize(("utterances", "lang"), [(JA_TUESDAY, "ja"), (EN_TUESDAY, "en")])
def test_one_tuesday_is_one_date_across_the_call(
    writer: OfflineMinutesWriter, utterances: list[MinutesUtterance], lang: str
) -> None:
    doc = writer.write(utterances, lang=lang, reference_date=MONDAY)  # type: ignore[arg-type]
    # The demo (an accepted proposal) and the deck to send before it are due the same Tuesday.
    assert [a.due for a in doc.next_actions] == [NEXT_TUESDAY, NEXT_TUESDAY]
    # No second Tuesday a week earlier shows up in the timeline.
    assert [t.date_from for t in doc.timeline if t.date_from.weekday() == 1] in ([], [NEXT_TUESDAY])
    assert "2026-12-01" not in render_markdown(doc)


@pytest.mark.parametrize(
    ("utterances", "lang", "expected", "shown"),
    [
        (
            call(("rep", "It is $45 per seat per month, so about $1350 a month for 30 seats.")),
            "en",
            [(45.0, "USD", "month", "seat"), (1350.0, "USD", "month", None)],
            ["price quoted $45 = 45 USD per month / seat", "price quoted $1350 = 1,350 USD per month** —"],
        ),
        (
            call(
                (
                    "rep",
                    "It's forty five dollars per seat per month, so about thirteen hundred and fifty dollars a month "
                    "for thirty seats.",
                )
            ),
            "en",
            [(45.0, "USD", "month", "seat"), (1350.0, "USD", "month", None)],
            ["= 1,350 USD per month** —"],
        ),
        (
            call(("rep", "料金は月額1ユーザー4,500円、30ユーザーで月13万5千円になります。")),
            "ja",
            [(4500.0, "JPY", "month", "ユーザー"), (135000.0, "JPY", "month", None)],
            ["提示価格 4,500円 = 4,500 JPY 月額 / ユーザー", "提示価格 13万5千円 = 135,000 JPY 月額** —"],
        ),
        (
            call(("rep", "It's $500 a month per seat, and the setup is a $1,000 one-time fee.")),
            "en",
            [(500.0, "USD", "month", "seat"), (1000.0, "USD", "once", None)],
            ["= 1,000 USD one-off** —"],
        ),
        (
            call(("customer", "12月に100万円の予算を確保しています。")),
            "ja",
            [(1_000_000.0, "JPY", None, None)],  # 12月に is a month of the calendar, not "per month"
            ["予算 100万円 = 1,000,000 JPY** —"],
        ),
    ],
)
def test_each_amount_carries_its_own_period_and_unit(
    writer: OfflineMinutesWriter,
    utterances: list[MinutesUtterance],
    lang: str,
    expected: list[tuple[float, str, str | None, str | None]],
    shown: list[str],
) -> None:
    doc = writer.write(utterances, lang=lang, reference_date=MONDAY)  # type: ignore[arg-type]
    assert [(m.amount, m.currency, m.period, m.per) for m in doc.budget] == expected
    markdown = render_markdown(doc)
    for line in shown:
        assert line in markdown
