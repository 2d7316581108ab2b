"""Relative and absolute date expressions against a fixed reference date (2026-11-25, a Wednesday)."""

from __future__ import annotations

from datetime import date

import pytest

from insight.nlp.dates import DateContext, find_dates, resolve_date
from tests.insight.nlp.conftest import REFERENCE

D = date

JA_CASES = [
    ("今日", D(2026, 11, 25), D(2026, 11, 25)),
    ("本日中", D(2026, 11, 25), D(2026, 11, 25)),
    ("明日", D(2026, 11, 26), D(2026, 11, 26)),
    ("あさって", D(2026, 11, 27), D(2026, 11, 27)),
    ("昨日", D(2026, 11, 24), D(2026, 11, 24)),
    ("3日後", D(2026, 11, 28), D(2026, 11, 28)),
    ("３日後", D(2026, 11, 28), D(2026, 11, 28)),
    ("三日後", D(2026, 11, 28), D(2026, 11, 28)),
    ("10日以内", D(2026, 11, 25), D(2026, 12, 5)),
    ("2週間後", D(2026, 12, 9), D(2026, 12, 9)),
    ("1ヶ月後", D(2026, 12, 25), D(2026, 12, 25)),
    ("半年後", D(2027, 5, 25), D(2027, 5, 25)),
    ("5営業日以内", D(2026, 11, 25), D(2026, 12, 2)),
    ("今週中", D(2026, 11, 25), D(2026, 11, 27)),
    ("来週", D(2026, 11, 30), D(2026, 12, 4)),
    ("来週の火曜日", D(2026, 12, 1), D(2026, 12, 1)),
    ("来週火曜", D(2026, 12, 1), D(2026, 12, 1)),
    ("今週の金曜日", D(2026, 11, 27), D(2026, 11, 27)),
    ("再来週の月曜", D(2026, 12, 7), D(2026, 12, 7)),
    ("来週中", D(2026, 11, 30), D(2026, 12, 4)),
    ("週明け", D(2026, 11, 30), D(2026, 11, 30)),
    ("週末", D(2026, 11, 28), D(2026, 11, 29)),
    ("金曜日", D(2026, 11, 27), D(2026, 11, 27)),
    ("水曜日", D(2026, 12, 2), D(2026, 12, 2)),
    ("月末", D(2026, 11, 30), D(2026, 11, 30)),
    ("今月中", D(2026, 11, 25), D(2026, 11, 30)),
    ("来月", D(2026, 12, 1), D(2026, 12, 31)),
    ("来月末", D(2026, 12, 31), D(2026, 12, 31)),
    ("来月上旬", D(2026, 12, 1), D(2026, 12, 10)),
    ("来月中旬", D(2026, 12, 11), D(2026, 12, 20)),
    ("来月の15日", D(2026, 12, 15), D(2026, 12, 15)),
    ("再来月", D(2027, 1, 1), D(2027, 1, 31)),
    ("月初", D(2026, 12, 1), D(2026, 12, 1)),
    ("12月3日", D(2026, 12, 3), D(2026, 12, 3)),
    ("１月１５日", D(2027, 1, 15), D(2027, 1, 15)),
    ("9月1日", D(2026, 9, 1), D(2026, 9, 1)),
    ("2027年2月", D(2027, 2, 1), D(2027, 2, 28)),
    ("来年の4月", D(2027, 4, 1), D(2027, 4, 30)),
    ("年内", D(2026, 11, 25), D(2026, 12, 31)),
    ("年末", D(2026, 12, 31), D(2026, 12, 31)),
    ("来年", D(2027, 1, 1), D(2027, 12, 31)),
    ("年度末", D(2027, 3, 31), D(2027, 3, 31)),
    ("来年度", D(2027, 4, 1), D(2028, 3, 31)),
]

EN_CASES = [
    ("today", D(2026, 11, 25), D(2026, 11, 25)),
    ("EOD", D(2026, 11, 25), D(2026, 11, 25)),
    ("tomorrow", D(2026, 11, 26), D(2026, 11, 26)),
    ("the day after tomorrow", D(2026, 11, 27), D(2026, 11, 27)),
    ("yesterday", D(2026, 11, 24), D(2026, 11, 24)),
    ("in two weeks", D(2026, 12, 9), D(2026, 12, 9)),
    ("in 3 days", D(2026, 11, 28), D(2026, 11, 28)),
    ("in a month", D(2026, 12, 25), D(2026, 12, 25)),
    ("three days from now", D(2026, 11, 28), D(2026, 11, 28)),
    ("within 3 business days", D(2026, 11, 25), D(2026, 11, 30)),
    ("two weeks ago", D(2026, 11, 11), D(2026, 11, 11)),
    ("this week", D(2026, 11, 23), D(2026, 11, 27)),
    ("later this week", D(2026, 11, 26), D(2026, 11, 27)),
    ("end of the week", D(2026, 11, 27), D(2026, 11, 27)),
    ("next week", D(2026, 11, 30), D(2026, 12, 4)),
    ("the end of next week", D(2026, 12, 4), D(2026, 12, 4)),
    ("the week after next", D(2026, 12, 7), D(2026, 12, 11)),
    ("Friday", D(2026, 11, 27), D(2026, 11, 27)),
    ("this Friday", D(2026, 11, 27), D(2026, 11, 27)),
    ("next Friday", D(2026, 12, 4), D(2026, 12, 4)),
    ("Tuesday next week", D(2026, 12, 1), D(2026, 12, 1)),
    ("last Monday", D(2026, 11, 23), D(2026, 11, 23)),
    ("end of the month", D(2026, 11, 30), D(2026, 11, 30)),
    ("EOM", D(2026, 11, 30), D(2026, 11, 30)),
    ("next month", D(2026, 12, 1), D(2026, 12, 31)),
    ("early next month", D(2026, 12, 1), D(2026, 12, 10)),
    ("end of next month", D(2026, 12, 31), D(2026, 12, 31)),
    ("December 3rd", D(2026, 12, 3), D(2026, 12, 3)),
    ("Jan 15", D(2027, 1, 15), D(2027, 1, 15)),
    ("3rd of December", D(2026, 12, 3), D(2026, 12, 3)),
    ("end of January", D(2027, 1, 31), D(2027, 1, 31)),
    ("next quarter", D(2027, 1, 1), D(2027, 3, 31)),
    ("end of the quarter", D(2026, 12, 31), D(2026, 12, 31)),
    ("Q1", D(2027, 1, 1), D(2027, 3, 31)),
    ("end of the year", D(2026, 12, 31), D(2026, 12, 31)),
    ("next year", D(2027, 1, 1), D(2027, 12, 31)),
]


