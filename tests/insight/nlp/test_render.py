"""Counts read as the language says them: "1 mention", "3 mentions", "3回"; one list of sections for the schema
and the rendering."""

from __future__ import annotations

from datetime import date
from typing import get_origin

import pytest

from insight.nlp.minutes.render import labels_for, render_markdown
from insight.nlp.minutes.schemas import SECTIONS, Mention, MinutesDoc, MinutesItem, section_item_type


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


def test_sections_are_the_item_lists_of_the_schema_with_their_headings() -> None:
    lists = [
        name
        for name, info in MinutesDoc.model_fields.items()
        if get_origin(info.annotation) is list and name != "participants"
    ]
    assert [str(s) for s in SECTIONS] == lists
    assert all(issubclass(section_item_type(s), MinutesItem) for s in SECTIONS)
    assert (labels_for("ja")["needs"], labels_for("en")["needs"]) == ("顧客の課題・ニーズ", "Needs and pain points")
    doc = MinutesDoc(language="en", reference_date=date(2026, 11, 25), products=[mention("Azure", 1)])
    assert "## Products\n\n- **Azure (1 mention)** — Azure came up. (0:00)" in render_markdown(doc)
