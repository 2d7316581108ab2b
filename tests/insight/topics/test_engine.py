"""The topic engine on real conversations: Japanese content words, cross-lingual topics, stable ids, assignment."""

from __future__ import annotations

import numpy as np
import pytest

from insight.nlp.embeddings import Embedder
from insight.topics import engine
from insight.topics.matching import KnownTopic, match_topics
from insight.topics.types import FittedTopic, Method, TopicOptions
from insight.topics.vectorizer import MAX_CHUNK_BYTES, ContentWordTokenizer, chunks, is_substantive
from tests.insight.topics.conftest import PER_LANGUAGE, Corpus, english_utterances, japanese_utterances

pytestmark = pytest.mark.slow

PARTICLES = {"は", "が", "を", "に", "で", "と", "も", "の", "ね", "よ", "か", "って", "です", "ます", "た"}
FILLERS = {"えー", "えーと", "あの", "あのー", "まあ", "はい", "um", "uh", "yeah"}


def test_the_japanese_vectorizer_keeps_normalised_content_words_only() -> None:
    words = ContentWordTokenizer()("えーと、あのー、まあ今日は涼しいですね。明日も雨が降るって聞きました。はい。")
    assert words == ["今日", "涼しい", "明日", "雨", "降る", "聞く"]
    assert not set(words) & (PARTICLES | FILLERS)


def test_the_vectorizer_keeps_english_words_as_written_and_drops_fillers() -> None:
    words = ContentWordTokenizer()("Um, yeah, uh, the pricing of the premium plan is too high. 価格が高いです。")
    assert words == ["pricing", "premium", "plan", "high", "価格", "高い"]


def test_long_text_is_cut_under_sudachis_limit() -> None:
    text = "価格についてご相談があります。" * 8000  # about 360 kB
    pieces = list(chunks(text))
    assert len(pieces) > 1
    assert all(len(p.encode("utf-8")) <= MAX_CHUNK_BYTES for p in pieces)
    assert "".join(pieces) == text
    assert ContentWordTokenizer()(text).count("価格") == 8000


@pytest.mark.parametrize("text", ["はい", "そうですね", "うん、うん。", "Yeah.", "uh huh, okay", "   "])
def test_backchannels_are_not_substantive(text: str) -> None:
    assert not is_substantive(text)


@pytest.mark.parametrize("text", ["価格がちょっと高いと思います", "The price is too high for us."])
def test_sentences_are_substantive(text: str) -> None:
    assert is_substantive(text)


# Real sentences of the data about the same thing, one Japanese and one English: the weather (rain), and food.
SAME_THING = [
    ("雨だと外に行きたくないですよね", "We should be getting a lot of rain soon because of a tropical storm coming up"),
    (
        "こちらも雨ですね。今降っています。最近天気が崩れがちだなあと思いませんか？",
        "Oh nice, it's usually super humid and hot outside here but the rain has made it cool down and that is so "
        "nice.",
    ),
    ("イギリス料理はあまりおいしくないって聞きます", "I made turkey burgers for dinner. Do you like to cook?"),
]
DONATION = "How much would you like to donate to Save the Children? Your donation will be deducted from your payment."


@pytest.fixture(scope="module")
def fitted(corpus: Corpus) -> engine.FitResult:
    return engine.fit_topics(corpus.texts, corpus.matrix, TopicOptions())


def test_a_japanese_and_an_english_utterance_about_the_same_thing_share_a_topic(
    corpus: Corpus, fitted: engine.FitResult, embedder: Embedder
) -> None:
    centroids = np.vstack([t.centroid for t in fitted.topics])
    for ja, en in SAME_THING:
        found = engine.assign(embedder.encode([ja, en]), centroids, fitted.threshold)
        assert found.positions[0] >= 0, ja
        assert found.positions[0] == found.positions[1], (ja, en, found)
        # The topic holds utterances of both languages in the fitted corpus.
        members = {corpus.languages[i] for i in np.flatnonzero(fitted.labels == found.positions[0])}
        assert members == {"ja", "en"}
    weather = engine.assign(embedder.encode([SAME_THING[0][0]]), centroids, fitted.threshold).positions[0]
    donation = engine.assign(embedder.encode([DONATION]), centroids, fitted.threshold).positions[0]
    assert donation >= 0
    assert donation != weather
    keywords = {w for w, _ in fitted.topics[weather].keywords}
    assert keywords & {"雨", "天気", "涼しい", "rain", "humid", "weather"}, keywords


