"""Extractive summaries of a conversation: pick the sentences that carry the call, in call order.

Each candidate sentence is scored by

- **coverage**: the weight of the content bigrams it adds that the summary does not cover yet, where a bigram's
  weight is the number of sentences of the conversation that contain it (what people keep talking about is what
  the call is about), divided by the sentence's length (long rambling turns do not win by size alone);
- **centrality**: continuous LexRank over the sentence embeddings (PageRank on the cosine-similarity graph), which
  decides when no phrase repeats, as in a short call;
- **position**: a mild boost for the opening, where meetings and calls state their purpose and agenda;

and selected greedily with maximal marginal relevance: a sentence's score is discounted by its highest cosine
similarity to a sentence already chosen, so the summary does not say the same thing twice. Selection stops at the
length budget; the chosen sentences come back in call order.

Greetings, thanks, self-introductions, names used to address someone and backchannels ("Hi Jordan, this is Alex
from CallSpring", お世話になっております、〇〇の△△です, "Yeah, right, okay") carry nothing a reader of the minutes
needs: :func:`is_small_talk` keeps such sentences out of the candidates, and :func:`trim_small_talk` drops a
greeting that opens a sentence with content ("Hi Jordan, the rollout starts in March" shows "The rollout starts
in March").

:func:`lead` and :func:`lexrank` are the usual baselines (the first sentences; plain thresholded LexRank), used by
``bench/minutes_eval.py`` at the same length budget and on the same candidates (:func:`is_candidate`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from insight.nlp.embeddings import FloatMatrix
from insight.nlp.minutes import cues
from insight.nlp.minutes.sentences import content_size
from insight.nlp.types import Lang

Bigram = tuple[str, str]


@dataclass(frozen=True)
class SummaryUnit:
    """One candidate sentence.

    Attributes:
        text: The sentence as shown in the summary.
        tokens: Its lower-cased word tokens (any tokenizer; Japanese from SudachiPy).
        stop: For each token, whether it is a function word (a bigram of two function words carries no topic).
        length: Its length in budget units (words for English, characters / 2 for Japanese).
    """

    text: str
    tokens: tuple[str, ...]
    stop: tuple[bool, ...]
    length: float


@dataclass(frozen=True)
class SummaryOptions:
    """Knobs of :func:`summarize`; the defaults were chosen on QMSum's validation meetings (bench/minutes_eval.py).

    Attributes:
        min_tokens: Shorter sentences are never picked ("Yeah.", "はい、そうですね。").
        min_bigram_count: A bigram must occur in this many sentences to count as a topic.
        length_exponent: Coverage is divided by ``length ** length_exponent``.
        centrality_weight: Weight of embedding centrality next to (max-normalised) coverage.
        redundancy: MMR discount: score * (1 - redundancy * max cosine to the chosen sentences).
        position_boost: Extra weight at the very start, decaying over the first ~5% of the sentences.
        duplicate: A sentence this similar (cosine) to a chosen one is never chosen (repeats, ASR loops).
    """

    min_tokens: int = 8
    min_bigram_count: int = 2
    length_exponent: float = 1.0
    centrality_weight: float = 0.1
    redundancy: float = 0.5
    position_boost: float = 1.0
    duplicate: float = 0.92


# Small talk beyond cues.PLEASANTRY: how-are-you exchanges, and backchannels that only acknowledge.
_SMALL_TALK: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(
        r"お忙しい(?:ところ|中)|お元気(?:です)?か|おかげさまで|どうぞよろしく|いつも(?:大変)?お世話に|"
        r"(?:いえいえ|はい|ええ|うん|そうですね|そうですか|そうなんですね|そうなんです|なるほど(?:です)?|確かに|"
        r"承知(?:いたし|し)ました|かしこまりました|(?:わか|分か)りました|了解(?:です|しました)|大丈夫です|"
        r"おっしゃる(?:通り|とおり)です|ですよね)[、。!！]?"
    ),
    "en": re.compile(
        r"\bhow (?:are|is) (?:you|everyone|everybody|it going)(?: doing)?(?: today)?\b|"
        r"\b(?:i'm|i am) (?:doing )?(?:good|well|great|fine|okay)(?:,? thanks?)?\b|\bthanks for having me\b|"
        r"\b(?:can|do) you hear me\b|\b(?:good|great|nice) to (?:hear from|talk to|speak with|see) you\b|"
        r"\bhope (?:you're|you are|all is) (?:doing )?well\b|\b(?:you too|likewise|welcome)\b|"
        r"\b(?:yeah|yes|yep|yup|okay|ok|right|sure|alright|all right|uh-huh|mm-hmm|i see|exactly|absolutely|"
        r"definitely|cool|got it|sounds good|(?:that )?makes sense|true|indeed|oh|wow|no problem|of course|"
        r"certainly|wonderful|fantastic|awesome)\b",
        re.IGNORECASE,
    ),
}
# A Japanese self-introduction: 〇〇の△△です / と申します (the name must be a person the parser found).
_JA_INTRO = re.compile(
    r"(?:^|(?<=[、。]))\s*(?:[^、。\s]{1,30}?(?:、|の)\s*)?(?:[一-龥ァ-ヶー]{1,12}部の)?"
    r"(?P<name>[一-龥々]{1,4}|[ァ-ヶー]{2,8})(?P<how>と申します|でございます|です)[。!！]?"
)
_LEADING_PUNCT = re.compile(r"^[\s,、。.!！?？:;…-]+")
_PAUSE = re.compile(r"\s*[,、。.!！?？:;…]+\s*")


def _small_talk_spans(text: str, lang: Lang, names: Iterable[str]) -> list[tuple[int, int]]:
    spans = [m.span() for m in cues.PLEASANTRY[lang].finditer(text)]
    spans += [m.span() for m in _SMALL_TALK[lang].finditer(text)]
    if lang == "en":
        for m in cues.SELF_INTRO["en"].finditer(text):
            name = m["name"] or m["name2"]
            if name and name.split()[0] not in cues.EN_NOT_NAMES:
                spans.append(m.span())
        for m in cues.ADDRESSED["en"].finditer(text):
            name = m["name"] or m["name2"]
            if name and name not in cues.EN_NOT_NAMES:
                spans.append(m.span())
    else:
        known = set(names)
        for m in _JA_INTRO.finditer(text):
            if m["how"] == "と申します" or m["name"] in known:
                spans.append(m.span())
        spans += [m.span() for m in cues.ADDRESSED["ja"].finditer(text)]
    return spans


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    keep = [True] * len(text)
    for start, end in spans:
        keep[start:end] = [False] * (end - start)
    return "".join(ch if kept else " " for ch, kept in zip(text, keep, strict=True))


def is_small_talk(text: str, lang: Lang, *, names: Iterable[str] = ()) -> bool:
    """Whether a sentence is mostly greeting, thanks, self-introduction, addressing someone or acknowledging.

    Args:
        text: One sentence.
        lang: Its language.
        names: People the parser found in it (a Japanese 〇〇の△△です counts as an introduction only for them).

    Returns:
        True when less than half of its words (Japanese: letters) are anything else.
    """
    size = content_size(text, lang)
    if size == 0:
        return True
    rest = _without(text, _small_talk_spans(text, lang, names))
    return content_size(rest, lang) < 0.5 * size


def trim_small_talk(text: str, lang: Lang, *, names: Iterable[str] = ()) -> str:
    """``text`` without the greetings, introductions and acknowledgements that open it, each followed by a pause
    (a comma or 、): "Hi Jordan, this is Alex, the rollout starts in March." shows "The rollout starts in March.".
    """
    spans = sorted(_small_talk_spans(text, lang, names))
    at = len(text) - len(_LEADING_PUNCT.sub("", text))
    for start, end in spans:
        if start > at:
            break
        pause = _PAUSE.match(text, end)
        paused = pause is not None or end == len(text) or text[end - 1] in "、,。.!！"
        if end <= at or not paused:
            continue
        at = pause.end() if pause is not None else end
    rest = text[at:].strip()
    if not rest or rest == text.strip() or content_size(rest, lang) == 0:
        return text
    rest = cues.clean_sentence(rest, lang)
    return rest or text


def is_candidate(unit: SummaryUnit, options: SummaryOptions) -> bool:
    """Whether a unit may be picked at all: long enough (small talk has no tokens, see :func:`is_small_talk`)."""
    return len(unit.tokens) >= options.min_tokens and unit.length > 0


def content_bigrams(unit: SummaryUnit) -> set[Bigram]:
    """The unit's bigrams, except those made only of function words."""
    return {
        (a, b)
        for (a, b), (stop_a, stop_b) in zip(
            zip(unit.tokens, unit.tokens[1:], strict=False), zip(unit.stop, unit.stop[1:], strict=False), strict=True
        )
        if not (stop_a and stop_b)
    }


