"""Entities through the real pipelines: companies by legal form, the catalog, decision-maker titles, resolved dates."""

from __future__ import annotations

from datetime import date

import pytest
from spacy.language import Language

from insight.nlp.entities import find_companies, is_decision_maker_title
from insight.nlp.pipelines import analyze, analyze_many
from insight.nlp.types import Entity
from tests.insight.nlp.conftest import CATALOG, REFERENCE


def labelled(entities: list[Entity], label: str) -> list[str]:
    return [entity.text for entity in entities if entity.label == label]


@pytest.mark.usefixtures("nlp_ja")
@pytest.mark.parametrize(
    ("text", "companies"),
    [
        ("株式会社サンプルの田中です。", ["株式会社サンプル"]),
        ("山田製作所株式会社さんとは長い付き合いです。", ["山田製作所株式会社"]),
        ("A社とB社から相見積もりを取っています。", ["A社", "B社"]),
        ("アクメ社の担当者から連絡がありました。", ["アクメ社"]),
        ("(株)テスト商事にも声をかけています。", ["(株)テスト商事"]),
        ("弊社と御社、他社の状況を見て判断します。", []),
        ("社長と社員に共有します。", []),
        ("来月Acme Inc.と契約します。", ["Acme Inc."]),
    ],
)
def test_japanese_companies(text: str, companies: list[str]) -> None:
    assert labelled(analyze(text, "ja").entities, "COMPANY") == companies


@pytest.mark.usefixtures("nlp_en")
@pytest.mark.parametrize(
    ("text", "companies"),
    [
        ("I met the team from Acme Inc. yesterday.", ["Acme Inc."]),
        ("Yesterday Globex Corporation signed.", ["Globex Corporation"]),
        ("Initech, LLC and Umbrella Holdings are both prospects.", ["Initech, LLC", "Umbrella Holdings"]),
    ],
)
def test_english_companies(text: str, companies: list[str]) -> None:
    assert labelled(analyze(text, "en").entities, "COMPANY") == companies


def test_japanese_catalog_names_and_aliases_map_to_the_canonical_name(nlp_ja: Language) -> None:
    text = "セールスフォース社とキントーンを比較していて、HubSpotも見ました。"
    found = [(e.text, e.label, e.canonical, e.source) for e in analyze(text, "ja", catalog=CATALOG).entities]
    assert ("セールスフォース", "COMPETITOR", "Salesforce", "catalog") in found
    assert ("キントーン", "PRODUCT", "kintone", "catalog") in found
    assert ("HubSpot", "COMPETITOR", "HubSpot", "catalog") in found


def test_english_catalog_is_case_insensitive(nlp_en: Language) -> None:
    text = "We use sfdc today and looked at hubspot and Insight Pro."
    entities = analyze(text, "en", catalog=CATALOG).entities
    assert [(e.text, e.canonical) for e in entities if e.source == "catalog"] == [
        ("sfdc", "Salesforce"),
        ("hubspot", "HubSpot"),
        ("Insight Pro", "Insight Pro"),
    ]


def test_without_a_catalog_no_competitors(nlp_en: Language) -> None:
    assert labelled(analyze("We use Salesforce.", "en").entities, "COMPETITOR") == []


@pytest.mark.parametrize(
    ("text", "lang", "titles"),
    [
        ("情報システム部の田中部長が決裁者です。", "ja", ["部長", "決裁者"]),
        ("最終的には代表取締役社長の判断になります。", "ja", ["代表取締役社長"]),
        ("CTOと相談します。", "ja", ["CTO"]),
        ("Our CTO and the VP of Sales decide.", "en", ["CTO", "VP of Sales"]),
        ("The Head of IT and our CFO sign off.", "en", ["Head of IT", "CFO"]),
    ],
)
def test_decision_maker_titles(request: pytest.FixtureRequest, text: str, lang: str, titles: list[str]) -> None:
    request.getfixturevalue(f"nlp_{lang}")
    assert labelled(analyze(text, lang).entities, "TITLE") == titles  # type: ignore[arg-type]


def test_title_helper() -> None:
    assert is_decision_maker_title("営業部長")
    assert is_decision_maker_title("VP of Engineering")
    assert not is_decision_maker_title("エンジニア")


def test_companies_without_spacy() -> None:
    text = "株式会社サンプルとA社"
    assert [text[s:e] for s, e in find_companies(text, "ja")] == ["株式会社サンプル", "A社"]


def test_people_money_and_resolved_dates_in_one_analysis(nlp_ja: Language) -> None:
    text = "株式会社サンプルの田中部長と来週の火曜日に打ち合わせ、予算は500万円、見積もりは月末までに送ります。"
    result = analyze(text, "ja", reference_date=REFERENCE, catalog=CATALOG)
    assert labelled(result.entities, "PERSON") == ["田中"]
    assert labelled(result.entities, "MONEY") == ["500万円"]
    assert [(d.text, d.due) for d in result.dates] == [
        ("来週の火曜日", date(2026, 12, 1)),
        ("月末", date(2026, 11, 30)),
    ]
    assert labelled(result.entities, "DATE") == ["来週の火曜日", "月末"]
    for entity in result.entities:
        assert text[entity.start : entity.end] == entity.text


def test_analyze_many_keeps_order(nlp_en: Language) -> None:
    results = analyze_many(["Call me tomorrow.", "Acme Inc. decides next Friday."], "en", reference_date=REFERENCE)
    assert [[d.due for d in r.dates] for r in results] == [[date(2026, 11, 26)], [date(2026, 12, 4)]]