def test_a_fit_is_reproducible_and_reports_its_outliers(corpus: Corpus, fitted: engine.FitResult) -> None:
    again = engine.fit_topics(corpus.texts, corpus.matrix, TopicOptions())
    assert np.array_equal(again.labels, fitted.labels)
    assert [t.keywords for t in again.topics] == [t.keywords for t in fitted.topics]
    assert 8 <= len(fitted.topics) <= 60
    assert 0.0 <= fitted.outlier_share < 0.1
    assert sum(t.size for t in fitted.topics) + int(np.sum(fitted.labels < 0)) == len(corpus.texts)
    for topic in fitted.topics:
        assert topic.keywords
        assert abs(float(np.linalg.norm(topic.centroid)) - 1.0) < 1e-4


def test_hdbscan_outliers_are_reduced_by_embeddings(corpus: Corpus) -> None:
    result = engine.fit_topics(corpus.texts, corpus.matrix, TopicOptions(method=Method.pca_hdbscan))
    assert result.outliers_before > 0
    assert int(np.sum(result.labels < 0)) < result.outliers_before
    assert result.outlier_share < 0.5
    assert len(result.topics) >= 2


def test_a_refit_on_ten_percent_more_utterances_keeps_the_topic_ids(
    corpus: Corpus, fitted: engine.FitResult, embedder: Embedder
) -> None:
    n_new = PER_LANGUAGE // 10
    ja = [t for t in japanese_utterances() if is_substantive(t)][PER_LANGUAGE : PER_LANGUAGE + n_new]
    en = [t for t in english_utterances() if is_substantive(t)][PER_LANGUAGE : PER_LANGUAGE + n_new]
    texts = corpus.texts + ja + en
    matrix = np.vstack([corpus.matrix, embedder.encode(ja + en)])
    known = [KnownTopic(100 + i, t.centroid, [w for w, _ in t.keywords]) for i, t in enumerate(fitted.topics)]
    options = TopicOptions()
    refit = engine.fit_topics(texts, matrix, options, previous_centroids=np.vstack([k.centroid for k in known]))
    match = match_topics(known, refit.topics, options.match_similarity)
    assert len(match.kept) >= 0.9 * len(known), match
    # Every earlier topic is accounted for once: continued, or retired (merged or not).
    assert sorted([*match.kept.values(), *match.retired]) == sorted(k.id for k in known)
    assert sorted([*match.kept, *match.split, *match.new]) == list(range(len(refit.topics)))


def test_matching_records_new_merged_and_split_topics() -> None:
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(16, 6)))[0].T.astype(np.float32)  # 6 orthonormal directions
    a, b, c, d, e, f = basis

    def fitted(v: np.ndarray, words: list[str]) -> FittedTopic:
        return FittedTopic([(w, 1.0) for w in words], (v / np.linalg.norm(v)).astype(np.float32), 10)

    previous = [
        KnownTopic(1, a, ["price", "cost"]),
        KnownTopic(2, b, ["contract"]),
        KnownTopic(3, (b + 0.4 * c) / np.linalg.norm(b + 0.4 * c), ["contract", "term"]),
        KnownTopic(4, d, ["security"]),
    ]
    new = [
        fitted(a, ["price", "cost"]),  # kept (1)
        fitted(b + 0.1 * c, ["contract"]),  # kept (2), and 3 merged into it
        fitted(d + 0.1 * e, ["security", "audit"]),  # kept (4)
        fitted(d + 0.35 * f, ["security", "sso"]),  # split off 4
        fitted(e, ["onboarding"]),  # new
    ]
    match = match_topics(previous, new, threshold=0.8)
    assert match.kept == {0: 1, 1: 2, 2: 4}
    assert match.merged == {1: [3]}
    assert match.split == {3: 4}
    assert match.new == [4]
    assert match.retired == [3]


def test_an_utterance_far_from_every_topic_is_an_outlier(fitted: engine.FitResult) -> None:
    centroids = np.vstack([t.centroid for t in fitted.topics])
    far = -centroids.mean(axis=0, keepdims=True)
    found = engine.assign(far, centroids, fitted.threshold)
    assert found.positions.tolist() == [-1]
    near = engine.assign(centroids[:3], centroids, fitted.threshold)
    assert near.positions.tolist() == [0, 1, 2]
