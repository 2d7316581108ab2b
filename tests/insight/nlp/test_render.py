"""Counts read as the language says them: "1 mention", "3 mentions", "3回"."""

from __future__ import annotations

from datetime import date

import pytest

from insight.nlp.minutes.render import render_markdown
from insight.nlp.minutes.schemas import Mention, MinutesDoc


def mention(name: str, count: int) -> Mention:
    return Mention(text=f"{name} came up.", utterance_ids=[1], start=0.0, confidence=0.8, name=name, mentions=count)


@pytest.mark.parametrize(
    ("language", "counts", "lines"),
    [
        ("en", (1, 3), ["Shopify (1 mention)", "Azure (3 mentions)"]),
        ("ja", (1, 3), ["Shopify (1回)", "Azure (3回)"]),
    ],
)
def test_mentions_are_counted_in_the_call_language(language: str, counts: tuple[int, int], lines: list[str]) -> None:
    doc = MinutesDoc(
        language=language,
        reference_date=date(2026, 11, 30),
        products=[mention("Shopify", counts[0]), mention("Azure", counts[1])],
    )
    markdown = render_markdown(doc)
    for line in lines:
        assert f"**{line}**" in markdown
    assert "1 mentions" not in markdown
