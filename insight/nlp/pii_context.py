"""Personal data that only its context identifies: dates of birth, bank account numbers, social security numbers.

A date is a date of birth when 生年月日, 誕生日, "date of birth", "DOB", "birthday" or "born" comes just before it, or
生まれ just after it (昭和60年4月1日生まれ); a contract date or a founding year stays. A number is a bank account
number when 口座, 支店番号, "account number", "sort code", "routing number" or "IBAN" comes just before it, and a
social security number when "social security", "SSN" or 社会保障番号 does (or "that's my social" follows), or when it
has the 123-45-6789 shape and valid ranges. IBANs are found by their own check digits, anywhere.

Everything here works on width-folded text whose kanji digits are folded to ASCII digits (一九八五 → 1985), with the
same length as the original, so offsets stay valid.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# --- numbers -------------------------------------------------------------------------------------------------------

# Cues that may stand anywhere in the text between the previous number and this one ("口座は三菱UFJ銀行の渋谷支店、
# 普通の1234567").
BANK_CONTEXT = re.compile(
    r"(?:口座|普通預金|当座預金|当座|支店番号|店番号|店番|支店コード|金融機関コード|銀行コード|(?:ゆうちょ|貯金)\S{0,4}記号|"
    r"\baccount\s+(?:number|no\b\.?|#)|\bacct\b|\bbank\s+account|\bchecking\s+account|\bsavings\s+account|"
    r"\bsort\s*code|\brouting\b|\bABA\b|\bIBAN\b|\bBSB\b)",
    re.IGNORECASE,
)
# "account" alone only directly before the number ("account 70872490", "checking account is 44001278"): "account for
# 30%" or "accounts in 12 states" are not account numbers.
BANK_CONTEXT_ADJACENT = re.compile(r"\b(?:account|checking|savings)(?:'s|\s+is|\s*:)?\s*$", re.IGNORECASE)
# After a bank number, a second one is announced by 番号 or "number" alone (ゆうちょの記号が12340、番号が12345671).
BANK_CHAIN = re.compile(r"^[\s、,]*(?:and\s+)?(?:the\s+)?(?:口座)?(?:番号|number|account)", re.IGNORECASE)
SSN_CONTEXT = re.compile(
    r"(?:\bsocial\s+security(?:\s+(?:number|no\b\.?|#))?|\bSSN\b|\bsocial(?:'s|\s+is|\s*:|\s+number)?\s*$|"
    r"社会保障番号|ソーシャル\s?セキュリティ(?:ー)?(?:\s?ナンバー|番号)?)",
    re.IGNORECASE,
)
SSN_CONTEXT_AFTER = re.compile(
    r"^\W{0,3}(?:that's|that is|it's|is)\s+(?:my|his|her|the)\s+(?:social|SSN)\b", re.IGNORECASE
)
# A number followed by a unit is an amount, a date or a count, whatever was said before it (口座に50000円).
UNIT_AFTER = re.compile(
    r"^\s*(?:円|万|千|億|件|日|月|年|歳|%|ドル|個|台|名|人|ヶ月|か月|カ月|時|分|秒|dollars?|yen|pounds?|euros?|percent|"
    r"days?|months?|years?|users?|seats?|units?|hours?|minutes?)",
    re.IGNORECASE,
)
# How far before a number a cue may stand.
CONTEXT_WINDOW = 32


def ssn_valid(digits: str) -> bool:
    """Whether nine digits can be a US social security number (area not 000, 666 or 9xx; group and serial not 0)."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def aba_valid(digits: str) -> bool:
    """The check digit of a 9-digit US bank routing (ABA) number."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 10 == 0


def iban_valid(iban: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN (spaces ignored)."""
    compact = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")


