"""Text helpers shared by the NLP modules: width folding, Japanese numerals, byte-bounded chunking.

Everything here keeps character offsets stable: detectors run on a folded copy of the text and report offsets that
are valid in the original, so redaction and evidence spans point at what the transcript really says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# SudachiPy refuses a single input longer than this many UTF-8 bytes ("Input is too long, it can't be more than
# 49149 bytes"). Chunks stay well below it so that a chunk never lands exactly on the edge.
SUDACHI_MAX_BYTES = 49_149
DEFAULT_CHUNK_BYTES = 16_384

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space map one-to-one onto ASCII, so folding never changes
# the length of the string. NFKC would also fold half-width katakana, which changes lengths and breaks offsets.
_WIDTH_TABLE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_WIDTH_TABLE[0x3000] = 0x20

# Dashes that Whisper and Japanese IMEs put between digit groups. ー (the long-vowel mark) shows up in ASR output
# for spoken "no" in phone numbers ("ゼロキューゼロのー"), and as a hyphen look-alike.
DASHES = "-‐‑‒–—―−ーｰ－"

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
KANJI_NUMERAL_CHARS = "".join(_KANJI_DIGITS) + "".join(_KANJI_UNITS) + "両"

_SENTENCE_END = re.compile(r"[。．！？!?\n]+|(?<=[.])\s+")


def fold_width(text: str) -> str:
    """Fold full-width ASCII letters, digits and symbols to ASCII without changing the string's length."""
    return text.translate(_WIDTH_TABLE)


def parse_number(token: str) -> int | None:
    """Parse an Arabic (``12``, ``１２``) or Japanese (``十二``, ``二十五``, ``百``) numeral; ``None`` if not one."""
    token = fold_width(token).strip()
    if not token:
        return None
    if token.isascii() and token.isdigit():
        return int(token)
    if token == "半":
        return None
    if all(ch in _KANJI_DIGITS for ch in token) and len(token) > 1:
        # 二〇二六 style: positional kanji digits.
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in token))
    total = 0
    current = 0
    for ch in token:
        if ch in _KANJI_DIGITS:
            current = _KANJI_DIGITS[ch]
        elif ch in _KANJI_UNITS:
            total += (current or 1) * _KANJI_UNITS[ch]
            current = 0
        else:
            return None
    return total + current


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` covering ``text``; a sentence keeps its closing punctuation."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if text[start:end].strip():
            spans.append((start, end))
        start = end
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def chunk_by_bytes(text: str, max_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[tuple[int, str]]:
    """Split ``text`` into ``(offset, chunk)`` pieces of at most ``max_bytes`` UTF-8 bytes.

    Cuts fall after sentence ends where possible, otherwise after the last space or comma, otherwise anywhere on a
    character boundary. The chunks tile ``text``: joining them gives it back exactly, so offsets add up.

    Args:
        text: Any text, possibly far longer than SudachiPy accepts.
        max_bytes: Upper bound on each chunk's UTF-8 length (at least 4, the widest character).

    Yields:
        The character offset of each chunk in ``text`` and the chunk itself.
    """
    if max_bytes < 4:
        raise ValueError("max_bytes must be at least 4")
    if not text:
        return
    chunk_start = 0
    chunk_bytes = 0
    for start, end in _pieces(text, max_bytes):
        size = len(text[start:end].encode("utf-8"))
        if chunk_bytes and chunk_bytes + size > max_bytes:
            yield chunk_start, text[chunk_start:start]
            chunk_start = start
            chunk_bytes = 0
        chunk_bytes += size
    yield chunk_start, text[chunk_start:]


def _pieces(text: str, max_bytes: int) -> Iterator[tuple[int, int]]:
    """Contiguous spans tiling ``text``, each ending at a sentence end and none over ``max_bytes``."""
    start = 0
    cuts = [match.end() for match in _SENTENCE_END.finditer(text)]
    for cut in [*cuts, len(text)]:
        if cut > start:
            yield from _split_long(text, start, cut, max_bytes)
            start = cut


def _split_long(text: str, start: int, end: int, max_bytes: int) -> Iterator[tuple[int, int]]:
    """Cut one over-long sentence after spaces/commas, else at character boundaries."""
    while len(text[start:end].encode("utf-8")) > max_bytes:
        cut = start
        size = 0
        soft = -1
        for index in range(start, end):
            size += len(text[index].encode("utf-8"))
            if size > max_bytes:
                break
            cut = index + 1
            if text[index] in " \t、，,":
                soft = index + 1
        if soft > start:
            cut = soft
        yield start, cut
        start = cut
    if start < end:
        yield start, end
