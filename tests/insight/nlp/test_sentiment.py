"""Sentiment signs on clear sales utterances, the sales-domain rules and competitor flipping."""

from __future__ import annotations

import pytest

from insight.nlp.minutes.sentiment import get_sentiment_scorer, overall_sentiment, score_utterances
from insight.nlp.types import SentimentScore
from tests.insight.nlp.conftest import CATALOG

POSITIVE, NEGATIVE, NEUTRAL = 1, -1, 0

JA_CASES = [
    ("この製品はとても使いやすいですね。ぜひ導入したいです。", POSITIVE),
    ("前向きに検討させていただきます。", POSITIVE),
    ("サポートが手厚くて安心しました。", POSITIVE),
    ("効果が高いのはよく分かりました。", POSITIVE),
    ("思ったほど高くはないですね。", POSITIVE),
    ("御社の方が他社より使いやすいです。", POSITIVE),
    ("正直、価格がちょっと高いですね。", NEGATIVE),
    ("デモは期待外れでした。", NEGATIVE),
    ("今回は見送らせてください。", NEGATIVE),
    ("操作が難しくて現場が使いこなせるか不安です。", NEGATIVE),
    ("セールスフォースの方が使いやすかったです。", NEGATIVE),
    ("他社の方が安いんですよね。", NEGATIVE),
    ("来週の火曜日にまた連絡します。", NEUTRAL),
]

EN_CASES = [
    ("This looks great, we'd love to move forward.", POSITIVE),
    ("The demo was really impressive and the team loved it.", POSITIVE),
    ("Your product is better than the competitor's.", POSITIVE),
    ("Honestly it's too expensive for us.", NEGATIVE),
    ("The demo was disappointing.", NEGATIVE),
    ("It's way over our budget.", NEGATIVE),
    ("I'm not convinced it fits our process.", NEGATIVE),
    ("HubSpot was much easier to use.", NEGATIVE),
    ("SFDC is cheaper.", NEGATIVE),
    ("Let's talk again next Tuesday.", NEUTRAL),
]


def sign(score: SentimentScore) -> int:
    return 0 if score.score == 0 else (1 if score.score > 0 else -1)


@pytest.mark.parametrize(("text", "expected"), JA_CASES)
def test_japanese_sign(text: str, expected: int) -> None:
    result = get_sentiment_scorer("ja", catalog=CATALOG).score(text)
    assert sign(result) == expected, result.cues
    assert -1.0 <= result.score <= 1.0


@pytest.mark.parametrize(("text", "expected"), EN_CASES)
def test_english_sign(text: str, expected: int) -> None:
    result = get_sentiment_scorer("en", catalog=CATALOG).score(text)
    assert sign(result) == expected, result.cues
    assert -1.0 <= result.score <= 1.0


def test_competitor_praise_is_only_flipped_for_catalog_competitors() -> None:
    text = "セールスフォースの方が使いやすかったです。"
    assert get_sentiment_scorer("ja").score(text).score > 0
    flipped = get_sentiment_scorer("ja", catalog=CATALOG).score(text)
    assert flipped.score < 0
    assert "competitor-flip" in flipped.cues


def test_overall_weighs_by_evidence() -> None:
    scores = score_utterances(
        ["はい。", "そうですね。", "価格が高すぎますし、期待外れでした。", "サポートは良いですね。"], "ja"
    )
    overall = overall_sentiment(scores)
    assert overall.score < 0
    assert (overall.positive_utterances, overall.negative_utterances, overall.neutral_utterances) == (1, 1, 2)


def test_overall_of_nothing_is_neutral() -> None:
    assert overall_sentiment([]).score == 0.0


def test_overall_shrinks_thin_evidence_toward_neutral() -> None:
    one = overall_sentiment(score_utterances(["Great."], "en"))
    # One cue: a fourth of the way (three neutral pseudo-cues), with that confidence; not +1.00.
    assert one.cues == 1
    assert one.score == pytest.approx(score_utterances(["Great."], "en")[0].score / 4, abs=1e-4)
    assert one.confidence == 0.25
    many = overall_sentiment(score_utterances(["使いやすいですね。"] * 9, "ja"))
    assert many.cues >= 9
    assert many.score >= 0.75
    assert many.confidence >= 0.75
