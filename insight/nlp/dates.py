"""Relative and absolute date expressions (Japanese and English) resolved against a reference date.

GiNZA tags 来週の火曜日 as a day of the week and leaves 来月, 月末 or 3日後 unresolved, and spaCy's English model
tags "next Friday" as DATE without a value, so the minutes need their own resolver. It is plain regular expressions
over the text (no spaCy), usable on its own.

Conventions (the reference date is the call's date):

- A week runs Monday to Sunday; "来週" / "next week" as a period is its working days, Monday to Friday, so that a
  due date "by next week" is that Friday. 週末 / "the weekend" is Saturday to Sunday.
- A bare weekday (金曜日, "Friday", "on Friday") is its next occurrence after the reference date; the same weekday
  as the reference means a week later. 来週の金曜日 / "next Friday" is the Friday of next week; "this Friday" is the
  next occurrence.
- Within one text, or one call read through a :class:`DateContext`, a bare weekday said after a dated mention of
  that weekday (来週の火曜日 … 火曜日, "next Tuesday" … "on Tuesday", 12月8日 … 火曜日) is that same day, as a
  listener hears it; the latest such mention wins.
- 月末 / "end of the month" is the month's last day; 上旬/初め/"early" = days 1-10, 中旬/"mid" = 11-20, 下旬/"late"
  = 21 to the end. 今週中 / 今月中 / 年内 run from the reference date to the end of the period.
- A month-day without a year (12月3日, "December 3rd") lies within 90 days before to 275 days after the reference.
- 年度 is the Japanese fiscal year, April to March. N営業日 / "N business days" skip weekends (not holidays).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from insight.nlp.text import fold_width, parse_number
from insight.nlp.types import DateMention, Lang

Period = tuple[date, date]
Resolver = Callable[[re.Match[str], date], Period | None]

_PAST_WINDOW = timedelta(days=90)


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    resolve: Resolver
    # The weekday (0 = Monday) when a match names a weekday and nothing else (火曜日, "on Tuesday"): such a match
    # defers to an earlier dated mention of that weekday.
    bare_weekday: Callable[[re.Match[str]], int | None] | None = None


# --- calendar arithmetic -------------------------------------------------------------------------------------------


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week(ref: date, offset: int) -> Period:
    """Working days (Monday-Friday) of the week ``offset`` weeks from the reference's week."""
    monday = _monday(ref) + timedelta(weeks=offset)
    return monday, monday + timedelta(days=4)


def _weekday_in_week(ref: date, offset: int, weekday: int) -> Period:
    day = _monday(ref) + timedelta(weeks=offset, days=weekday)
    return day, day


def _next_weekday(ref: date, weekday: int) -> Period:
    """The first ``weekday`` strictly after ``ref``."""
    day = ref + timedelta(days=(weekday - ref.weekday() - 1) % 7 + 1)
    return day, day


def _previous_weekday(ref: date, weekday: int) -> Period:
    day = ref - timedelta(days=(ref.weekday() - weekday - 1) % 7 + 1)
    return day, day


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _month(ref: date, offset: int) -> tuple[int, int]:
    first = _add_months(ref.replace(day=1), offset)
    return first.year, first.month


def _month_part(year: int, month: int, part: str) -> Period:
    """A part of a month: whole, first/middle/last third, the last day."""
    last = _last_day(year, month)
    if part == "early":
        return date(year, month, 1), date(year, month, 10)
    if part == "mid":
        return date(year, month, 11), date(year, month, 20)
    if part == "late":
        return date(year, month, 21), last
    if part == "end":
        return last, last
    if part == "start":
        return date(year, month, 1), date(year, month, 1)
    return date(year, month, 1), last


def _add_business_days(day: date, count: int) -> date:
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += timedelta(days=step)
        if day.weekday() < 5:
            remaining -= 1
    return day


def _shift(ref: date, amount: int, unit: str) -> date:
    if unit == "day":
        return ref + timedelta(days=amount)
    if unit == "business_day":
        return _add_business_days(ref, amount)
    if unit == "week":
        return ref + timedelta(weeks=amount)
    if unit == "month":
        return _add_months(ref, amount)
    return _add_months(ref, 12 * amount)


