"""PII redaction for Japanese and English transcripts.

Finds phone numbers, e-mail addresses, credit-card numbers (Luhn-checked), Japanese My Number (check digit), postal
codes, addresses, person names, dates of birth, bank account numbers (and IBANs) and US social security numbers, and
replaces each with a typed placeholder in the transcript's language:

======================  ================  ===============
kind                    ``ja``            ``en``
======================  ================  ===============
``phone``               [電話番号]        [PHONE]
``email``               [メールアドレス]  [EMAIL]
``credit_card``         [カード番号]      [CARD_NUMBER]
``my_number``           [マイナンバー]    [MY_NUMBER]
``postal_code``         [郵便番号]        [POSTAL_CODE]
``address``             [住所]            [ADDRESS]
``person``              [氏名]            [NAME]
``date_of_birth``       [生年月日]        [DATE_OF_BIRTH]
``bank_account``        [口座番号]        [BANK_ACCOUNT]
``ssn``                 [社会保障番号]    [SSN]
======================  ================  ===============

Names keep their honorific or title, which carries no identity but keeps the sentence readable: 田中さん →
[氏名]さん, "Mr. Smith" → "Mr. [NAME]". The spans (kind, offsets into the original, original text, placeholder)
come back with the redacted text, so the original can be stored beside it and rebuilt with :func:`restore` by those
allowed to see it.

Whisper output is handled: full-width digits, spaces or の inside numbers (090 1234 5678, 090の1234の5678), digits
written as kanji (〇九〇…) or spoken as words (ゼロキューゼロのいちにさんよん…, "five five five, one two three", see
:mod:`insight.nlp.spoken_digits`), the long-vowel mark used as a hyphen, e-mail addresses spelled out
(タナカアットマークイグザンプルドットコム, "jane dot doe at example dot com"). Numbers are read as runs of digit groups;
each run is classified as a whole, then as shorter stretches, so a phone number followed by another number is still
found. What was said just before a number decides some kinds (口座番号は…, "sort code", "social security", see
:mod:`insight.nlp.pii_context`); a date is a date of birth only next to 生年月日, 生まれ, "date of birth" or "born".

Names found by NER are checked against the tokens: in Japanese a name needs a token the dictionary knows as a
person's name (GiNZA reads トヨタさん or 日立さん as people), in English a capitalised word that is not a verb in use
("Email me at …") or a well-known product.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from insight.nlp.pii_context import (
    BANK_CHAIN,
    BANK_CONTEXT,
    BANK_CONTEXT_ADJACENT,
    CONTEXT_WINDOW,
    SSN_CONTEXT,
    SSN_CONTEXT_AFTER,
    UNIT_AFTER,
    find_birth_dates,
    find_ibans,
    ssn_valid,
)
from insight.nlp.spoken_digits import transliterate
from insight.nlp.text import DASHES, fold_width
from insight.nlp.types import EntityCatalog, EntityLabel, Lang, PiiKind, PiiSpan, Redaction

if TYPE_CHECKING:
    from spacy.tokens import Doc

    from insight.nlp.pipelines import NlpSource

PLACEHOLDERS: dict[Lang, dict[PiiKind, str]] = {
    "ja": {
        PiiKind.PHONE: "[電話番号]",
        PiiKind.EMAIL: "[メールアドレス]",
        PiiKind.CREDIT_CARD: "[カード番号]",
        PiiKind.MY_NUMBER: "[マイナンバー]",
        PiiKind.POSTAL_CODE: "[郵便番号]",
        PiiKind.ADDRESS: "[住所]",
        PiiKind.PERSON: "[氏名]",
        PiiKind.DATE_OF_BIRTH: "[生年月日]",
        PiiKind.BANK_ACCOUNT: "[口座番号]",
        PiiKind.SSN: "[社会保障番号]",
    },
    "en": {
        PiiKind.PHONE: "[PHONE]",
        PiiKind.EMAIL: "[EMAIL]",
        PiiKind.CREDIT_CARD: "[CARD_NUMBER]",
        PiiKind.MY_NUMBER: "[MY_NUMBER]",
        PiiKind.POSTAL_CODE: "[POSTAL_CODE]",
        PiiKind.ADDRESS: "[ADDRESS]",
        PiiKind.PERSON: "[NAME]",
        PiiKind.DATE_OF_BIRTH: "[DATE_OF_BIRTH]",
        PiiKind.BANK_ACCOUNT: "[BANK_ACCOUNT]",
        PiiKind.SSN: "[SSN]",
    },
}

# When two findings overlap, the more specific wins: an e-mail over the name inside it, an address over the
# "person" GiNZA sometimes reads into a street name, an IBAN over card-like digits inside it, a date of birth over
# the digits of the date.
_PRIORITY = {
    PiiKind.EMAIL: 0,
    PiiKind.SSN: 1,
    PiiKind.BANK_ACCOUNT: 2,
    PiiKind.CREDIT_CARD: 3,
    PiiKind.MY_NUMBER: 4,
    PiiKind.DATE_OF_BIRTH: 5,
    PiiKind.PHONE: 6,
    PiiKind.POSTAL_CODE: 7,
    PiiKind.ADDRESS: 8,
    PiiKind.PERSON: 9,
}

# --- check digits --------------------------------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum used by payment card numbers."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def my_number_valid(digits: str) -> bool:
    """The check digit of a 12-digit Japanese individual number (マイナンバー), per the MIC ordinance."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    body = [int(char) for char in digits[:11]]
    # P_n is the n-th digit from the right of the first 11; Q_n = n + 1 for n <= 6, n - 5 above.
    total = sum(body[11 - n] * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    remainder = total % 11
    return int(digits[11]) == (0 if remainder <= 1 else 11 - remainder)


# --- numbers -------------------------------------------------------------------------------------------------------

# Kanji digits count as digits when reading numbers (〇九〇の一二三四…); 十/百 are positional and are left alone.
_DIGIT_FOLD = str.maketrans("〇一二三四五六七八九零", "01234567890")
_SEPARATOR = rf"[\s{re.escape(DASHES)}.()（）のノ]"
_DIGIT_RUN = re.compile(rf"(?<![A-Za-z0-9])(?P<plus>\+\s?)?\(?\d(?:{_SEPARATOR}{{1,3}}\d|\d)*\)?(?![A-Za-z0-9])")
# Words that make a bare digit run a phone number ("call me at 4155550100", "携帯は12345678"). "番号" and "number"
# alone are left out: 個人番号, "card number" and "order number" precede other kinds of numbers.
_PHONE_CONTEXT = re.compile(
    r"(?:電話|でんわ|携帯|連絡先|TEL|ファックス|FAX|内線|ダイヤル|直通|phone|call|cell|mobile|fax|extension|reach me|"
    r"(?:my|our|his|her|their|your)\s+number|(?:direct|main|office|home|work|toll[- ]free)\s+(?:line|number)|text me)",
    re.IGNORECASE,
)
_POSTAL_CONTEXT = re.compile(
    r"(?:〒|郵便番号|zip(?:\s*code)?|postal\s*code|post\s*code)(?:\s+(?:there|here|for\s+\w+))?(?:\s+is|\s*[:：は])?\s*$",
    re.IGNORECASE,
)
_CONTEXT_WINDOW = 24


@dataclass(frozen=True)
class _Group:
    digits: str
    start: int
    end: int


def _groups(run: str, offset: int) -> list[_Group]:
    return [_Group(m[0], offset + m.start(), offset + m.end()) for m in re.finditer(r"\d+", run)]


def _card_shape(sizes: list[int]) -> bool:
    if len(sizes) == 1 or all(size == 1 for size in sizes):
        return True
    if sizes in ([4, 6, 5], [4, 6, 4]):  # American Express, Diners Club
        return True
    return all(size == 4 for size in sizes[:-1]) and 1 <= sizes[-1] <= 4


def _my_number_shape(sizes: list[int]) -> bool:
    return len(sizes) == 1 or sizes == [4, 4, 4] or all(size == 1 for size in sizes)


def _nanp(digits: str) -> bool:
    return len(digits) == 10 and digits[0] in "23456789" and digits[3] in "23456789"


def _classify_number(
    groups: list[_Group],
    *,
    plus: bool,
    lang: Lang,
    dashed: bool,
    phone_context: bool,
    postal_context: bool,
    checksummed: bool,
) -> PiiKind | None:
    """The kind of number a stretch of digit groups is, if any.

    ``checksummed`` allows the card and My Number checks: a stretch cut out of a longer run passes a checksum by
    chance too often (4111 1111 1111 out of an invalid card number passes the My Number check).
    """
    digits = "".join(group.digits for group in groups)
    sizes = [len(group.digits) for group in groups]
    count = len(digits)
    if plus:
        return PiiKind.PHONE if 8 <= count <= 15 else None
    if postal_context and (count == 7 and (sizes in ([3, 4], [7]) or all(s == 1 for s in sizes))):
        return PiiKind.POSTAL_CODE
    if postal_context and count == 5 and len(sizes) == 1:
        return PiiKind.POSTAL_CODE
    if checksummed and 13 <= count <= 19 and _card_shape(sizes) and luhn_valid(digits):
        return PiiKind.CREDIT_CARD
    if checksummed and count == 12 and sizes[0] != 2 and _my_number_shape(sizes) and my_number_valid(digits):
        return PiiKind.MY_NUMBER
    if digits.startswith("0") and digits[1:2] != "0" and count in (10, 11):
        return PiiKind.PHONE  # Japanese numbers: 03-1234-5678, 090-1234-5678, 0120-123-456
    if digits.startswith("81") and sizes[0] == 2 and count in (11, 12):
        return PiiKind.PHONE  # +81 with the plus lost in transcription
    if _nanp(digits) and (sizes == [3, 3, 4] or phone_context):
        return PiiKind.PHONE
    if count == 11 and digits[0] == "1" and _nanp(digits[1:]) and (sizes == [1, 3, 3, 4] or dashed):
        return PiiKind.PHONE  # 1-800-555-0199, "one eight hundred, five five five, ..."
    if sizes == [3, 2, 4] and dashed and ssn_valid(digits):
        return PiiKind.SSN
    if count == 7 and sizes == [3, 4] and dashed and lang == "ja":
        return PiiKind.POSTAL_CODE
    if phone_context and 7 <= count <= 15 and (len(sizes) > 1 or count >= 10):
        return PiiKind.PHONE
    return None


def _may_checksum(groups: list[_Group], start: int, stop: int) -> bool:
    """Whether groups[start:stop] may be checked as a card or My Number (see ``_classify_number``)."""
    if start == 0 and stop == len(groups):
        return True
    window = groups[start:stop]
    if len(window) > 1 and all(len(group.digits) == 1 for group in window):
        return False  # digits read out one by one: any stretch could be cut anywhere
    neighbours = groups[start - 1 : start] + groups[stop : stop + 1]
    return all(len(group.digits) != 4 for group in neighbours)


def _last_end(pattern: re.Pattern[str], text: str) -> int:
    """Where the last match of ``pattern`` in ``text`` ends; -1 without one."""
    end = -1
    for match in pattern.finditer(text):
        end = match.end()
    return end


def _context_kind(
    before: str, since_previous: str, after: str, previous: PiiKind | None
) -> tuple[PiiKind | None, bool]:
    """The kind the words around a number announce (bank account, SSN), and whether a phone cue is near.

    ``since_previous`` is the text since the previous number (at most ``CONTEXT_WINDOW`` characters): a bank or SSN
    cue announces the next number only. The nearest cue wins: 口座番号は1234567、電話番号は090-… are two kinds.
    """

    def distance(pattern: re.Pattern[str], text: str) -> float:
        end = _last_end(pattern, text)
        return len(text) - end if end >= 0 else float("inf")

    phone = distance(_PHONE_CONTEXT, before)
    bank = min(distance(BANK_CONTEXT, since_previous), distance(BANK_CONTEXT_ADJACENT, since_previous))
    if previous is PiiKind.BANK_ACCOUNT and BANK_CHAIN.match(since_previous):
        bank = 0
    ssn = 0 if SSN_CONTEXT_AFTER.match(after) else distance(SSN_CONTEXT, since_previous)
    if UNIT_AFTER.match(after):
        bank = float("inf")
    if ssn < phone and ssn <= bank:
        return PiiKind.SSN, False
    if bank < phone:
        return PiiKind.BANK_ACCOUNT, False
    return None, phone != float("inf")


def _find_numbers(digit_folded: str, lang: Lang) -> Iterator[tuple[PiiKind, int, int]]:
    spoken = transliterate(digit_folded)
    text = spoken.text
    runs = list(_DIGIT_RUN.finditer(text))
    previous_end = 0
    previous: PiiKind | None = None
    for number, match in enumerate(runs):
        groups = _groups(match[0], match.start())
        if not groups:
            continue
        before = text[max(0, match.start() - _CONTEXT_WINDOW) : match.start()]
        since_previous = text[max(previous_end, match.start() - CONTEXT_WINDOW) : match.start()]
        next_start = runs[number + 1].start() if number + 1 < len(runs) else len(text)
        context, phone_context = _context_kind(before, since_previous, text[match.end() : next_start], previous)
        previous_end = match.end()
        found = _classify_in_context(groups, context)
        if not found:
            scan = _RunScan(text, match, groups, lang, postal_context=bool(_POSTAL_CONTEXT.search(before)))
            # Shapes first, context second: with "call" before "090-1234-5678 2", the context rule alone would take
            # the trailing 2 into a 12-digit "phone number".
            windows = scan.windows(0, len(groups), phone_context=False)
            if phone_context:
                covered = {index for _, first, stop in windows for index in range(first, stop)}
                gaps = _uncovered(len(groups), covered)
                windows += [hit for first, stop in gaps for hit in scan.windows(first, stop, phone_context=True)]
            found = [(kind, *scan.span(kind, first, stop)) for kind, first, stop in windows]
        previous = found[-1][0] if found else None
        for kind, start, end in found:
            yield kind, *spoken.source_span(start, end)


def _classify_in_context(groups: list[_Group], context: PiiKind | None) -> list[tuple[PiiKind, int, int]]:
    """A whole run read as the kind its cue announced: 口座番号は1234567, "SSN 321 54 9876"."""
    digits = "".join(group.digits for group in groups)
    span = (groups[0].start, groups[-1].end)
    if context is PiiKind.SSN and ssn_valid(digits):
        return [(PiiKind.SSN, *span)]
    if context is PiiKind.BANK_ACCOUNT and 3 <= len(digits) <= 17:
        return [(PiiKind.BANK_ACCOUNT, *span)]
    return []


def _uncovered(count: int, covered: set[int]) -> list[tuple[int, int]]:
    gaps: list[tuple[int, int]] = []
    start = None
    for index in range(count + 1):
        if index < count and index not in covered:
            start = index if start is None else start
        elif start is not None:
            gaps.append((start, index))
            start = None
    return gaps


@dataclass(frozen=True)
class _RunScan:
    """Classifies stretches of one digit run, longest first, left to right."""

    folded: str
    match: re.Match[str]
    groups: list[_Group]
    lang: Lang
    postal_context: bool

    def windows(self, first: int, last: int, *, phone_context: bool) -> list[tuple[PiiKind, int, int]]:
        found: list[tuple[PiiKind, int, int]] = []
        index = first
        while index < last:
            for stop in range(last, index, -1):
                kind = self._classify(index, stop, phone_context)
                if kind is not None:
                    found.append((kind, index, stop))
                    index = stop
                    break
            else:
                index += 1
        return found

    def _classify(self, index: int, stop: int, phone_context: bool) -> PiiKind | None:
        window = self.groups[index:stop]
        between = self.folded[window[0].end : window[-1].start]
        return _classify_number(
            window,
            plus=index == 0 and bool(self.match["plus"]),
            lang=self.lang,
            dashed=any(char in DASHES for char in between),
            phone_context=phone_context,
            postal_context=self.postal_context and index == 0,
            checksummed=_may_checksum(self.groups, index, stop),
        )

    def span(self, kind: PiiKind, index: int, stop: int) -> tuple[int, int]:
        start = self.match.start() if index == 0 and self.match["plus"] else self.groups[index].start
        # Keep a bracketed area code's bracket inside the span: "(415) 555-0100".
        if kind is PiiKind.PHONE and start > self.match.start() and self.folded[start - 1] in "(（":
            start -= 1
        return start, self.groups[stop - 1].end


# --- e-mail --------------------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]*\s?[@＠]\s?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# An address read out: "john dot smith at acme dot com", "tanaka アットマーク example ドット co ドット jp".
_SPOKEN_JOINER = r"(?:dot|underscore|dash|hyphen|ドット|アンダーバー|アンダースコア|ハイフン)"
_SPOKEN_EMAIL = re.compile(
    rf"(?<![A-Za-z0-9._+-])(?P<local>[A-Za-z0-9][A-Za-z0-9._+-]*(?:\s+{_SPOKEN_JOINER}\s+[A-Za-z0-9_+-]+)*)"
    r"\s+(?P<at>at|アット(?:マーク)?)\s+[A-Za-z0-9-]+(?:\s*(?:dot|ドット)\s*[A-Za-z0-9-]+)+(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# The same spelled in katakana, the usual way to read an address in Japanese: タナカアットマークイグザンプルドットコム.
_KATAKANA = "ァ-ヴー・"
_KANA_EMAIL = re.compile(
    rf"(?P<local>[{_KATAKANA}A-Za-z0-9._-]+)\s?(?P<at>アットマーク|アット|[@＠])\s?"
    rf"[{_KATAKANA}A-Za-z0-9-]+?(?:\s?(?:ドット|\.)\s?[{_KATAKANA}A-Za-z0-9-]+?)*"
    r"\s?(?:ドット|\.)\s?(?P<tld>コム|ジェーピー|ジェイピー|ネット|オルグ|アイオー|ユーケー|ビズ|インフォ|[A-Za-z]{2,6})"
    rf"(?![{_KATAKANA}A-Za-z0-9])"
)
_KANA_EMAIL_CUE = re.compile(r"^(?:Eメール|メールアドレス|アドレス|メール)")
# "at" in English is mostly a preposition: a spoken address needs a joiner in its local part (jane dot doe), or an
# e-mail cue before it, and is not a noun phrase ("the pricing at acme dot com") or a web address ("... slash").
_EMAIL_CUE = re.compile(
    r"(?:e-?mail|mail|address|inbox|write|send|reach|contact|message|note|ping|cc|メール|アドレス)", re.IGNORECASE
)
# Shared mailboxes read out in calls ("sales at tailspin dot io"): the local part itself says it is an address.
_ROLE_MAILBOXES = frozenset(
    "sales info support hello contact billing admin team help office hr jobs careers press accounts service "
    "inquiry enquiries noreply no-reply".split()
)
_MAIL_PROVIDER = re.compile(
    r"\sat\s+(?:gmail|googlemail|yahoo|hotmail|outlook|live|icloud|aol|proton(?:mail)?)\s", re.I
)
_NOT_LOCAL_PARTS = set(
    "it this that them us me you him her here there everyone anyone someone one up out back off online home office "
    "look looking looked meet meeting arrive arrived stay staying work works working worked live lives be is are "
    "was were available details more info pricing price".split()
)
_DETERMINER_BEFORE = re.compile(r"\b(?:the|a|an|this|that|our|your|my|their|his|her|its|some|any)\s+$", re.IGNORECASE)
_URL_AFTER = re.compile(r"^\s*(?:slash|/)", re.IGNORECASE)


def _find_emails(folded: str) -> Iterator[tuple[int, int]]:
    for match in _EMAIL.finditer(folded):
        yield match.start(), match.end()
    for match in _KANA_EMAIL.finditer(folded):
        start = match.start()
        cue = _KANA_EMAIL_CUE.match(match["local"])
        if cue and cue.end() < len(match["local"]):
            start += cue.end()  # メールアドレスタナカアットマーク…: the cue ran into the address
        yield start, match.end()
    for match in _SPOKEN_EMAIL.finditer(folded):
        if match["at"].lower() == "at":
            local = match["local"]
            joined = re.search(rf"\s{_SPOKEN_JOINER}\s|[._]", local, re.IGNORECASE) is not None
            before = folded[max(0, match.start() - 40) : match.start()]
            if local.lower() in _NOT_LOCAL_PARTS or _DETERMINER_BEFORE.search(before):
                continue
            evidence = (
                joined
                or local.lower() in _ROLE_MAILBOXES
                or _EMAIL_CUE.search(before)
                or _MAIL_PROVIDER.search(match[0])
            )
            if _URL_AFTER.match(folded[match.end() :]) or not evidence:
                continue
        yield match.start(), match.end()


# --- addresses -----------------------------------------------------------------------------------------------------

_PREFECTURES = (
    "北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 東京都 神奈川県 新潟県 富山県 "
    "石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県 滋賀県 京都府 大阪府 兵庫県 奈良県 和歌山県 鳥取県 島根県 "
    "岡山県 広島県 山口県 徳島県 香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 熊本県 大分県 宮崎県 鹿児島県 沖縄県"
).split()
_PREF = "(?:" + "|".join(_PREFECTURES) + ")"
_KANJI_KANA = "一-龥々〆ヶケァ-ヴー"
# Hiragana occurs in some municipality names; allowed only after a prefecture, where nothing else can follow.
_HIRAGANA_PLACES = "|".join(
    (
        "さいたま",
        "つくばみらい",
        "つくば",
        "ひたちなか",
        "いわき",
        "あきる野",
        "かすみがうら",
        "みどり",
        "いすみ",
        "うきは",
        "みやま",
        "えびの",
        "たつの",
        "あわら",
        "かほく",
        "おいらせ",
        "うるま",
        "いちき串木野",
        "南あわじ",
        "みなとみらい",
    )
)
_MUNI_AFTER_PREF = rf"(?:(?:{_HIRAGANA_PLACES})|[{_KANJI_KANA}]){{1,8}}?(?:市|区|町|村|郡)"
_MUNI = rf"[{_KANJI_KANA}]{{1,6}}?(?:市|区|町|村)"
_ADDR_NUM = r"(?:\d{1,5}|[〇一二三四五六七八九十]{1,4})"
_BLOCK = (
    rf"(?:[{_KANJI_KANA}]{{0,12}}?|(?:{_HIRAGANA_PLACES}))\s?"
    rf"{_ADDR_NUM}(?:\s?(?:丁目|番地|番|号|[{re.escape(DASHES)}の])\s?{_ADDR_NUM})*(?:\s?(?:丁目|番地|番|号))?"
)
_JA_ADDRESS = (
    re.compile(rf"{_PREF}\s?(?:{_MUNI_AFTER_PREF}\s?){{1,2}}(?P<block>{_BLOCK})?"),
    re.compile(
        rf"(?:{_MUNI}\s?){{1,2}}[{_KANJI_KANA}]{{0,12}}?\s?{_ADDR_NUM}\s?(?:丁目|番地|番|号|[{re.escape(DASHES)}])"
        rf"(?:\s?{_ADDR_NUM}(?:\s?(?:丁目|番地|番|号|[{re.escape(DASHES)}の]))?)*"
    ),
)
# A prefecture and a city alone (愛知県豊田市の本社工場) locate a company or a factory, not a person; they are an
# address only where someone says it is theirs.
_JA_ADDRESS_CUE = re.compile(r"(?:住所|自宅|お住まい|住んで|在住|送付先|届け先|送り先|納品先|所在地|本籍)")
_STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|"
    r"Highway|Hwy|Square|Sq|Circle|Cir)"
)
_EN_ADDRESS = re.compile(
    rf"\b\d{{1,6}}[A-Za-z]?\s+(?:[NSEW]\.?\s+)?(?:(?:[A-Z][a-z]+|\d+(?:st|nd|rd|th))\s+){{1,4}}{_STREET_SUFFIX}\b\.?"
    r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Floor|Fl)\.?\s*#?\s*\w+|,?\s+#\s*\w+)?"
    r"(?:,\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})?(?:,?\s+[A-Z]{2}\b)?(?:\s+\d{5}(?:-\d{4})?)?"
)
# A US address line whose street has no suffix (2200 Broadway, Oakland, CA 94612): the state and ZIP code vouch
# for it.
_US_ADDRESS_LINE = re.compile(
    r"\b\d{1,6}\s+(?:[A-Z][a-z]+\s+){0,3}[A-Z][a-z]+,\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?,?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"
)
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}\b")

