"""Session fixtures: each spaCy pipeline loads once for the whole test session."""

from __future__ import annotations

from datetime import date

import pytest
from spacy.language import Language

from insight.nlp.embeddings import Embedder, get_embedder
from insight.nlp.minutes.writer import MinutesUtterance, OfflineMinutesWriter
from insight.nlp.pii import PiiRedactor
from insight.nlp.pipelines import get_nlp
from insight.nlp.types import EntityCatalog

# A Wednesday.
REFERENCE = date(2026, 11, 25)
CATALOG = EntityCatalog.from_lists(
    competitors=["Salesforce|セールスフォース|SFDC", "HubSpot|ハブスポット"],
    products=["kintone|キントーン", "Insight Pro|インサイトプロ"],
)


@pytest.fixture(scope="session")
def nlp_ja() -> Language:
    return get_nlp("ja")


@pytest.fixture(scope="session")
def nlp_en() -> Language:
    return get_nlp("en")


@pytest.fixture(scope="session")
def redactor_ja(nlp_ja: Language) -> PiiRedactor:
    return PiiRedactor("ja", allow_list=["鈴木一郎"], catalog=CATALOG)


@pytest.fixture(scope="session")
def redactor_en(nlp_en: Language) -> PiiRedactor:
    return PiiRedactor("en", allow_list=["Jane Doe"], catalog=CATALOG)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder()


@pytest.fixture(scope="session")
def writer(embedder: Embedder, nlp_ja: Language, nlp_en: Language) -> OfflineMinutesWriter:
    """The offline minutes writer, shared by the minutes tests (the embedder and pipelines load once)."""
    return OfflineMinutesWriter(embedder)


def call(*turns: tuple[str, str]) -> list[MinutesUtterance]:
    """Utterances 101, 102, ... five seconds apart; S1 is the rep, S2 the customer."""
    return [
        MinutesUtterance(
            id=101 + i,
            start=5.0 * i,
            end=5.0 * i + 4.0,
            speaker="S1" if role == "rep" else "S2",
            role="rep" if role == "rep" else "customer",
            text=text,
        )
        for i, (role, text) in enumerate(turns)
    ]
