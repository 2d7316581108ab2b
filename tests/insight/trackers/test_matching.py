"""Tracker matching on real sentences (../shared/data/conversations): exact after NFKC, width and case folding,
semantic by cosine to the phrase embeddings above the model's calibrated threshold, per side."""

from __future__ import annotations

import numpy as np
import pytest

from insight.model_holder import shared_models
from insight.nlp.embeddings import MINILM_MODEL, Embedder, build_embedder
from insight.trackers.service import find_hits, fingerprint, normalize
from insight.trackers.types import SpokenText, TrackerSpec

PRICING = TrackerSpec(1, "pricing", "any", ("価格", "値段", "見積もり", "price", "quote", "cost"))
CUSTOMER_PRICING = TrackerSpec(2, "customer pricing", "customer", PRICING.phrases)
EXACT_ONLY = TrackerSpec(3, "pricing exact", "any", PRICING.phrases, semantic=False)


@pytest.fixture(scope="module")
def use() -> Embedder:
    return shared_models().embedder()


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return build_embedder(MINILM_MODEL)


def test_normalisation_folds_width_case_and_compatibility_forms() -> None:
    assert normalize("ＰＲＩＣＥ　の見積もり") == "price の見積もり"
    assert normalize("ｶｶｸ") == normalize("カカク")
    assert normalize("  Quote\n please ") == "quote please"


def test_exact_matches_are_normalised_and_keep_to_words() -> None:
    utterances = [
        SpokenText(1, "そうですね、思ってた値段じゃなかったので次でいいかなっと", "customer"),  # real chat line
        SpokenText(2, "Could you send a ＱＵＯＴＥ by Friday?", "customer"),  # full-width letters
        SpokenText(3, "I bought a costume for the party", "customer"),  # "cost" inside a word
        SpokenText(4, "If I donate money, it doesn't cost me anything? ", "rep"),  # real dialogue line
    ]
    hits = find_hits([EXACT_ONLY], utterances)
    assert [(h.utterance_id, h.phrase, h.kind, h.score) for h in hits] == [
        (1, "値段", "exact", 1.0),
        (2, "quote", "exact", 1.0),
        (4, "cost", "exact", 1.0),
    ]
    assert [h.side for h in hits] == ["customer", "customer", "rep"]


def test_sides_count_only_their_speakers() -> None:
    utterances = [
        SpokenText(1, "価格はいくらですか", "customer"),
        SpokenText(2, "価格表をお送りします", "rep"),
        SpokenText(3, "価格の件ですが", "other"),
    ]
    hits = find_hits([PRICING, CUSTOMER_PRICING], utterances)
    counts = {t: sum(1 for h in hits if h.tracker_id == t) for t in (1, 2)}
    assert counts == {1: 3, 2: 1}
    assert [h.utterance_id for h in hits if h.tracker_id == 2] == [1]


def test_semantic_match_with_the_multilingual_model(use: Embedder) -> None:
    texts = [
        "なんせ、安い",  # real chat line: "it's cheap, after all" (no pricing phrase in it)
        "今日の天気はどうでしたか？",  # real chat line: "how was the weather today?"
        "雨が降って、何か涼しくなりましたね。",
    ]
    utterances = [SpokenText(i + 1, t, "customer") for i, t in enumerate(texts)]
    vectors = use.encode(texts)
    hits = find_hits([PRICING], utterances, vectors, phrase_vectors=use.encode, model=use.name)
    assert [(h.utterance_id, h.kind) for h in hits] == [(1, "semantic")]
    assert 0.45 <= hits[0].score <= 1.0
    # The same utterances with semantic matching off: nothing.
    assert find_hits([EXACT_ONLY], utterances, vectors, phrase_vectors=use.encode, model=use.name) == []
    # A tracker's own threshold wins over the model's.
    strict = TrackerSpec(4, "strict", "any", PRICING.phrases, threshold=0.99)
    assert find_hits([strict], utterances, vectors, phrase_vectors=use.encode, model=use.name) == []


def test_english_only_model_leaves_japanese_to_exact_matching(minilm: Embedder) -> None:
    texts = [
        "I'll put you down for 1.25, you know you can afford it",  # real dialogue line
        "how's the weather?",
        "なんせ、安い",
    ]
    utterances = [SpokenText(i + 1, t, "customer") for i, t in enumerate(texts)]
    hits = find_hits([PRICING], utterances, minilm.encode(texts), phrase_vectors=minilm.encode, model=minilm.name)
    assert [(h.utterance_id, h.kind, h.phrase) for h in hits] == [(1, "semantic", "price")]


def test_zero_vectors_never_match(use: Embedder) -> None:
    utterances = [SpokenText(1, "", "customer")]
    vectors = np.zeros((1, 512), dtype=np.float32)
    low = TrackerSpec(5, "low", "any", ("price",), threshold=0.0001)
    assert find_hits([low], utterances, vectors, phrase_vectors=use.encode, model=use.name) == []


def test_fingerprint_changes_with_trackers_and_model() -> None:
    base = fingerprint([PRICING], "use-multilingual-v3")
    assert base == fingerprint([PRICING], "use-multilingual-v3")
    assert base != fingerprint([PRICING], MINILM_MODEL)
    assert base != fingerprint([PRICING, CUSTOMER_PRICING], "use-multilingual-v3")
    changed = TrackerSpec(1, "pricing", "any", (*PRICING.phrases, "discount"))
    assert base != fingerprint([changed], "use-multilingual-v3")