# --- names ---------------------------------------------------------------------------------------------------------

_JA_HONORIFIC = r"(?:さん|様|さま|くん|君|ちゃん|氏|先生|殿)"
# Kanji only: katakana before さん is as often a company (サイボウズさん) as a foreign name, which NER handles.
# The name is the whole kanji run before the honorific: ご本人様 or お寿司屋さん must not yield 人 or 司屋.
_JA_NAME_BEFORE_HONORIFIC = re.compile(rf"(?<![おご御一-龥々])(?P<name>[一-龥々]{{1,5}}){_JA_HONORIFIC}(?!々)")
# Words before さん/様 that are roles, relations or companies, not names.
_JA_NOT_NAMES = set(
    "皆 皆々 客 奥 子 神 王 兄 姉 妹 弟 母 父 嫁 婿 孫 娘 息子 旦那 家族 親御 先方 担当 担当者 御社 貴社 弊社 社長 "
    "部長 課長 係長 店長 営業 業者 医者 会社 他社 各社 大家 店員 上司 同僚 先輩 後輩 患者 利用者 関係者 責任者 決裁者 "
    "取引先 代理店 販売店 社員 職員 相手 方々 皆様 御中 両者 各位 住人 主人 ご主人 奥方 殿様 王様 神様 仏様 観音 "
    "お疲れ 外人 素人 玄人 業界 運転手 お医者 和尚 坊主 祖父 祖母 曽祖父 曽祖母 叔父 叔母 伯父 伯母".split()
)
_JA_ROLE_ENDINGS = tuple("者社店家員長会所局部課屋")
# Head counts before 様: 50名様, 三名様, 五人様, 何名さま are numbers of people, not names.
_JA_NUMERALS = "一二三四五六七八九十百千万何数"
_JA_COUNTERS = {"名", "人", "組", "方", "件", "台", "席", "口"}
_EN_TITLE_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+(?P<name>[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)")
_EN_INTRO_NAME = re.compile(
    r"\b(?:[Mm]y name(?:'s| is)|[Tt]his is|[Ii]t's|I'm|I am|[Ss]peaking with|[Aa]sk for|[Cc]ontact)\s+"
    r"(?P<name>[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)(?=\s+(?:from|at|with|here|speaking|calling)\b|[,.]|\s*$)"
)
_EN_NOT_NAMES = {"I", "It", "This", "That", "We", "You", "The", "Thanks", "Yes", "No", "Okay", "Sure", "Great"}
_TRIM_SUFFIX = re.compile(rf"\s*{_JA_HONORIFIC}$")


def _find_names_by_pattern(folded: str) -> Iterator[tuple[int, int]]:
    """Names before an honorific (kanji only) or after a title or an introduction ("Mr. Smith", "my name is")."""
    for match in _JA_NAME_BEFORE_HONORIFIC.finditer(folded):
        name = match["name"]
        if name in _JA_NOT_NAMES or (len(name) > 1 and name.endswith(_JA_ROLE_ENDINGS)):
            continue
        counted = name.lstrip(_JA_NUMERALS)
        after_number = match.start() > 0 and folded[match.start() - 1].isdigit()
        if counted in _JA_COUNTERS and (after_number or counted != name):
            continue
        yield match.start("name"), match.end("name")
    for pattern in (_EN_TITLE_NAME, _EN_INTRO_NAME):
        for match in pattern.finditer(folded):
            if match["name"].split()[0] not in _EN_NOT_NAMES:
                yield match.start("name"), match.end("name")


def _find_names_by_ner(doc: Doc) -> Iterator[tuple[int, int]]:
    from insight.nlp.entities import map_label

    for ent in doc.ents:
        if map_label(ent.label_) != EntityLabel.PERSON:
            continue
        text = ent.text
        trimmed = _TRIM_SUFFIX.sub("", text)
        if trimmed.strip():
            yield ent.start_char, ent.start_char + len(trimmed.rstrip())


def _not_a_person(doc: Doc | None) -> list[tuple[int, int]]:
    """Spans the pipeline knows to be companies, competitors or products: not redacted as names."""
    if doc is None:
        return []
    from insight.nlp.entities import map_label

    keep = {EntityLabel.COMPANY, EntityLabel.ORG, EntityLabel.COMPETITOR, EntityLabel.PRODUCT}
    return [(ent.start_char, ent.end_char) for ent in doc.ents if map_label(ent.label_) in keep]


# English words the small NER model takes for names at the start of a request ("Email me at …", "Text us"), and
# products it reads as people next to a card number or in a list of tools ("the Mastercard number", "Zendesk and
# Jira"). Customers' own products and competitors belong in the catalog; these are everyone's.
_EN_COMMON_WORDS = set(
    "email e-mail mail call text ping message phone fax thanks thank hi hello hey dear please sales support billing "
    "pricing finance legal procurement marketing team welcome sorry congrats card account order invoice".split()
)
_EN_NOT_PEOPLE = set(
    "visa mastercard amex discover jcb diners maestro paypal stripe zendesk jira confluence slack zoom teams webex "
    "gong chorus outreach salesloft zoho hubspot salesforce marketo pardot workday okta twilio intercom freshdesk "
    "mailchimp asana trello notion dropbox tableau looker shopify netsuite quickbooks xero sap oracle".split()
)
# "Email me", "Text us": a verb. "Card number", "Account no.": a noun compound.
_NOT_A_NAME_AFTER = re.compile(r"^(?:\s+(?:me|us|him|her|them|you)\b|\s+(?:number|no\b|#))", re.IGNORECASE)
_EN_NAME_SHAPE = re.compile(r"[A-Z][A-Za-z'.-]*(?:\s+[A-Z][A-Za-z'.-]*)*")


def _tags(doc: Doc, start: int, end: int) -> list[str]:
    """Dictionary part-of-speech tags (Sudachi's, in GiNZA) of the tokens that overlap ``start:end``."""
    return [token.tag_ for token in doc if token.idx < end and token.idx + len(token.text) > start]


def _not_a_name_by_dictionary(doc: Doc, start: int, end: int) -> bool:
    """The dictionary reads the span as something other than a name: every token a proper noun that is not a
    person's (日立, トヨタ, 楽楽精算), or several common nouns (老舗企業). One common noun may still be a surname
    (林様).
    """
    tags = _tags(doc, start, end)
    if not tags or any("人名" in tag for tag in tags):
        return False
    return all("固有名詞" in tag for tag in tags) or (len(tags) > 1 and all("普通名詞" in tag for tag in tags))


def _plausible_ner_name(doc: Doc, folded: str, start: int, end: int, lang: Lang) -> bool:
    """Whether a name NER found looks like one (see the module docstring)."""
    text = folded[start:end]
    if text.casefold() in _EN_NOT_PEOPLE:
        return False
    if lang == "ja":
        return any("人名" in tag for tag in _tags(doc, start, end))
    if not _EN_NAME_SHAPE.fullmatch(text):
        return False  # "max", "i'm", ".01": lower case or not a word
    if " " not in text and (text.casefold() in _EN_COMMON_WORDS or _NOT_A_NAME_AFTER.match(folded[end:])):
        return False
    return True


def _dictionary_surnames(doc: Doc) -> Iterator[tuple[int, int]]:
    """Tokens the Japanese dictionary tags as a surname (経理の渡辺に…), with a given name after it.

    Many surnames are also places (梅田, 金沢): where NER labelled the token as anything, NER decides.
    """
    tokens = list(doc)
    for index, token in enumerate(tokens):
        if "人名-姓" not in token.tag_ or token.ent_type_:
            continue
        end = token.idx + len(token.text)
        if index + 1 < len(tokens) and "人名-名" in tokens[index + 1].tag_:
            end = tokens[index + 1].idx + len(tokens[index + 1].text)
        yield token.idx, end


def _find_people(folded: str, doc: Doc | None, lang: Lang) -> Iterator[tuple[int, int]]:
    for start, end in _find_names_by_pattern(folded):
        if doc is not None and lang == "ja" and _not_a_name_by_dictionary(doc, start, end):
            continue
        yield start, end
    if doc is None:
        return
    for start, end in _find_names_by_ner(doc):
        if _plausible_ner_name(doc, folded, start, end, lang):
            yield start, end
    if lang == "ja":
        yield from _dictionary_surnames(doc)


# --- allow-list ----------------------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return "".join(fold_width(text).casefold().split())


class AllowList:
    """Names and values never redacted: the rep's own name, the company's public number, catalog names.

    Also used to tell whether a name is one of a call's products or competitors (the same matching rules).
    """

    def __init__(self, items: Iterable[str]) -> None:
        self._texts = {_norm(item) for item in items if item.strip()}
        self._digits = {d for d in (re.sub(r"\D", "", fold_width(item)) for item in items) if len(d) >= 5}
        self._words = [fold_width(item).casefold().split() for item in items if item.strip()]

    def allows(self, kind: PiiKind, original: str) -> bool:
        """Whether ``original``, found as a ``kind`` of personal data, is allowed to stay.

        Numbers match on their digits, person names on any part of an allowed name; anything else must match whole.
        """
        norm = _norm(original)
        if norm in self._texts:
            return True
        if kind in (PiiKind.PHONE, PiiKind.CREDIT_CARD, PiiKind.MY_NUMBER, PiiKind.POSTAL_CODE):
            return re.sub(r"\D", "", fold_width(original).translate(_DIGIT_FOLD)) in self._digits
        if kind is not PiiKind.PERSON:
            return False
        if norm.isascii():
            # Latin names: every word of the name is a word of one allowed entry ("Jane" in "Jane Doe").
            words = fold_width(original).casefold().split()
            return any(words and all(word in entry for word in words) for entry in self._words)
        # Japanese names have no spaces: 田中 is part of 田中太郎.
        return len(norm) >= 2 and any(norm in text for text in self._texts)


# --- redactor ------------------------------------------------------------------------------------------------------


class PiiRedactor:
    """Finds and replaces personal data in utterances of one language.

    Args:
        lang: ``ja`` or ``en``: decides the placeholders and which patterns apply.
        allow_list: Names or values never redacted (the rep's own name, the company's own phone number).
        kinds: The kinds to redact; all by default.
        use_ner: Also find names with the language pipeline's NER (loads it on first use). Without it, names are
            found only by patterns (田中さん, "Mr. Smith", "my name is ...").
        catalog: Competitors and products; their names are never taken for people (サイボウズさん).
        placeholders: Override the placeholder text per kind.
        nlp: The spaCy pipeline of a language (the runtime's ``Models.nlp``); the process-wide one by default.

    Example:
        >>> PiiRedactor("ja", use_ner=False).redact("田中さんの携帯は090-1234-5678です").text
        '[氏名]さんの携帯は[電話番号]です'
    """

    def __init__(
        self,
        lang: Lang,
        *,
        allow_list: Iterable[str] = (),
        kinds: Iterable[PiiKind] | None = None,
        use_ner: bool = True,
        catalog: EntityCatalog | None = None,
        placeholders: Mapping[PiiKind, str] | None = None,
        nlp: NlpSource | None = None,
    ) -> None:
        self.lang: Lang = lang
        self._nlp = nlp
        self.kinds = frozenset(kinds) if kinds is not None else frozenset(PiiKind)
        self.use_ner = use_ner
        allowed = list(allow_list)
        if catalog is not None:
            allowed += [term for entry in catalog.entries for term in entry.terms]
        self._allow = AllowList(allowed)
        self.placeholders = {**PLACEHOLDERS[lang], **(placeholders or {})}

    def allows(self, kind: PiiKind, original: str) -> bool:
        """Whether ``original`` is never redacted as ``kind`` (allow-list and catalog)."""
        return self._allow.allows(kind, original)

    def find(self, text: str, *, doc: Doc | None = None) -> list[PiiSpan]:
        """The PII spans in ``text``, non-overlapping, in order. ``doc`` reuses a parse of the same text."""
        if doc is None and self.use_ner and PiiKind.PERSON in self.kinds and text.strip():
            doc = self._parse([text])[0]
        return self._find(text, doc)

    def redact(self, text: str, *, doc: Doc | None = None) -> Redaction:
        """Replace every PII span in ``text`` with its placeholder."""
        return self._redact(text, self.find(text, doc=doc))

    def redact_many(self, texts: Sequence[str], *, batch_size: int = 64) -> list[Redaction]:
        """Redact many utterances, running NER over them in batches."""
        docs: list[Doc | None]
        if self.use_ner and PiiKind.PERSON in self.kinds:
            docs = list(self._parse(texts, batch_size=batch_size))
        else:
            docs = [None] * len(texts)
        return [self._redact(text, self._find(text, doc)) for text, doc in zip(texts, docs, strict=True)]

    def _parse(self, texts: Sequence[str], batch_size: int = 64) -> list[Doc]:
        from insight.nlp.pipelines import NER_ONLY_DISABLE, parse_many

        nlp = self._nlp(self.lang) if self._nlp is not None else None
        return parse_many(texts, self.lang, disable=NER_ONLY_DISABLE[self.lang], batch_size=batch_size, nlp=nlp)

    def _find(self, text: str, doc: Doc | None) -> list[PiiSpan]:
        folded = fold_width(text)
        candidates = list(self._candidates(folded, doc))
        protected = _not_a_person(doc)
        chosen: list[tuple[PiiKind, int, int]] = []
        for kind, start, end in sorted(candidates, key=lambda c: (_PRIORITY[c[0]], -(c[2] - c[1]), c[1])):
            if kind not in self.kinds or start >= end:
                continue
            if kind is PiiKind.PERSON and any(start < p_end and p_start < end for p_start, p_end in protected):
                continue
            if any(start < other_end and other_start < end for _, other_start, other_end in chosen):
                continue
            if self._allow.allows(kind, text[start:end]):
                continue
            chosen.append((kind, start, end))
        chosen.sort(key=lambda item: item[1])
        return [
            PiiSpan(kind=kind, start=start, end=end, original=text[start:end], placeholder=self.placeholders[kind])
            for kind, start, end in chosen
        ]

    def _candidates(self, folded: str, doc: Doc | None) -> Iterator[tuple[PiiKind, int, int]]:
        for start, end in _find_emails(folded):
            yield PiiKind.EMAIL, start, end
        digit_folded = folded.translate(_DIGIT_FOLD)
        yield from _find_numbers(digit_folded, self.lang)
        for start, end in find_ibans(folded):
            yield PiiKind.BANK_ACCOUNT, start, end
        for start, end in find_birth_dates(digit_folded):
            yield PiiKind.DATE_OF_BIRTH, start, end
        for pattern in _JA_ADDRESS:
            for match in pattern.finditer(folded):
                blockless = "block" in pattern.groupindex and match["block"] is None
                if blockless and not _JA_ADDRESS_CUE.search(folded[max(0, match.start() - 12) : match.start()]):
                    continue
                yield PiiKind.ADDRESS, match.start(), match.end()
        for pattern in (_EN_ADDRESS, _US_ADDRESS_LINE):
            for match in pattern.finditer(folded):
                yield PiiKind.ADDRESS, match.start(), match.end()
        for match in _UK_POSTCODE.finditer(folded):
            yield PiiKind.POSTAL_CODE, match.start(), match.end()
        for start, end in _find_people(folded, doc, self.lang):
            yield PiiKind.PERSON, start, end

    @staticmethod
    def _redact(text: str, spans: list[PiiSpan]) -> Redaction:
        parts: list[str] = []
        cursor = 0
        for span in spans:
            parts.append(text[cursor : span.start])
            parts.append(span.placeholder)
            cursor = span.end
        parts.append(text[cursor:])
        return Redaction(text="".join(parts), spans=tuple(spans))


def redact(
    text: str,
    lang: Lang,
    *,
    allow_list: Iterable[str] = (),
    use_ner: bool = True,
    catalog: EntityCatalog | None = None,
) -> Redaction:
    """Redact one text with a one-off :class:`PiiRedactor` (build one and reuse it for many utterances)."""
    return PiiRedactor(lang, allow_list=allow_list, use_ner=use_ner, catalog=catalog).redact(text)


def restore(redaction: Redaction) -> str:
    """The original text, rebuilt from the redacted text and its spans."""
    parts: list[str] = []
    original_cursor = 0
    redacted_cursor = 0
    for span in redaction.spans:
        # The text between two spans is unchanged, so its length in the redacted text is known.
        plain = span.start - original_cursor
        parts.append(redaction.text[redacted_cursor : redacted_cursor + plain])
        parts.append(span.original)
        redacted_cursor += plain + len(span.placeholder)
        original_cursor = span.end
    parts.append(redaction.text[redacted_cursor:])
    return "".join(parts)