def continuous_lexrank(
    embeddings: FloatMatrix, *, damping: float = 0.85, iterations: int = 30
) -> npt.NDArray[np.float64]:
    """LexRank with cosine weights (no threshold), scaled so the most central unit scores 1."""
    n = len(embeddings)
    if n == 0:
        return np.zeros(0)
    sim = np.clip(embeddings.astype(np.float64) @ embeddings.T.astype(np.float64), 0.0, None)
    np.fill_diagonal(sim, 0.0)
    return _pagerank(sim, damping, iterations)


def lexrank(
    embeddings: FloatMatrix, *, threshold: float = 0.1, damping: float = 0.85, iterations: int = 30
) -> npt.NDArray[np.float64]:
    """Plain LexRank (Erkan and Radev 2004): PageRank on the graph of cosine similarities above ``threshold``."""
    n = len(embeddings)
    if n == 0:
        return np.zeros(0)
    sim = (embeddings.astype(np.float64) @ embeddings.T.astype(np.float64) > threshold).astype(np.float64)
    np.fill_diagonal(sim, 0.0)
    return _pagerank(sim, damping, iterations)


def _pagerank(weights: npt.NDArray[np.float64], damping: float, iterations: int) -> npt.NDArray[np.float64]:
    n = len(weights)
    degree = weights.sum(axis=1, keepdims=True)
    transition = np.divide(weights, degree, out=np.full_like(weights, 1.0 / n), where=degree > 0)
    rank = np.full(n, 1.0 / n)
    for _ in range(iterations):
        rank = (1.0 - damping) / n + damping * transition.T @ rank
    top = float(rank.max())
    return rank / top if top > 0 else rank