def _relative(ref: date, amount: int, unit: str, mode: str) -> Period:
    """``mode``: "after" (that day), "within" (from the reference to that day) or "before" (that many ago)."""
    if mode == "before":
        day = _shift(ref, -amount, unit)
        return day, day
    day = _shift(ref, amount, unit)
    return (ref, day) if mode == "within" else (day, day)


def _infer_year(ref: date, month: int, day: int | None = None) -> int:
    """The year that puts month/day within 90 days before to 275 days after the reference."""
    probe_day = day if day is not None else calendar.monthrange(ref.year, month)[1]
    try:
        candidate = date(ref.year, month, min(probe_day, calendar.monthrange(ref.year, month)[1]))
    except ValueError:
        return ref.year
    return ref.year + 1 if candidate < ref - _PAST_WINDOW else ref.year


def _safe_date(year: int, month: int, day: int) -> Period | None:
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    return value, value


def _fiscal_year_start(ref: date) -> int:
    """Japanese fiscal years run April to March; FY2026 starts 2026-04-01."""
    return ref.year if ref.month >= 4 else ref.year - 1


# --- Japanese ------------------------------------------------------------------------------------------------------

_JA_NUM = r"(?:\d+|[〇一二三四五六七八九十百千]+)"
_JA_WEEKDAYS = "月火水木金土日"
_JA_WEEK_OFFSETS = {"先々週": -2, "先週": -1, "今週": 0, "来週": 1, "再来週": 2}
_JA_MONTH_OFFSETS = {"先月": -1, "今月": 0, "来月": 1, "再来月": 2}
_JA_YEAR_OFFSETS = {"去年": -1, "昨年": -1, "今年": 0, "本年": 0, "来年": 1, "再来年": 2}
_JA_DAY_WORDS = {
    "今日": 0,
    "本日": 0,
    "明日": 1,
    "あした": 1,
    "明後日": 2,
    "あさって": 2,
    "明々後日": 3,
    "しあさって": 3,
    "昨日": -1,
    "一昨日": -2,
    "おととい": -2,
}
_JA_UNITS = {
    "日": "day",
    "営業日": "business_day",
    "週間": "week",
    "週": "week",
    "か月": "month",
    "ヶ月": "month",
    "カ月": "month",
    "ケ月": "month",
    "ヵ月": "month",
    "箇月": "month",
    "年": "year",
}
_JA_MODES = {"後": "after", "先": "after", "以内": "within", "前": "before"}
_JA_MONTH_PARTS = {
    "末": "end",
    "末日": "end",
    "終わり": "end",
    "頭": "early",
    "初め": "early",
    "はじめ": "early",
    "初旬": "early",
    "上旬": "early",
    "中旬": "mid",
    "下旬": "late",
}


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation that tries longer words first (明後日 before 明日)."""
    return "|".join(sorted((re.escape(word) for word in words), key=len, reverse=True))


def _ja_day_word(match: re.Match[str], ref: date) -> Period:
    day = ref + timedelta(days=_JA_DAY_WORDS[match["word"]])
    return day, day


def _ja_relative(match: re.Match[str], ref: date) -> Period | None:
    unit = _JA_UNITS[match["unit"]]
    if match["num"] == "半":
        if unit == "year":
            amount, unit = 6, "month"
        else:
            return None
    else:
        number = parse_number(match["num"])
        if number is None:
            return None
        amount = number
    return _relative(ref, amount, unit, _JA_MODES[match["mode"]])


def _ja_week(match: re.Match[str], ref: date) -> Period:
    offset = _JA_WEEK_OFFSETS[match["week"]]
    if match["wd"]:
        return _weekday_in_week(ref, offset, _JA_WEEKDAYS.index(match["wd"]))
    suffix = match["suffix"] or ""
    monday, friday = _week(ref, offset)
    if suffix in ("中", "いっぱい", "内"):
        return (max(ref, monday), friday) if offset == 0 else (monday, friday)
    if suffix == "末":
        return monday + timedelta(days=5), monday + timedelta(days=6)
    if suffix in ("明け", "頭", "初め"):
        return monday, monday
    return monday, friday


def _ja_weekend(match: re.Match[str], ref: date) -> Period:
    if match["word"] == "週明け":
        return _next_weekday(ref, 0)
    saturday = _monday(ref) + timedelta(days=5)
    if ref > saturday + timedelta(days=1):
        saturday += timedelta(weeks=1)
    return saturday, saturday + timedelta(days=1)


def _ja_weekday(match: re.Match[str], ref: date) -> Period:
    return _next_weekday(ref, _JA_WEEKDAYS.index(match["wd"]))


def _ja_bare_weekday(match: re.Match[str]) -> int:
    return _JA_WEEKDAYS.index(match["wd"])


def _ja_relative_month(match: re.Match[str], ref: date) -> Period | None:
    year, month = _month(ref, _JA_MONTH_OFFSETS[match["month"]])
    if match["day"]:
        number = parse_number(match["day"])
        return _safe_date(year, month, number) if number else None
    suffix = match["suffix"] or ""
    if suffix in ("中", "いっぱい", "内"):
        start, end = _month_part(year, month, "whole")
        return (max(ref, start), end) if (year, month) == (ref.year, ref.month) else (start, end)
    return _month_part(year, month, _JA_MONTH_PARTS.get(suffix, "whole"))


def _ja_bare_month_part(match: re.Match[str], ref: date) -> Period:
    word = match["word"]
    if word == "月末":
        return _month_part(ref.year, ref.month, "end")
    if word in ("月内", "月中"):
        return ref, _last_day(ref.year, ref.month)
    # 月初: the first day of the coming month (today when the call is on the 1st).
    if ref.day == 1:
        return ref, ref
    year, month = _month(ref, 1)
    return _month_part(year, month, "start")


def _ja_calendar(match: re.Match[str], ref: date) -> Period | None:
    month = parse_number(match["m"])
    if month is None or not 1 <= month <= 12:
        return None
    day = parse_number(match["d"]) if match["d"] else None
    if match["year"]:
        year = parse_number(match["year"])
        if year is None:
            return None
    elif match["yrel"]:
        year = ref.year + _JA_YEAR_OFFSETS[match["yrel"]]
    else:
        year = _infer_year(ref, month, day)
    if day is not None:
        return _safe_date(year, month, day)
    return _month_part(year, month, _JA_MONTH_PARTS.get(match["suffix"] or "", "whole"))


def _ja_year(match: re.Match[str], ref: date) -> Period:
    word = match["word"]
    if word in ("年内", "今年中", "今年いっぱい"):
        return ref, date(ref.year, 12, 31)
    if word == "年末":
        return date(ref.year, 12, 31), date(ref.year, 12, 31)
    if word == "年明け":
        return date(ref.year + 1, 1, 1), date(ref.year + 1, 1, 15)
    year = ref.year + _JA_YEAR_OFFSETS[match["yrel"]]
    if match["suffix"] == "末":
        return date(year, 12, 31), date(year, 12, 31)
    return date(year, 1, 1), date(year, 12, 31)


def _ja_fiscal(match: re.Match[str], ref: date) -> Period:
    start_year = _fiscal_year_start(ref) + {"今年度": 0, "本年度": 0, "年度": 0, "来年度": 1, "前年度": -1}[match["fy"]]
    start, end = date(start_year, 4, 1), date(start_year + 1, 3, 31)
    suffix = match["suffix"] or ""
    if suffix == "末":
        return end, end
    if suffix in ("内", "中"):
        return max(ref, start), end
    return start, end


_JA_RULES: tuple[_Rule, ...] = (
    _Rule(re.compile(rf"(?P<word>{_alternation(_JA_DAY_WORDS)})中?"), _ja_day_word),
    _Rule(
        re.compile(
            rf"(?P<num>{_JA_NUM}|半)(?P<unit>{_alternation(_JA_UNITS)})(?:間)?(?:ほど|くらい|ぐらい)?"
            rf"(?P<mode>{_alternation(_JA_MODES)})"
        ),
        _ja_relative,
    ),
    _Rule(
        re.compile(
            rf"(?P<week>{_alternation(_JA_WEEK_OFFSETS)})(?:の)?"
            rf"(?:(?P<wd>[{_JA_WEEKDAYS}])曜(?:日)?|(?P<suffix>いっぱい|中|内|末|明け|頭|初め))?"
        ),
        _ja_week,
    ),
    _Rule(re.compile(r"(?P<word>週末|週明け)"), _ja_weekend),
    _Rule(re.compile(rf"(?<!毎週)(?<!毎)(?P<wd>[{_JA_WEEKDAYS}])曜(?:日)?"), _ja_weekday, _ja_bare_weekday),
    _Rule(
        re.compile(
            rf"(?P<month>{_alternation(_JA_MONTH_OFFSETS)})(?:の)?"
            rf"(?:(?P<day>{_JA_NUM})日|(?P<suffix>{_alternation([*_JA_MONTH_PARTS, 'いっぱい', '中', '内'])}))?"
        ),
        _ja_relative_month,
    ),
    _Rule(re.compile(r"(?<![今来先])(?P<word>月末|月内|月中(?!旬)|月初め?)"), _ja_bare_month_part),
    _Rule(
        re.compile(
            rf"(?:(?P<year>\d{{4}})年|(?P<yrel>{_alternation(_JA_YEAR_OFFSETS)})(?:の)?)?"
            rf"(?<![\d〇一二三四五六七八九十ヶカケヵか箇])(?P<m>{_JA_NUM})月"
            rf"(?:(?P<d>{_JA_NUM})日|(?:の)?(?P<suffix>{_alternation(_JA_MONTH_PARTS)}))?"
        ),
        _ja_calendar,
    ),
    _Rule(
        re.compile(
            rf"(?P<word>年内|年末|年明け|今年中|今年いっぱい)|(?P<yrel>{_alternation(_JA_YEAR_OFFSETS)})(?P<suffix>末)?"
        ),
        _ja_year,
    ),
    _Rule(re.compile(r"(?P<fy>今年度|本年度|来年度|前年度|年度)(?P<suffix>末|内|中)?"), _ja_fiscal),
)


# --- English -------------------------------------------------------------------------------------------------------

_EN_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Full names only (plus tues/thurs): "sat", "sun", "wed" and "mon" are ordinary words in a transcript.
_EN_WEEKDAY = r"(?P<wd>monday|tuesday|tues|wednesday|thursday|thurs|friday|saturday|sunday)"
_EN_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# With a day number, abbreviations are safe ("Dec 3", "Sept. 5"); alone, only full names after a preposition.
_EN_MONTH_ABBR = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_EN_MONTH_FULL = rf"(?P<mon>{'|'.join(_EN_MONTHS)}|sept)"
_EN_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "thirty": 30,
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
}
_EN_NUM = rf"(?P<num>\d+|{_alternation(_EN_NUMBER_WORDS)})"
_EN_OFFSETS = {"last": -1, "previous": -1, "this": 0, "current": 0, "next": 1, "coming": 1}
_EN_REL = r"(?P<rel>this|next|last|previous|coming|current)"
_EN_PARTS = {
    "beginning of": "early",
    "start of": "early",
    "early": "early",
    "mid": "mid",
    "mid-": "mid",
    "middle of": "mid",
    "late": "late",
    "end of": "end",
    "the end of": "end",
}
_EN_PART = r"(?P<part>the\s+end\s+of|end\s+of|beginning\s+of|start\s+of|middle\s+of|early|mid-?|late)"


def _words(value: str | None) -> str:
    return " ".join((value or "").lower().split())


def _en_offset(match: re.Match[str], default: str = "this") -> int:
    return _EN_OFFSETS.get(_words(match["rel"]) or default, 0)


def _en_part(match: re.Match[str]) -> str:
    return _EN_PARTS.get(_words(match["part"]), "whole")


def _en_weekday_index(token: str) -> int:
    return next(index for index, name in enumerate(_EN_WEEKDAYS) if name.startswith(token[:3].lower()))


def _en_month_index(token: str) -> int:
    return next(index for index, name in enumerate(_EN_MONTHS, start=1) if name.startswith(token[:3].lower()))


def _en_day_word(match: re.Match[str], ref: date) -> Period:
    word = _words(match["word"]).removeprefix("the ")
    offset = {"yesterday": -1, "tomorrow": 1, "day after tomorrow": 2}.get(word, 0)
    day = ref + timedelta(days=offset)
    return day, day


def _en_short(match: re.Match[str], ref: date) -> Period:
    word = match["word"].lower()
    if word == "eow":
        friday = _week(ref, 0)[1]
        return friday, friday
    if word == "eom":
        return _month_part(ref.year, ref.month, "end")
    return ref, ref


def _en_relative(match: re.Match[str], ref: date) -> Period | None:
    lead, tail = _words(match["lead"]), _words(match["tail"])
    if not lead and not tail:
        return None  # "$500 a month", "three days" of effort: a quantity, not a date
    number = _words(match["num"])
    amount = int(number) if number.isdigit() else _EN_NUMBER_WORDS[number]
    unit = match["unit"].lower()
    if match["biz"] and unit == "day":
        unit = "business_day"
    mode = "before" if tail == "ago" else "within" if lead == "within" else "after"
    return _relative(ref, amount, unit, mode)


def _en_week(match: re.Match[str], ref: date) -> Period | None:
    if match["after_next"]:
        offset = 2
    elif match["rel"]:
        offset = _en_offset(match)
    elif match["part"]:
        offset = 0  # "end of the week"
    else:
        return None
    monday, friday = _week(ref, offset)
    part = _words(match["part"])
    if part in ("end of", "the end of"):
        return friday, friday
    if part in ("early", "beginning of", "start of"):
        return monday, monday + timedelta(days=1)
    if part == "later":
        return min(ref + timedelta(days=1), friday), friday
    return monday, friday


def _en_weekday(match: re.Match[str], ref: date) -> Period:
    weekday = _en_weekday_index(match["wd"])
    rel = _words(match["rel"])
    if rel == "next" or match["nextweek"]:
        return _weekday_in_week(ref, 1, weekday)
    if rel in ("last", "previous"):
        return _previous_weekday(ref, weekday)
    return _next_weekday(ref, weekday)


def _en_bare_weekday(match: re.Match[str]) -> int | None:
    if match["rel"] or match["nextweek"]:
        return None
    return _en_weekday_index(match["wd"])


def _en_month_rel(match: re.Match[str], ref: date) -> Period | None:
    if match["within"]:
        return ref, _last_day(ref.year, ref.month)
    if not match["rel"] and not match["part"]:
        return None  # "the month" alone
    year, month = _month(ref, _en_offset(match))
    return _month_part(year, month, _en_part(match))


def _en_month_day(match: re.Match[str], ref: date) -> Period | None:
    month = _en_month_index(match["mon"])
    day = int(match["d"])
    year = int(match["y"]) if match["y"] else _infer_year(ref, month, day)
    return _safe_date(year, month, day)


def _en_month_only(match: re.Match[str], ref: date) -> Period | None:
    if match["mon"] in ("may", "march"):
        return None  # lower-case: the verbs ("in may", "by march" are rarer than "we may")
    month = _en_month_index(match["mon"])
    year = int(match["y"]) if match["y"] else _infer_year(ref, month)
    return _month_part(year, month, _en_part(match) if "part" in match.groupdict() else "whole")


def _en_day_of_month(match: re.Match[str], ref: date) -> Period | None:
    day = int(match["d"])
    year, month = (ref.year, ref.month) if day >= ref.day else _month(ref, 1)
    return _safe_date(year, month, day)


def _en_quarter(match: re.Match[str], ref: date) -> Period | None:
    if match["q"]:
        quarter = int(match["q"]) - 1
        year = int(match["y"]) if match["y"] else ref.year + (1 if quarter * 3 + 3 < ref.month else 0)
    elif match["rel"] or match["part"]:
        index = ref.year * 4 + (ref.month - 1) // 3 + _en_offset(match)
        year, quarter = divmod(index, 4)
    else:
        return None
    start, end = date(year, quarter * 3 + 1, 1), _last_day(year, quarter * 3 + 3)
    return (end, end) if _words(match["part"]) in ("end of", "the end of") else (start, end)


def _en_year(match: re.Match[str], ref: date) -> Period:
    year = ref.year + _en_offset(match)
    if "end" in _words(match[0]):
        return date(year, 12, 31), date(year, 12, 31)
    return date(year, 1, 1), date(year, 12, 31)


def _en(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_EN_RULES: tuple[_Rule, ...] = (
    _Rule(
        _en(
            r"\b(?P<word>(?:the\s+)?day\s+after\s+tomorrow|tomorrow|yesterday|today|tonight)\b"
            r"(?:\s+(?:morning|afternoon|evening|night))?"
        ),
        _en_day_word,
    ),
    _Rule(_en(r"\b(?P<word>eod|cob|eow|eom)\b"), _en_short),
    _Rule(
        _en(
            rf"\b(?:(?P<lead>in|within|after)\s+)?{_EN_NUM}\s+(?P<biz>business\s+|working\s+)?"
            r"(?P<unit>day|week|month|year)s?(?:['’]s?)?(?:\s+(?P<tail>from\s+now|from\s+today|later|ago|time))?\b"
        ),
        _en_relative,
    ),
    _Rule(
        _en(
            r"\b(?:(?P<part>the\s+end\s+of|end\s+of|early|later|beginning\s+of|start\s+of)\s+)?"
            rf"(?:{_EN_REL}\s+week|the\s+week(?P<after_next>\s+after\s+next)?)\b"
        ),
        _en_week,
    ),
    _Rule(
        _en(rf"\b(?:{_EN_REL}\s+)?{_EN_WEEKDAY}\b(?P<nextweek>\s+(?:of\s+)?next\s+week)?"),
        _en_weekday,
        _en_bare_weekday,
    ),
    _Rule(_en(rf"\b(?P<nextweek>next\s+week)(?:\s+on)?\s+(?P<rel>){_EN_WEEKDAY}\b"), _en_weekday),
    _Rule(
        _en(rf"\b(?:(?P<within>within)\s+(?:the|this)\s+month|(?:{_EN_PART}\s*)?(?:{_EN_REL}|the)\s+month)\b"),
        _en_month_rel,
    ),
    _Rule(_en(rf"\b{_EN_MONTH_ABBR}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{{4}}))?"), _en_month_day),
    _Rule(
        _en(
            rf"\b(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_EN_MONTH_ABBR}(?![a-z])(?:\s+(?P<y>\d{{4}}))?"
        ),
        _en_month_day,
    ),
    _Rule(_en(rf"\b{_EN_PART}\s+{_EN_MONTH_FULL}\b(?:\s+(?P<y>\d{{4}}))?"), _en_month_only),
    _Rule(_en(rf"(?<=\bin\s|\bby\s){_EN_MONTH_FULL}\b(?:\s+(?P<y>\d{{4}}))?"), _en_month_only),
    _Rule(_en(rf"\b{_EN_MONTH_FULL}\s+(?P<y>\d{{4}})\b"), _en_month_only),
    _Rule(_en(r"(?<=\bon\sthe\s)(?P<d>\d{1,2})(?:st|nd|rd|th)\b"), _en_day_of_month),
    _Rule(
        _en(rf"\b(?:{_EN_PART}\s+)?(?:(?:{_EN_REL}|the)\s+quarter|q(?P<q>[1-4])(?:\s+(?P<y>\d{{4}}))?)\b"),
        _en_quarter,
    ),
    _Rule(_en(rf"\b(?:(?:the\s+)?end\s+of\s+(?:{_EN_REL}|the)\s+year|year[- ]end)\b"), _en_year),
    _Rule(_en(rf"\b{_EN_REL}\s+year(?:['’]s)?(?:\s+end)?\b"), _en_year),
)

_RULES: dict[Lang, tuple[_Rule, ...]] = {"ja": _JA_RULES, "en": _EN_RULES}


_NAMES_WEEKDAY = re.compile(rf"[{_JA_WEEKDAYS}]曜|{_EN_WEEKDAY}", re.IGNORECASE)
_APPOSITION = re.compile(r"\s*(?:の|、|,|\(|（)?\s*")


def _same_day_apposition(gap: str, period: Period, weekday: int) -> bool:
    """Whether a bare weekday directly after a single day (only ``gap`` between) restates that day."""
    return period[0] == period[1] and period[0].weekday() == weekday and bool(_APPOSITION.fullmatch(gap))


class DateContext:
    """What a call has said so far about its days, so that a later bare weekday means the day already named.

    Pass one context to :func:`find_dates` for each text of a call, in call order: "来週の火曜日にデモを" and later
    "火曜日までに資料を" then resolve to the same Tuesday, not to two Tuesdays a week apart.
    """

    def __init__(self) -> None:
        self._days: dict[int, date] = {}

    def remember(self, day: date, reference: date) -> None:
        """Record a day named explicitly (only days after the reference: a bare weekday never means a past one)."""
        if day > reference:
            self._days[day.weekday()] = day

    def day_for(self, weekday: int) -> date | None:
        """The latest explicitly named day that falls on ``weekday``, if any."""
        return self._days.get(weekday)


def find_dates(
    text: str, reference: date, lang: Lang | None = None, *, context: DateContext | None = None
) -> list[DateMention]:
    """Find date expressions in ``text`` and resolve them against ``reference``.

    Args:
        text: An utterance or a whole transcript; full-width digits are understood.
        reference: The date the words were spoken (the call's date).
        lang: ``"ja"`` or ``"en"`` to apply one language's rules; ``None`` applies both (mixed speech).
        context: The call's earlier mentions (see :class:`DateContext`); updated with this text's. Without one, the
            text is its own context.

    Returns:
        Non-overlapping mentions in text order; where expressions overlap the longest wins (来週の火曜日 over 火曜日).
    """
    folded = fold_width(text)
    candidates: list[tuple[int, int, Period, int | None]] = []
    for rule_lang in (lang,) if lang else ("ja", "en"):
        for rule in _RULES[rule_lang]:
            for match in rule.pattern.finditer(folded):
                if match.end() == match.start():
                    continue
                period = rule.resolve(match, reference)
                if period is not None:
                    bare = rule.bare_weekday(match) if rule.bare_weekday is not None else None
                    candidates.append((match.start(), match.end(), period, bare))
    candidates.sort(key=lambda item: (-(item[1] - item[0]), item[0]))
    chosen: list[tuple[int, int, Period, int | None]] = []
    for candidate in candidates:
        start, end = candidate[0], candidate[1]
        if all(end <= other[0] or start >= other[1] for other in chosen):
            chosen.append(candidate)
    chosen.sort(key=lambda item: item[0])
    known = context if context is not None else DateContext()
    mentions: list[DateMention] = []
    previous: tuple[int, Period] | None = None
    for start, end, period, bare in chosen:
        if bare is not None:
            if previous is not None and _same_day_apposition(folded[previous[0] : start], previous[1], bare):
                period = previous[1]  # 12月8日の火曜日, "December 8, Tuesday": one day said twice
                known.remember(period[0], reference)
            else:
                named = known.day_for(bare)
                if named is not None:
                    period = (named, named)
        elif period[0] == period[1] and _NAMES_WEEKDAY.search(folded[start:end]):
            known.remember(period[0], reference)
        previous = (end, period)
        mentions.append(DateMention(text=text[start:end], start=start, end=end, date_from=period[0], date_to=period[1]))
    return mentions


def resolve_date(expression: str, reference: date, lang: Lang | None = None) -> DateMention | None:
    """Resolve one expression ("来週の火曜日", "end of the month"); ``None`` when it holds no date."""
    mentions = find_dates(expression, reference, lang)
    return max(mentions, key=lambda mention: mention.end - mention.start) if mentions else None
