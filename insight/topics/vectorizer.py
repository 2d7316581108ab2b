"""Words for topic keywords: content words of Japanese (SudachiPy) and English text, without fillers.

Japanese text goes through SudachiPy (dictionary ``core``, split mode B) and keeps nouns, verbs and adjectives in
their normalised form (聞き → 聞く, ちょっと → 一寸 is an adverb and dropped); particles, auxiliaries, symbols and
fillers (えー, あの, まあ) go. Latin-script text is split on word characters, lower-cased, and English stop words
and fillers (um, uh, yeah) go. A text mixing both is read by Sudachi, which keeps Latin words as nouns.

SudachiPy refuses inputs above about 49 kB, so long texts are cut into chunks at sentence ends below that limit.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from typing import Any

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# SudachiPy's input limit is 49149 bytes; chunks stay well below it (UTF-8 Japanese is 3 bytes a character).
MAX_CHUNK_BYTES = 40_000

JA_CONTENT_POS = frozenset({"名詞", "動詞", "形容詞"})
# Noun sub-kinds that carry no topic: numbers, and nouns that only lean on what precedes them (こと, もの, ため).
JA_SKIP_SUBPOS = frozenset({"数詞", "助動詞語幹"})
JA_STOP_WORDS = frozenset(
    {
        # fillers and backchannels (some are tagged as nouns or verbs in some contexts)
        "えー",
        "えーと",
        "えっと",
        "あの",
        "あのー",
        "その",
        "まあ",
        "はい",
        "ええ",
        "うん",
        "そう",
        "なるほど",
        "ちょっと",
        "一寸",
        "あー",
        "うーん",
        "ねえ",
        "へえ",
        "ほう",
        "おお",
        # light verbs and formal nouns that follow almost anything
        "する",
        "為る",
        "居る",
        "いる",
        "有る",
        "ある",
        "成る",
        "なる",
        "出来る",
        "できる",
        "言う",
        "いう",
        "思う",
        "行く",
        "来る",
        "見る",
        "くれる",
        "呉れる",
        "貰う",
        "もらう",
        "頂く",
        "いただく",
        "下さる",
        "くださる",
        "こと",
        "事",
        "もの",
        "物",
        "ため",
        "為",
        "よう",
        "様",
        "方",
        "感じ",
        "ところ",
        "所",
        "とき",
        "時",
        "さん",
        "の",
        "ん",
        "これ",
        "それ",
        "あれ",
        "どれ",
        "ここ",
        "そこ",
        "何",
        "なに",
        "皆",
        "自分",
        "今",
        "本当",
        "ほんと",
        "大丈夫",
        "お願い",
        "宜しい",
        "よろしい",
        "良い",
        "いい",
        "よい",
        "無い",
        "ない",
        "因み",
        "奴",
        "気",
        "感",
        "後",
        "しま",
    }
)
EN_FILLERS = frozenset(
    {
        "um",
        "umm",
        "uh",
        "uhh",
        "erm",
        "er",
        "ah",
        "oh",
        "hmm",
        "mm",
        "mhm",
        "yeah",
        "yep",
        "yes",
        "ok",
        "okay",
        "right",
        "like",
        "well",
        "so",
        "just",
        "really",
        "actually",
        "basically",
        "gonna",
        "wanna",
        "kinda",
        "sure",
        "thanks",
        "thank",
        "hi",
        "hello",
        "bye",
        "lol",
        "haha",
        "don",
        "didn",
        "doesn",
        "isn",
        "ll",
        "ve",
        "re",
        "im",
        "dont",
        "think",
        "know",
        "got",
        "get",
        "going",
        "good",
        "great",
        "nice",
        "did",
        "does",
        "let",
        "say",
        "doesnt",
        "didnt",
        "havent",
        "theres",
        "youre",
        "lets",
        "cant",
        "wont",
        "isnt",
        "thats",
        "haven",
        "wasn",
        "aren",
        "couldn",
        "wouldn",
        "shouldn",
        "won",
        "maybe",
    }
)
EN_STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | EN_FILLERS
FILLERS = frozenset(EN_FILLERS) | JA_STOP_WORDS

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_EN_WORD = re.compile(r"[a-z][a-z']+")
_SENTENCE_END = re.compile(r"(?<=[。！？!?\.\n])")
_PUNCT_OR_SPACE = re.compile(r"[\s\W_]+", re.UNICODE)


def has_japanese(text: str) -> bool:
    """True when ``text`` holds kana or kanji (then Sudachi reads it)."""
    return _CJK.search(text) is not None


def chunks(text: str, max_bytes: int = MAX_CHUNK_BYTES) -> Iterator[str]:
    """``text`` in pieces of at most ``max_bytes`` UTF-8 bytes, cut at sentence ends where possible."""
    piece: list[str] = []
    size = 0
    for sentence in _SENTENCE_END.split(text):
        n = len(sentence.encode("utf-8"))
        if n > max_bytes:  # one endless sentence: cut by characters
            if piece:
                yield "".join(piece)
                piece, size = [], 0
            step = max(1, max_bytes // 4)  # at most 4 bytes a character
            for i in range(0, len(sentence), step):
                yield sentence[i : i + step]
            continue
        if size + n > max_bytes and piece:
            yield "".join(piece)
            piece, size = [], 0
        piece.append(sentence)
        size += n
    if piece:
        yield "".join(piece)


class ContentWordTokenizer:
    """A callable for scikit-learn's ``CountVectorizer(tokenizer=...)``: a text's content words, normalised.

    The Sudachi dictionary loads on first Japanese text (about a second) and is shared; a lock serialises its
    use, as a Sudachi tokenizer is not safe to share between threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sudachi: Any = None
        self._mode: Any = None

    def _tokenizer(self) -> Any:
        if self._sudachi is None:
            from sudachipy import Dictionary, SplitMode

            self._sudachi = Dictionary(dict="core").create()
            self._mode = SplitMode.B
        return self._sudachi

    def __call__(self, text: str) -> list[str]:
        """The content words of ``text`` in order (repeats kept: they are counts)."""
        text = unicodedata.normalize("NFKC", text)
        if not has_japanese(text):
            return [w for w in _EN_WORD.findall(text.lower()) if w not in EN_STOP_WORDS and len(w) > 1]
        words: list[str] = []
        with self._lock:
            tokenizer = self._tokenizer()
            for piece in chunks(text):
                for m in tokenizer.tokenize(piece, self._mode):
                    pos = m.part_of_speech()
                    if pos[0] not in JA_CONTENT_POS or pos[1] in JA_SKIP_SUBPOS or pos[1] == "非自立可能":
                        continue
                    surface = m.surface()
                    # Sudachi normalises Latin words to katakana (what → ホワット): keep English as written. A
                    # topic's utterances reach the vectorizer as one text, so both languages come through here.
                    word = m.normalized_form() if has_japanese(surface) else surface
                    if has_japanese(word):
                        if word in JA_STOP_WORDS or m.dictionary_form() in JA_STOP_WORDS:
                            continue
                        if len(word) == 1 and not _is_kanji(word):  # a stray kana
                            continue
                    else:
                        word = word.lower()
                        if word in EN_STOP_WORDS or len(word) < 2 or not word.isalpha():
                            continue
                    words.append(word)
        return words

    def __getstate__(self) -> dict[str, Any]:
        # Sudachi objects do not pickle; a copy loads its own dictionary.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]


def _is_kanji(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def is_substantive(text: str, *, min_chars_ja: int = 6, min_words_en: int = 3) -> bool:
    """False for backchannels and fillers ("はい", "そうですね", "yeah, sure"): too short to carry a topic.

    Japanese needs ``min_chars_ja`` characters besides punctuation and spaces, other text ``min_words_en`` words
    that are not fillers.
    """
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return False
    if has_japanese(text):
        return len(_PUNCT_OR_SPACE.sub("", text)) >= min_chars_ja
    words = [w for w in _EN_WORD.findall(text.lower()) if w not in EN_FILLERS]
    return len(words) >= min_words_en