def lead(units: Sequence[SummaryUnit], budget: float) -> list[int]:
    """The first units until the budget is spent."""
    return _fill(range(len(units)), units, budget)


def lexrank_summary(units: Sequence[SummaryUnit], embeddings: FloatMatrix, budget: float) -> list[int]:
    """The most central units by plain LexRank until the budget is spent, in call order."""
    scores = lexrank(embeddings)
    return sorted(_fill(np.argsort(-scores, kind="stable").tolist(), units, budget))


def _fill(order: Sequence[int] | range, units: Sequence[SummaryUnit], budget: float) -> list[int]:
    chosen: list[int] = []
    used = 0.0
    for index in order:
        if used >= budget:
            break
        if units[index].length <= 0:
            continue
        chosen.append(int(index))
        used += units[index].length
    return chosen


def summarize(
    units: Sequence[SummaryUnit],
    embeddings: FloatMatrix,
    budget: float,
    *,
    options: SummaryOptions | None = None,
    extra_cost: Callable[[int], float] | None = None,
) -> list[int]:
    """Choose sentences for the summary (see the module docstring).

    Args:
        units: Candidate sentences in call order.
        embeddings: One L2-normalised row per unit.
        budget: Total length allowed, in the units' ``length``.
        options: Scoring knobs.
        extra_cost: Budget spent per chosen unit beyond its length (e.g. a speaker label printed before it).

    Returns:
        Indices into ``units``, ascending (call order).
    """
    opts = options or SummaryOptions()
    if len(units) != len(embeddings):
        raise ValueError("one embedding per unit is needed")
    candidates = [i for i, unit in enumerate(units) if is_candidate(unit, opts)]
    if not candidates or budget <= 0:
        return []
    bigrams = {i: content_bigrams(units[i]) for i in candidates}
    counts: Counter[Bigram] = Counter()
    for unit in units:
        counts.update(content_bigrams(unit))
    weight = {gram: count for gram, count in counts.items() if count >= opts.min_bigram_count}
    centrality = dict(zip(candidates, continuous_lexrank(embeddings[candidates]).tolist(), strict=True))
    scale = (
        max((sum(weight.get(g, 0) for g in bigrams[i]) / units[i].length ** opts.length_exponent) for i in candidates)
        or 1.0
    )
    n = len(units)
    decay = max(1.0, 0.05 * n)
    prior = {i: 1.0 + opts.position_boost * math.exp(-i / decay) for i in candidates}

    covered: set[Bigram] = set()
    chosen: list[int] = []
    used = 0.0
    remaining = list(candidates)
    while remaining and used < budget:
        best, best_value = -1, -math.inf
        similarity = (embeddings[remaining] @ embeddings[chosen].T).max(axis=1) if chosen else np.zeros(len(remaining))
        for position, i in enumerate(remaining):
            if similarity[position] >= opts.duplicate:
                continue
            gain = sum(weight.get(g, 0) for g in bigrams[i] - covered) / units[i].length ** opts.length_exponent
            value = (gain / scale + opts.centrality_weight * centrality[i]) * prior[i]
            value *= 1.0 - opts.redundancy * max(0.0, float(similarity[position]))
            if value > best_value:
                best, best_value = i, value
        if best < 0:
            break
        chosen.append(best)
        remaining.remove(best)
        covered |= bigrams[best]
        used += units[best].length + (extra_cost(best) if extra_cost is not None else 0.0)
    return sorted(chosen)
