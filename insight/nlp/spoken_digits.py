"""Digits spoken as words, rewritten as digits with a map back to the original text.

Callers read phone, account and social security numbers out loud, and ASR writes some of them down as words:
ゼロキューゼロのいちにさんよんのごーろくななはち, "five five five, one two three, four five six seven", "double five",
"oh" for zero, "one eight hundred". :func:`transliterate` rewrites each such run as digit groups joined by ``-`` (a
spoken pause is as deliberate as a written dash), so the number rules of :mod:`insight.nlp.pii` read it like any
written number, and maps every offset of the rewritten text back to the original.

Only runs of at least four number words are rewritten: single words (五つ, いちばん, "one of them") and short pairs
(にさん日, "two or three") stay text. Kana digits never join an Arabic digit directly ("5678にご連絡" is 5678 and a
particle), and a trailing に or ご followed by more words is a particle or a prefix, not a digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MIN_WORDS = 4

# Japanese readings of 0-9 as ASR writes them, in katakana and hiragana; longer readings first.
_KANA_DIGITS: dict[str, str] = {}
for _digit, _readings in {
    "0": "ゼロ ぜろ レイ れい マル まる",
    "1": "イチ いち ワン わん",
    "2": "ニー にー ニ に",
    "3": "サン さん",
    "4": "ヨン よん シ し",
    "5": "ゴー ごー ゴ ご",
    "6": "ロク ろく",
    "7": "ナナ なな シチ しち",
    "8": "ハチ はち",
    "9": "キュウ きゅう キュー きゅー ク く",
}.items():
    for _reading in _readings.split():
        _KANA_DIGITS[_reading] = _digit
_KANA_TOKEN = "|".join(sorted(_KANA_DIGITS, key=len, reverse=True))
_KANA_SEP = r"[\sのノ、，,・ー－‐-]{1,3}"
_KANA_RUN = re.compile(rf"(?:{_KANA_TOKEN}|\d)+(?:{_KANA_SEP}(?:{_KANA_TOKEN}|\d)+)*")
_KANA_GROUP = re.compile(rf"(?P<kana>(?:{_KANA_TOKEN})+)|(?P<arabic>\d+)")
_KANA_WORD = re.compile(_KANA_TOKEN)
# A trailing に followed by a word is the particle (…はちにお電話ください, …きゅうに連絡); a trailing ご followed by
# kanji is the honorific prefix (…ろくご連絡). Before で/す/ね/よ (…さんよんにです) they are still digits.
_PARTICLE_AFTER = {"に": re.compile(r"[ぁ-んァ-ヴ一-龥々](?<![でですねよ])"), "ご": re.compile(r"[一-龥々]")}

_UNITS = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_TEENS = {
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
}
_TENS = {
    "twenty": "2",
    "thirty": "3",
    "forty": "4",
    "fifty": "5",
    "sixty": "6",
    "seventy": "7",
    "eighty": "8",
    "ninety": "9",
}
_UNIT = "|".join(_UNITS)
_NONZERO = "|".join(word for word in _UNITS if _UNITS[word] != "0")
_EN_TOKEN = (
    rf"(?:(?:double|triple)\s+(?:{_UNIT})|(?:{'|'.join(_TENS)})(?:[\s-](?:{_NONZERO}))?|{'|'.join(_TEENS)}|{_UNIT}"
    r"|hundred|thousand)"
)
_EN_GROUP = rf"\b{_EN_TOKEN}(?:\s+{_EN_TOKEN})*\b"
_EN_SEP = r"(?:\s*[,;]\s*|\s*\.\s+|\s*[-–—]\s*|\s+(?:dash|hyphen)\s+)"
_EN_RUN = re.compile(rf"{_EN_GROUP}(?:{_EN_SEP}{_EN_GROUP})*", re.IGNORECASE)
_EN_GROUP_RE = re.compile(_EN_GROUP, re.IGNORECASE)
_EN_WORD = re.compile(_EN_TOKEN, re.IGNORECASE)


@dataclass(frozen=True)
class Transliteration:
    """Text with spoken digits rewritten, and for each of its characters the span it came from in the source."""

    text: str
    origins: tuple[tuple[int, int], ...]

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the source text that ``text[start:end]`` was made from."""
        return self.origins[start][0], self.origins[end - 1][1]