@pytest.mark.parametrize(("expression", "date_from", "date_to"), JA_CASES)
def test_japanese_expression(expression: str, date_from: date, date_to: date) -> None:
    mention = resolve_date(expression, REFERENCE, "ja")
    assert mention is not None
    assert (mention.text, mention.date_from, mention.date_to) == (expression, date_from, date_to)


@pytest.mark.parametrize(("expression", "date_from", "date_to"), EN_CASES)
def test_english_expression(expression: str, date_from: date, date_to: date) -> None:
    mention = resolve_date(expression, REFERENCE, "en")
    assert mention is not None
    assert (mention.text, mention.date_from, mention.date_to) == (expression, date_from, date_to)


def test_mentions_in_a_sentence_carry_offsets_and_the_longest_expression_wins() -> None:
    text = "では来週の火曜日にデモを行い、見積もりは月末までにお送りします。"
    mentions = find_dates(text, REFERENCE, "ja")
    assert [(m.text, text[m.start : m.end], m.due) for m in mentions] == [
        ("来週の火曜日", "来週の火曜日", D(2026, 12, 1)),
        ("月末", "月末", D(2026, 11, 30)),
    ]


def test_english_sentence() -> None:
    text = "I'll send the proposal by next Friday and we decide by the end of the month."
    assert [(m.text, m.due) for m in find_dates(text, REFERENCE, "en")] == [
        ("next Friday", D(2026, 12, 4)),
        ("the end of the month", D(2026, 11, 30)),
    ]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("導入まで4か月かかります", "ja"),
        ("毎週火曜日に定例があります", "ja"),
        ("月額5万円です", "ja"),
        ("It's $500 a month per seat.", "en"),
        ("We may need three days of training.", "en"),
        ("I sat down with the team.", "en"),
    ],
)
def test_quantities_and_recurrences_are_not_dates(text: str, lang: str) -> None:
    assert find_dates(text, REFERENCE, lang) == []  # type: ignore[arg-type]


def test_both_rule_sets_apply_to_mixed_speech() -> None:
    mentions = find_dates("来週の火曜日 or next Friday", REFERENCE)
    assert [m.due for m in mentions] == [D(2026, 12, 1), D(2026, 12, 4)]


# A Monday: 来週の火曜日 is 2026-12-08, a bare 火曜日 on its own 2026-12-01.
MONDAY = D(2026, 11, 30)


@pytest.mark.parametrize(
    ("texts", "lang", "expected"),
    [
        (["来週の火曜日にデモをお願いします。", "では火曜日までに資料をお送りします。"], "ja", [D(2026, 12, 8)] * 2),
        (["来週の火曜日にデモ、火曜日には部長も同席します。"], "ja", [D(2026, 12, 8)] * 2),
        (
            ["Can we do a demo next Tuesday?", "I'll send the deck before the demo on Tuesday."],
            "en",
            [D(2026, 12, 8)] * 2,
        ),
        (["Let's meet Tuesday of next week.", "So Tuesday it is."], "en", [D(2026, 12, 8)] * 2),
        (["12月8日の火曜日にお伺いします。", "火曜日は午後で。"], "ja", [D(2026, 12, 8)] * 3),
        # Only a dated mention of the same weekday counts, and only one said before.
        (["金曜日までにお送りします。", "来週の金曜日に打ち合わせです。"], "ja", [D(2026, 12, 4), D(2026, 12, 11)]),
        (["12月10日に納品、木曜日に定例です。"], "ja", [D(2026, 12, 10), D(2026, 12, 3)]),
        (["先週の火曜日にお送りした件、火曜日までにご確認ください。"], "ja", [D(2026, 11, 24), D(2026, 12, 1)]),
        (["Next Tuesday is the demo.", "The contract by Friday, please."], "en", [D(2026, 12, 8), D(2026, 12, 4)]),
    ],
)
def test_a_bare_weekday_after_a_dated_mention_of_it_is_that_day(
    texts: list[str], lang: str, expected: list[date]
) -> None:
    context = DateContext()
    days = [m.due for text in texts for m in find_dates(text, MONDAY, lang, context=context)]  # type: ignore[arg-type]
    assert days == expected


def test_without_a_shared_context_each_text_stands_alone() -> None:
    assert [m.due for m in find_dates("火曜日までに資料をお送りします。", MONDAY, "ja")] == [D(2026, 12, 1)]
