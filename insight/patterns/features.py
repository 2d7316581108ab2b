"""Feature sources for win patterns: what a deal's calls contain, as columns for the engine, and their evidence.

A source turns the facts of each decided deal (:class:`DealFacts`: the customer's utterances, talk metrics and
minutes of its calls) into feature columns (:class:`~insight.patterns.engine.FeatureColumn`) and, for one feature
and one deal, into evidence: utterances with call id, time and the redacted quote. New sources (trackers, topics)
implement :class:`FeatureSource` and are listed by the service.

* :class:`LexicalSource`: content words the customer said (a simple tokenizer: Latin words of three letters or
  more without stop words; runs of kanji or katakana for Japanese). A stand-in for topics while those are absent.
* :class:`TalkMetricsSource`: numeric talk metrics of ``call_metrics`` (talk ratio, questions, longest monologue ...).
* :class:`MarkerSource`: tracker hits (``tracker:<name>``) and the customer side's topics (``topic:<id> <label>``),
  one binary feature per tracker or topic found in enough deals.
* :class:`MinutesSource`: minutes fields (next action agreed, budget discussed, competitor mentioned, decision maker
  named, objection raised).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from insight.patterns.engine import FeatureColumn


@dataclass(frozen=True)
class Quote:
    """One utterance as evidence: where it is and what was said (redacted; None when no redacted text exists)."""

    call_id: int | None
    utterance_id: int | None
    start: float
    text: str | None
    value: float | None = None


@dataclass(frozen=True)
class DealFacts:
    """What a decided deal's calls hold, already reduced to what feature sources read.

    Attributes:
        deal_id: The deal (or, for a corpus, the dialogue) this row stands for.
        won: The outcome.
        segment: Its label under the chosen segmentation.
        customer_utterances: The customer side's utterances of every call of the deal (redacted text).
        metrics: One ``call_metrics.metrics`` dict per call, with its call id.
        minutes: One minutes document (redacted form, as stored JSON) per call, with its call id.
        markers: Named things found in single utterances by other domains (``tracker:<name>``,
            ``topic:<id> <label>``), each with the utterance it was found in.
    """

    deal_id: int | str
    won: bool
    segment: str
    customer_utterances: list[Quote] = field(default_factory=list)
    metrics: list[tuple[int, Mapping[str, Any]]] = field(default_factory=list)
    minutes: list[tuple[int, Mapping[str, Any]]] = field(default_factory=list)
    markers: list[tuple[str, Quote]] = field(default_factory=list)


class FeatureSource(Protocol):
    """Something that gives feature columns for decided deals and evidence for one feature in one deal."""

    name: str

    def columns(self, deals: Sequence[DealFacts]) -> list[FeatureColumn]:
        """One column per feature this source found, one value per deal in ``deals``' order."""
        ...

    def evidence(self, feature: str, deal: DealFacts, limit: int) -> list[Quote]:
        """Up to ``limit`` utterances of ``deal`` that show ``feature``."""
        ...


_LATIN = re.compile(r"[a-z][a-z']{2,}")
# Kanji runs (with the iteration mark) and katakana runs: the content words of Japanese without a morphological
# analyser; hiragana is mostly grammar.
_JAPANESE = re.compile(r"[\u4e00-\u9fff\u3005]{2,}|[\u30a0-\u30ff\u30fc]{2,}")
_STOP = frozenset(
    """the and for are but not you your yours with this that there their they them then than have has had was were
    will would could should can about what when where which who whom how why all any each few more most other some
    such only own same too very just it's that's i'm i've i'll i'd you're we're they're been being into from out
    over under again further once here both also our ours its his her hers him she he we me my mine myself
    yourself did does doing one two get got let way say said""".split()
)
# Yes, no, sure, thanks and the like are kept: in a sales conversation they are what the customer commits with.


def tokens(text: str) -> set[str]:
    """The content words of ``text`` (lowercased Latin words without stop words, kanji and katakana runs)."""
    lowered = text.lower()
    words = {w.strip("'") for w in _LATIN.findall(lowered)}
    words = {w for w in words if len(w) >= 3 and w not in _STOP}
    words.update(_JAPANESE.findall(text))
    return words


class LexicalSource:
    """Content words the customer said: a binary feature ``word:<token>`` per frequent word.

    Only words said in at least ``min_deals`` deals and missing from at least as many are kept (others cannot reach
    the support of a test), and of those the ``max_features`` most frequent: every kept word is a test in the
    run's multiple-testing correction, so fewer, better-supported words keep the power.
    """

    name = "lexical"

    def __init__(self, *, min_deals: int = 10, max_features: int = 50) -> None:
        """Keep words of at least ``min_deals`` deals, at most ``max_features`` of them."""
        self.min_deals = min_deals
        self.max_features = max_features

    def columns(self, deals: Sequence[DealFacts]) -> list[FeatureColumn]:
        """A 0/1 column per kept word."""
        per_deal = [set().union(*(tokens(u.text) for u in d.customer_utterances if u.text)) for d in deals]
        counts = Counter(w for words in per_deal for w in words)
        n = len(deals)
        kept = [w for w, c in counts.items() if c >= self.min_deals and n - c >= self.min_deals]
        kept.sort(key=lambda w: (-counts[w], w))
        return [
            FeatureColumn(f"word:{w}", "binary", np.array([1.0 if w in words else 0.0 for words in per_deal]))
            for w in kept[: self.max_features]
        ]

    def evidence(self, feature: str, deal: DealFacts, limit: int) -> list[Quote]:
        """The customer's utterances that contain the word."""
        word = feature.removeprefix("word:")
        return [u for u in deal.customer_utterances if u.text and word in tokens(u.text)][:limit]