def _en_digits(token: str) -> str:
    words = token.lower().replace("-", " ").split()
    if words[0] in ("double", "triple"):
        return _UNITS[words[1]] * (2 if words[0] == "double" else 3)
    if words[0] in _TENS:
        return _TENS[words[0]] + (_UNITS[words[1]] if len(words) > 1 else "0")
    if words[0] in _TEENS:
        return _TEENS[words[0]]
    if words[0] == "hundred":
        return "00"
    if words[0] == "thousand":
        return "000"
    return _UNITS[words[0]]


@dataclass
class _Group:
    start: int
    end: int
    pieces: list[tuple[str, int, int]]  # digits and the source span of the word they came from
    words: int


def _en_groups(text: str, match: re.Match[str]) -> list[_Group]:
    groups: list[_Group] = []
    for group in _EN_GROUP_RE.finditer(text, match.start(), match.end()):
        words = list(_EN_WORD.finditer(text, group.start(), group.end()))
        # "hundred"/"thousand" only multiply a digit said before them ("one eight hundred").
        if not words or words[0][0].lower() in ("hundred", "thousand"):
            break
        pieces = [(_en_digits(word[0]), word.start(), word.end()) for word in words]
        groups.append(_Group(group.start(), group.end(), pieces, len(pieces)))
    # A lone "oh" before the number is the interjection ("Oh, five five five ...").
    while groups and len(groups[0].pieces) == 1 and text[groups[0].start : groups[0].end].lower() == "oh":
        groups.pop(0)
    return groups


def _kana_groups(text: str, match: re.Match[str]) -> list[_Group]:
    groups: list[_Group] = []
    for group in _KANA_GROUP.finditer(text, match.start(), match.end()):
        if group["arabic"]:
            groups.append(_Group(group.start(), group.end(), [(group[0], group.start(), group.end())], 0))
            continue
        words = list(_KANA_WORD.finditer(text, group.start(), group.end()))
        # Kana directly after or before an Arabic digit is not part of the same number (5678にご連絡).
        touching = (group.start() > 0 and text[group.start() - 1].isdigit()) or (
            group.end() < len(text) and text[group.end()].isdigit()
        )
        if touching:
            break
        groups.append(
            _Group(group.start(), group.end(), [(_KANA_DIGITS[w[0]], w.start(), w.end()) for w in words], len(words))
        )
    if groups and groups[-1].words:
        last = groups[-1]
        following = text[last.end : last.end + 1]
        tail = text[last.pieces[-1][1] : last.pieces[-1][2]]
        particle = _PARTICLE_AFTER.get(tail)
        if particle is not None and particle.match(following):
            last.pieces.pop()
            last.words -= 1
            if last.pieces:
                last.end = last.pieces[-1][2]
            else:
                groups.pop()
    return groups


def transliterate(text: str) -> Transliteration:
    """Rewrite runs of spoken digits in ``text`` as digit groups joined by ``-``.

    Args:
        text: Width-folded text (kanji digits may already be folded to ASCII digits).

    Returns:
        The rewritten text and, for each of its characters, the source span it stands for. Text outside the runs
        maps one to one.
    """
    runs: list[list[_Group]] = []
    for pattern, reader in ((_KANA_RUN, _kana_groups), (_EN_RUN, _en_groups)):
        for match in pattern.finditer(text):
            groups = reader(text, match)
            if sum(group.words for group in groups) >= _MIN_WORDS:
                runs.append(groups)
    runs.sort(key=lambda groups: groups[0].start)
    out: list[str] = []
    origins: list[tuple[int, int]] = []
    cursor = 0
    for groups in runs:
        if groups[0].start < cursor:
            continue  # overlapping readings of the same stretch: the first one wins
        for index in range(cursor, groups[0].start):
            out.append(text[index])
            origins.append((index, index + 1))
        for number, group in enumerate(groups):
            if number:
                out.append("-")
                origins.append((groups[number - 1].end, group.start))
            for digits, start, end in group.pieces:
                out.extend(digits)
                origins.extend([(start, end)] * len(digits))
        cursor = groups[-1].end
    for index in range(cursor, len(text)):
        out.append(text[index])
        origins.append((index, index + 1))
    return Transliteration("".join(out), tuple(origins))