def find_ibans(folded: str) -> Iterator[tuple[int, int]]:
    """IBANs with valid check digits, written in groups of four or run together."""
    for match in _IBAN.finditer(folded):
        text = match[0]
        # The greedy match may take a following code word; shorten group by group until the check passes.
        while len(text.replace(" ", "")) >= 15:
            if iban_valid(text):
                yield match.start(), match.start() + len(text)
                break
            text = text.rsplit(" ", 1)[0] if " " in text else text[:-1]


# --- dates of birth ------------------------------------------------------------------------------------------------

_ERA = r"(?:明治|大正|昭和|平成|令和)"
_JA_SMALL = r"(?:\d{1,2}|\d?十\d?)"  # 4, 12, 十五, 2十 (二十 after folding)
_JA_YEAR = rf"(?:{_ERA}\s?(?:{_JA_SMALL}|元)|(?:18|19|20)\d\d)\s?年"
_JA_MONTH_DAY = rf"{_JA_SMALL}\s?月(?:\s?{_JA_SMALL}\s?日)?"
_JA_DATE = re.compile(
    rf"{_JA_YEAR}(?:\s?の?\s?{_JA_MONTH_DAY})?|{_JA_MONTH_DAY}|(?:18|19|20)\d\d\s?[/.\-]\s?\d{{1,2}}\s?[/.\-]\s?\d{{1,2}}"
)
_JA_BIRTH_BEFORE = re.compile(r"(?:生年月日|誕生日|生まれ(?:は|が)?|生年)")
_JA_BIRTH_AFTER = re.compile(r"^\s?(?:の)?(?:生まれ|うまれ|生)")

_MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_ORDINAL_WORDS = (
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|"
    r"fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty[\s-](?:first|second|third|fourth|fifth|"
    r"sixth|seventh|eighth|ninth)|thirtieth|thirty[\s-]first)"
)
_DAY = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{_ORDINAL_WORDS})"
_YEAR = r"(?:(?:18|19|20)\d\d|'\d\d)"
_EN_DATE = re.compile(
    rf"\b(?:{_MONTHS}\s+(?:the\s+)?{_DAY}(?:,?\s+{_YEAR})?"
    rf"|(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTHS},?(?:\s+{_YEAR})?"
    r"|\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})|(?:18|19|20)\d\d-\d{1,2}-\d{1,2})(?![\w/])",
    re.IGNORECASE,
)
_EN_BIRTH_BEFORE = re.compile(
    r"(?:\bdate\s+of\s+birth|\bbirth\s*date|\bbirthdate|\bD\.?O\.?B\b\.?|\bbirthday|\bborn\b|\bb\.)", re.IGNORECASE
)
_HAS_YEAR = re.compile(rf"{_YEAR}|\d{{1,2}}[/.\-]\d{{1,2}}[/.\-]\d{{2}}")
_BIRTH_WINDOW = 40
# Without a year, a date is a birthday only right after its cue ("my birthday is July 4th").
_NEAR = 14


def find_birth_dates(folded: str) -> Iterator[tuple[int, int]]:
    """Dates of birth: a date after a birth cue, or a Japanese date followed by 生まれ.

    Args:
        folded: Width-folded text with kanji digits folded to ASCII digits.
    """
    dates = [(m.start(), m.end()) for pattern in (_JA_DATE, _EN_DATE) for m in pattern.finditer(folded)]
    dates.sort()
    previous_end = 0
    for start, end in dates:
        if start < previous_end:
            continue
        window_start = max(previous_end, start - _BIRTH_WINDOW)
        before = folded[window_start:start]
        text = folded[start:end]
        cue = None
        for pattern in (_JA_BIRTH_BEFORE, _EN_BIRTH_BEFORE):
            for match in pattern.finditer(before):
                cue = match
        has_year = bool(_HAS_YEAR.search(text)) or "年" in text
        after = bool(_JA_BIRTH_AFTER.match(folded[end:]))
        near = cue is not None and len(before) - cue.end() <= _NEAR
        if after or (cue is not None and (has_year or near) and ("月" in text or not text.endswith("年"))):
            yield start, end
            previous_end = end