def _customer_questions(metrics: Mapping[str, Any]) -> float | None:
    questions = metrics.get("questions")
    return float(questions.get("customer", 0)) if isinstance(questions, Mapping) else None


def _rep_questions(metrics: Mapping[str, Any]) -> float | None:
    questions = metrics.get("questions")
    return float(questions.get("rep", 0)) if isinstance(questions, Mapping) else None


def _number(key: str) -> Callable[[Mapping[str, Any]], float | None]:
    def read(metrics: Mapping[str, Any]) -> float | None:
        value = metrics.get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    return read


# Talk metrics (insight.transcribe.talk_metrics) used as numeric features: the deal's value is the mean over calls.
TALK_METRICS: dict[str, Callable[[Mapping[str, Any]], float | None]] = {
    "talk_ratio": _number("talk_ratio"),
    "longest_monologue_s": _number("longest_monologue_s"),
    "longest_customer_story_s": _number("longest_customer_story_s"),
    "interactivity_per_min": _number("interactivity_per_min"),
    "interruptions": _number("interruptions"),
    "rep_response_pause_s": _number("rep_response_pause_s"),
    "rep_questions": _rep_questions,
    "customer_questions": _customer_questions,
}


class TalkMetricsSource:
    """Talk metrics of the deal's calls as numeric features ``metric:<name>`` (mean over the calls)."""

    name = "talk_metrics"

    def _value(self, key: str, deal: DealFacts) -> float:
        read = TALK_METRICS[key]
        values = [v for _, m in deal.metrics if (v := read(m)) is not None]
        return float(np.mean(values)) if values else math.nan

    def columns(self, deals: Sequence[DealFacts]) -> list[FeatureColumn]:
        """A numeric column per metric that at least one deal has (NaN where a deal has none)."""
        out = []
        for key in TALK_METRICS:
            values = np.array([self._value(key, d) for d in deals])
            if (~np.isnan(values)).sum() >= 2:
                out.append(FeatureColumn(f"metric:{key}", "numeric", values))
        return out

    def evidence(self, feature: str, deal: DealFacts, limit: int) -> list[Quote]:
        """The calls and their value of the metric (a metric is about a whole call, so there is no quote)."""
        read = TALK_METRICS.get(feature.removeprefix("metric:"))
        if read is None:
            return []
        return [
            Quote(call_id=call_id, utterance_id=None, start=0.0, text=None, value=value)
            for call_id, m in deal.metrics
            if (value := read(m)) is not None
        ][:limit]


def _items(doc: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = doc.get(key)
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


# Minutes fields as binary features: which items of a minutes document (insight.nlp.minutes.schemas) count.
MINUTES_FIELDS: dict[str, Callable[[Mapping[str, Any]], list[Mapping[str, Any]]]] = {
    "next_action_agreed": lambda doc: _items(doc, "next_actions"),
    "budget_discussed": lambda doc: [i for i in _items(doc, "budget") if i.get("refers_to") == "budget"],
    "competitor_mentioned": lambda doc: _items(doc, "competitors"),
    "decision_maker_named": lambda doc: _items(doc, "decision_makers"),
    "objection_raised": lambda doc: _items(doc, "objections"),
    "need_stated": lambda doc: _items(doc, "needs"),
}


class MinutesSource:
    """Minutes fields as binary features ``minutes:<field>``: the deal has it when any call's minutes do."""

    name = "minutes"

    def columns(self, deals: Sequence[DealFacts]) -> list[FeatureColumn]:
        """A 0/1 column per field (NaN for deals without any minutes)."""
        out = []
        for key, items in MINUTES_FIELDS.items():
            values = np.array(
                [float(any(items(doc) for _, doc in d.minutes)) if d.minutes else math.nan for d in deals]
            )
            if (~np.isnan(values)).any():
                out.append(FeatureColumn(f"minutes:{key}", "binary", values))
        return out

    def evidence(self, feature: str, deal: DealFacts, limit: int) -> list[Quote]:
        """The minutes items of the field, as the (redacted) minutes state them, with their first utterance."""
        items = MINUTES_FIELDS.get(feature.removeprefix("minutes:"))
        if items is None:
            return []
        out = []
        for call_id, doc in deal.minutes:
            for item in items(doc):
                ids = item.get("utterance_ids") or [None]
                out.append(
                    Quote(
                        call_id=call_id,
                        utterance_id=ids[0] if isinstance(ids[0], int) else None,
                        start=float(item.get("start", 0.0)),
                        text=str(item.get("text")) if item.get("text") else None,
                    )
                )
        return out[:limit]


class MarkerSource:
    """Markers of one kind (``tracker`` or ``topic``) as binary features: the deal has the marker when any of its
    calls' utterances carries it. Markers found in fewer than ``min_deals`` deals (or missing from fewer) are left
    out: they could not reach a test's support.
    """

    def __init__(self, kind: str, *, min_deals: int = 5) -> None:
        """Features from the markers named ``<kind>:...``."""
        self.name = kind
        self.prefix = f"{kind}:"
        self.min_deals = min_deals

    def columns(self, deals: Sequence[DealFacts]) -> list[FeatureColumn]:
        """A 0/1 column per marker of this kind."""
        per_deal = [{key for key, _ in d.markers if key.startswith(self.prefix)} for d in deals]
        counts = Counter(key for keys in per_deal for key in keys)
        n = len(deals)
        kept = sorted(k for k, c in counts.items() if c >= self.min_deals and n - c >= self.min_deals)
        return [
            FeatureColumn(key, "binary", np.array([1.0 if key in keys else 0.0 for keys in per_deal])) for key in kept
        ]

    def evidence(self, feature: str, deal: DealFacts, limit: int) -> list[Quote]:
        """The utterances the marker was found in."""
        return [quote for key, quote in deal.markers if key == feature][:limit]
