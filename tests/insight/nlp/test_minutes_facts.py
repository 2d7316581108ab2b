"""Facts in the minutes that a reader checks at once: one day per weekday, the terms of each amount, a summary
without greetings, a sentiment that does not overstate thin evidence."""

from __future__ import annotations

from datetime import date

import pytest
from spacy.language import Language

from insight.nlp.embeddings import Embedder
from insight.nlp.minutes.render import render_markdown
from insight.nlp.minutes.writer import MinutesOptions, MinutesUtterance, OfflineMinutesWriter
from tests.insight.nlp.conftest import call

# A Monday: 来週の火曜日 / "next Tuesday" is 2026-12-08; the bare weekday alone would be 2026-12-01.
MONDAY = date(2026, 11, 30)
NEXT_TUESDAY = date(2026, 12, 8)


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


EN_GREETINGS = call(
    ("rep", "Hi Jordan, this is Alex from CallSpring. Thanks for taking the time today."),
    ("customer", "Hi Alex, nice to meet you. How are you doing today?"),
    ("rep", "I'm doing well, thanks. Yeah, okay, right, sure, that makes sense, absolutely."),
    ("customer", "Our reps never update the CRM, so the forecast is guesswork and my managers spend hours on it."),
    ("rep", "Hi Jordan, the rollout of the recorder usually starts with one team of ten reps in the first month."),
    ("customer", "We would need the notes to land in HubSpot automatically, otherwise nobody will adopt it."),
    ("rep", "CallSpring writes the notes into HubSpot automatically after every call, with the next steps."),
)

JA_GREETINGS = call(
    ("rep", "お世話になっております。株式会社クラウドリンクの佐藤です。"),
    ("customer", "いつもお世話になっております、東西物産の山田と申します。本日はよろしくお願いいたします。"),
    ("rep", "本日はお忙しいところお時間をいただき、誠にありがとうございます。"),
    ("customer", "はい、ええ、そうですね、なるほど、おっしゃる通りです。"),
    ("customer", "今はサイボウズを使っていますが、入力の手間が多くて現場が記録を残してくれないんです。"),
    ("rep", "弊社のツールでは通話の内容から自動で議事録を作成し、そのままサイボウズに登録できます。"),
    ("customer", "現場の入力が減るのであれば、来月から営業一課で試験的に導入を検討したいと思います。"),
)


EXPECTED_SUMMARY = {
    "en": [
        "Our reps never update the CRM, so the forecast is guesswork and my managers spend hours on it.",
        "The rollout of the recorder usually starts with one team of ten reps in the first month.",
        "We would need the notes to land in HubSpot automatically, otherwise nobody will adopt it.",
        "CallSpring writes the notes into HubSpot automatically after every call, with the next steps.",
    ],
    "ja": [
        "今はサイボウズを使っていますが、入力の手間が多くて現場が記録を残してくれないんです。",
        "弊社のツールでは通話の内容から自動で議事録を作成し、そのままサイボウズに登録できます。",
        "現場の入力が減るのであれば、来月から営業一課で試験的に導入を検討したいと思います。",
    ],
}


@pytest.mark.parametrize(("utterances", "lang"), [(EN_GREETINGS, "en"), (JA_GREETINGS, "ja")])
def test_summary_leaves_out_greetings_introductions_and_backchannels(
    embedder: Embedder, nlp_ja: Language, nlp_en: Language, utterances: list[MinutesUtterance], lang: str
) -> None:
    # A budget for the whole call: whatever is left out is left out as small talk, not for lack of room.
    roomy = OfflineMinutesWriter(embedder, options=MinutesOptions(summary_budget=500.0))
    doc = roomy.write(utterances, lang=lang, reference_date=MONDAY)  # type: ignore[arg-type]
    # Content stays, also behind a greeting that opens its sentence ("Hi Jordan, the rollout ...").
    assert [item.text for item in doc.summary] == EXPECTED_SUMMARY[lang]
    # The people are still found: the filter is the summary's, not the participants'.
    assert {p.name for p in doc.participants} == ({"Alex", "Jordan"} if lang == "en" else {"佐藤", "山田"})


THIN = call(
    ("rep", "We can start the pilot with your team next month and review the results together."),
    ("customer", "Great."),
)
RICH = call(
    ("rep", "Here is the dashboard the managers would use every morning."),
    ("customer", "Great, that is really helpful."),
    ("customer", "I love how easy it is to use, the reps will like it."),
    ("customer", "This is excellent, exactly what we wanted, and the support was fantastic."),
    ("customer", "We are happy to move forward and want to sign this month."),
)


def test_sentiment_on_thin_evidence_is_shrunk_and_says_how_sure_it_is(writer: OfflineMinutesWriter) -> None:
    thin = writer.write(THIN, lang="en", reference_date=MONDAY).sentiment
    rich = writer.write(RICH, lang="en", reference_date=MONDAY).sentiment
    assert thin is not None
    assert rich is not None
    # One "Great." is a mild lean, not +1.00; many clear cues are a strong one, and surer.
    assert 0.0 < thin.overall <= 0.3
    assert rich.overall >= 0.45
    assert thin.confidence is not None
    assert rich.confidence is not None
    assert (thin.cues, rich.cues) == (1, 4)
    assert thin.confidence <= 0.3 < 0.5 <= rich.confidence
    # Every view shows the same score with its confidence.
    markdown = render_markdown(writer.write(THIN, lang="en", reference_date=MONDAY))
    assert f"positive ({thin.overall:+.2f}, confidence {thin.confidence:.0%})" in markdown
