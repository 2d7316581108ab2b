"""Result and option types of the NLP layer: small frozen dataclasses, no spaCy and no ORM.

Offsets are character offsets into the text that was analysed (``text[start:end]``), so they can be stored beside an
utterance and turned into evidence links.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")


class EntityLabel(StrEnum):
    """Labels the NLP layer reports; model labels (GiNZA's extended set, OntoNotes) are mapped onto these."""

    PERSON = "PERSON"
    COMPANY = "COMPANY"  # an organisation named by a legal form: 〜社, 株式会社〜, Acme Inc.
    ORG = "ORG"  # any other organisation the model found
    COMPETITOR = "COMPETITOR"  # from the configured catalog
    PRODUCT = "PRODUCT"  # from the configured catalog
    TITLE = "TITLE"  # a decision-maker title: 部長, 社長, CTO, VP of Sales
    MONEY = "MONEY"
    DATE = "DATE"
    LOCATION = "LOCATION"


@dataclass(frozen=True)
class CatalogEntry:
    """One competitor or product with the other names it goes by (``aliases``), matched case-insensitively."""

    name: str
    label: Literal[EntityLabel.COMPETITOR, EntityLabel.PRODUCT] = EntityLabel.COMPETITOR
    aliases: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        """The name followed by its aliases: every spelling that matches this entry."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class EntityCatalog:
    """Competitors and products to recognise, passed in as data (settings or API), hashable so it can be cached."""

    entries: tuple[CatalogEntry, ...] = ()

    @classmethod
    def from_lists(
        cls, competitors: tuple[str, ...] | list[str] = (), products: tuple[str, ...] | list[str] = ()
    ) -> EntityCatalog:
        """Build a catalog from plain strings; ``"Salesforce|セールスフォース|SFDC"`` gives a name with two aliases."""

        def parse(item: str, label: Literal[EntityLabel.COMPETITOR, EntityLabel.PRODUCT]) -> CatalogEntry | None:
            names = [part.strip() for part in item.split("|") if part.strip()]
            if not names:
                return None
            return CatalogEntry(name=names[0], label=label, aliases=tuple(names[1:]))

        entries = [parse(item, EntityLabel.COMPETITOR) for item in competitors]
        entries += [parse(item, EntityLabel.PRODUCT) for item in products]
        return cls(entries=tuple(entry for entry in entries if entry is not None))

    @property
    def competitor_terms(self) -> tuple[str, ...]:
        """Every spelling of every competitor in the catalog."""
        return tuple(term for entry in self.entries if entry.label == EntityLabel.COMPETITOR for term in entry.terms)

    def __bool__(self) -> bool:
        return bool(self.entries)


@dataclass(frozen=True)
class Entity:
    """A named entity with its offsets; ``canonical`` is the catalog name for competitors and products."""

    text: str
    label: str
    start: int
    end: int
    canonical: str | None = None
    source: Literal["model", "rule", "catalog", "date"] = "model"


@dataclass(frozen=True)
class DateMention:
    """A date expression and the absolute dates it stands for.

    A single day has ``date_from == date_to``; a period (来月, next week, 今週中) spans several days. A due date is
    ``date_to``: "by next week" is met on the last working day of next week.
    """

    text: str
    start: int
    end: int
    date_from: date
    date_to: date

    @property
    def is_range(self) -> bool:
        """Whether the mention spans more than one day."""
        return self.date_from != self.date_to

    @property
    def due(self) -> date:
        """The due date the mention stands for: its last day."""
        return self.date_to


class PiiKind(StrEnum):
    """Kinds of personal data the redactor finds; stored with each span."""

    PHONE = "phone"
    EMAIL = "email"
    CREDIT_CARD = "credit_card"
    MY_NUMBER = "my_number"
    POSTAL_CODE = "postal_code"
    ADDRESS = "address"
    PERSON = "person"
    DATE_OF_BIRTH = "date_of_birth"
    BANK_ACCOUNT = "bank_account"
    SSN = "ssn"


@dataclass(frozen=True)
class PiiSpan:
    """One piece of personal data: where it was in the original text and what replaced it."""

    kind: PiiKind
    start: int
    end: int
    original: str
    placeholder: str


@dataclass(frozen=True)
class Redaction:
    """Redacted text plus the spans that were replaced (offsets into the original text, in order)."""

    text: str
    spans: tuple[PiiSpan, ...] = field(default=())

    @property
    def kinds(self) -> frozenset[PiiKind]:
        """The kinds of personal data that were replaced."""
        return frozenset(span.kind for span in self.spans)


@dataclass(frozen=True)
class SentimentScore:
    """Polarity of one utterance in [-1, 1] (0 = neutral or no evidence) and the cues behind it."""

    score: float
    positive: int = 0
    negative: int = 0
    cues: tuple[str, ...] = ()

    @property
    def weight(self) -> int:
        """The number of polar cues found (positive plus negative); 0 means no evidence."""
        return self.positive + self.negative
