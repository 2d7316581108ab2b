"""Entity rules GiNZA and the English model lack, the configurable catalog, and the mapping onto our labels.

- Companies named by their legal form: 〜社, 株式会社〜 / 〜株式会社 / (株)〜, "Acme Inc.", "Globex Corp.".
- Decision-maker titles: 部長, 社長, 取締役, CTO, "VP of Sales", "Head of IT".
- Competitors and products from an :class:`~insight.nlp.types.EntityCatalog`, through a spaCy ``EntityRuler`` built per
  catalog (cheap) and applied after the cached pipeline (expensive), so one loaded model serves every catalog.

The rules run as regular expressions over the text rather than token patterns: SudachiPy splits セールスフォース社
into three tokens and merges others, and a character rule does not care.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.pipeline import EntityRuler
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from insight.nlp.text import fold_width
from insight.nlp.types import DateMention, Entity, EntityCatalog, EntityLabel, Lang

RULES_COMPONENT = "insight_entity_rules"

# --- companies -----------------------------------------------------------------------------------------------------

_JA_LEGAL = r"(?:株式会社|有限会社|合同会社|合資会社|\(株\)|（株）|㈱|\(有\)|（有）|㈲)"
_JA_NAME = r"[一-龥々〆ァ-ヶーA-Za-z0-9&＆・.]{1,24}"
_JA_FOREIGN_NAME = r"[ァ-ヶーA-Za-z0-9&＆・.][ァ-ヶーA-Za-z0-9&＆・. ]{0,23}"
# 御社, 弊社, 他社, 会社, 本社, 入社 ...: words ending in 社 that are not a company's name.
_JA_NOT_COMPANY_END = set("他自弊御貴当各同全本支会入出退来帰在商神新子親")
_JA_GENERIC_COMPANY = {"出版", "新聞", "通信", "旅行", "競合", "取引", "関連", "外資", "大手", "上場", "広告", "保険"}

_EN_LEGAL = (
    r"(?:Inc\.?|Incorporated|Corp\.?|Corporation|Co\.,?\s+Ltd\.?|Ltd\.?|Limited|LLC|L\.L\.C\.|LLP|GmbH|AG|S\.A\.|"
    r"PLC|plc|K\.K\.|Pty\.?\s+Ltd\.?|Holdings)"
)
# ASCII word boundaries: \b finds none between "CTO" and "と", Japanese letters being word characters too.
_B = r"(?<![A-Za-z0-9])"
_E = r"(?![A-Za-z0-9])"
_EN_COMPANY = re.compile(rf"{_B}(?:[A-Z0-9][A-Za-z0-9&'.-]*\s+){{0,4}}[A-Z0-9][A-Za-z0-9&'.-]*,?\s+{_EN_LEGAL}{_E}")
# Capitalised words that start sentences and are not part of a company name.
_EN_LEADING_NOISE = {
    "a",
    "also",
    "and",
    "as",
    "at",
    "but",
    "by",
    "for",
    "from",
    "hi",
    "hello",
    "i",
    "in",
    "like",
    "no",
    "ok",
    "okay",
    "our",
    "so",
    "thanks",
    "then",
    "today",
    "well",
    "we",
    "with",
    "yes",
    "yesterday",
}

_JA_COMPANY_PATTERNS = (
    re.compile(rf"{_JA_LEGAL}\s?{_JA_NAME}"),
    re.compile(rf"{_JA_NAME}\s?{_JA_LEGAL}"),
)
_JA_SHA = re.compile(rf"(?P<name>{_JA_FOREIGN_NAME}|[一-龥々]{{2,8}})社(?!長|員|内|外|会|名|是|屋|宅|債|交|用|歌)")

# --- titles --------------------------------------------------------------------------------------------------------

_JA_TITLES = (
    "代表取締役社長",
    "代表取締役",
    "取締役",
    "代表",
    "副社長",
    "社長",
    "会長",
    "専務",
    "常務",
    "執行役員",
    "役員",
    "事業部長",
    "本部長",
    "副部長",
    "部長",
    "次長",
    "課長",
    "室長",
    "所長",
    "支店長",
    "工場長",
    "センター長",
    "理事長",
    "院長",
    "決裁者",
    "責任者",
)
_JA_TITLE = re.compile("|".join(sorted(_JA_TITLES, key=len, reverse=True)))
_EN_TITLE_ACRONYM = re.compile(
    rf"{_B}(?:C[EFOTIMRPDS]O|CISO|CxO|[SE]?VP(?:\s+of\s+[A-Z][A-Za-z&]*(?:\s+[A-Z&][A-Za-z&]*)?)?){_E}"
)
_EN_TITLE_WORDS = re.compile(
    rf"{_B}(?:chief\s+[a-z]+\s+officer|(?:senior\s+|executive\s+)?vice\s+president(?:\s+of\s+[a-z]+)?|president|"
    r"managing\s+director|(?:it\s+|sales\s+|procurement\s+|purchasing\s+|finance\s+)?director(?:\s+of\s+[a-z]+)?|"
    rf"head\s+of\s+[a-z&]+|general\s+manager|co-?founder|founder|owner|decision[- ]maker){_E}",
    re.IGNORECASE,
)

# --- model labels --------------------------------------------------------------------------------------------------

_LABEL_MAP = {
    # GiNZA (Sekine's extended named entity hierarchy)
    "Person": EntityLabel.PERSON,
    "Company": EntityLabel.COMPANY,
    "Company_Group": EntityLabel.COMPANY,
    "Corporation_Other": EntityLabel.ORG,
    "Organization_Other": EntityLabel.ORG,
    "International_Organization": EntityLabel.ORG,
    "Government": EntityLabel.ORG,
    "Public_Institution": EntityLabel.ORG,
    "Money": EntityLabel.MONEY,
    "Date": EntityLabel.DATE,
    "Day_Of_Week": EntityLabel.DATE,
    "Period_Day": EntityLabel.DATE,
    "Period_Week": EntityLabel.DATE,
    "Period_Month": EntityLabel.DATE,
    "Period_Year": EntityLabel.DATE,
    "Country": EntityLabel.LOCATION,
    "Province": EntityLabel.LOCATION,
    "City": EntityLabel.LOCATION,
    "County": EntityLabel.LOCATION,
    "GPE_Other": EntityLabel.LOCATION,
    "Location_Other": EntityLabel.LOCATION,
    # spaCy English (OntoNotes)
    "PERSON": EntityLabel.PERSON,
    "ORG": EntityLabel.ORG,
    "MONEY": EntityLabel.MONEY,
    "DATE": EntityLabel.DATE,
    "GPE": EntityLabel.LOCATION,
    "LOC": EntityLabel.LOCATION,
    "FAC": EntityLabel.LOCATION,
}
_RULE_LABELS = {EntityLabel.COMPANY.value, EntityLabel.TITLE.value}
_CATALOG_LABELS = {EntityLabel.COMPETITOR.value, EntityLabel.PRODUCT.value}


def map_label(label: str) -> str:
    """Our label for a model label (``Person`` → ``PERSON``); labels we don't map pass through unchanged."""
    mapped = _LABEL_MAP.get(label)
    return mapped.value if mapped is not None else label


def find_companies(text: str, lang: Lang) -> Iterator[tuple[int, int]]:
    """Character spans of companies named by their legal form."""
    folded = fold_width(text)
    if lang == "ja":
        for pattern in _JA_COMPANY_PATTERNS:
            for match in pattern.finditer(folded):
                yield match.span()
        for match in _JA_SHA.finditer(folded):
            name = match["name"].strip()
            if not name or name[-1] in _JA_NOT_COMPANY_END or name in _JA_GENERIC_COMPANY:
                continue
            yield match.end() - len(name) - 1, match.end()
    for match in _EN_COMPANY.finditer(folded):
        start = match.start()
        words = match[0].split()
        # Drop sentence-initial words ("Yesterday Acme Inc.") but never the last word before the legal form.
        for word in words[:-2]:
            if word.lower().strip(",") not in _EN_LEADING_NOISE:
                break
            start = folded.index(word, start) + len(word)
            while start < match.end() and folded[start].isspace():
                start += 1
        yield start, match.end()


def find_titles(text: str, lang: Lang) -> Iterator[tuple[int, int]]:
    """Character spans of decision-maker titles (部長, 社長, CTO, VP of Sales, Head of IT)."""
    folded = fold_width(text)
    if lang == "ja":
        for match in _JA_TITLE.finditer(folded):
            yield match.span()
    for match in _EN_TITLE_ACRONYM.finditer(folded):
        yield match.span()
    for match in _EN_TITLE_WORDS.finditer(folded):
        yield match.span()


def is_decision_maker_title(text: str) -> bool:
    """Whether ``text`` contains a title that usually signs off a purchase."""
    return any(True for _ in find_titles(text, "ja"))


def _apply_rules(doc: Doc, lang: Lang) -> Doc:
    spans: list[Span] = []
    for label, found in (
        (EntityLabel.COMPANY.value, find_companies(doc.text, lang)),
        (EntityLabel.TITLE.value, find_titles(doc.text, lang)),
    ):
        for start, end in found:
            span = doc.char_span(start, end, label=label, alignment_mode="expand")
            if span is not None:
                spans.append(span)
    if not spans:
        return doc
    rule_spans = filter_spans(spans)
    kept = [ent for ent in doc.ents if all(ent.end <= span.start or ent.start >= span.end for span in rule_spans)]
    doc.ents = sorted([*rule_spans, *kept], key=lambda span: span.start)
    return doc


@Language.component(f"{RULES_COMPONENT}_ja")
def entity_rules_ja(doc: Doc) -> Doc:
    """Company and title rules for Japanese (and English company names said inside Japanese speech)."""
    return _apply_rules(doc, "ja")


@Language.component(f"{RULES_COMPONENT}_en")
def entity_rules_en(doc: Doc) -> Doc:
    """Company and title rules for English."""
    return _apply_rules(doc, "en")


def add_entity_rules(nlp: Language, lang: Lang) -> None:
    """Add the company/title rules right after the statistical NER, which they override where they overlap."""
    name = f"{RULES_COMPONENT}_{lang}"
    if name not in nlp.pipe_names:
        nlp.add_pipe(name, after="ner" if "ner" in nlp.pipe_names else None)


def build_catalog_ruler(nlp: Language, catalog: EntityCatalog) -> EntityRuler:
    """An ``EntityRuler`` for the catalog's names and aliases, case-insensitive, overriding overlapping entities.

    It is not added to ``nlp``: call it on a parsed doc (``ruler(doc)``), so one cached pipeline serves any catalog.
    Each span's ``ent_id_`` is the entry's canonical name.
    """
    ruler = EntityRuler(nlp, name="insight_catalog", phrase_matcher_attr="LOWER", overwrite_ents=True)
    patterns: list[dict[str, object]] = []
    for entry in catalog.entries:
        for term in dict.fromkeys(entry.terms):
            patterns.append({"label": entry.label.value, "pattern": term, "id": entry.name})
            folded = fold_width(term)
            if folded != term:
                patterns.append({"label": entry.label.value, "pattern": folded, "id": entry.name})
    ruler.add_patterns(patterns)  # type: ignore[arg-type]
    return ruler


def doc_entities(doc: Doc, dates: Iterable[DateMention] = ()) -> list[Entity]:
    """Our :class:`Entity` list for a parsed doc plus resolved date mentions.

    A model DATE that overlaps a resolved mention is dropped in favour of the mention, which carries absolute dates.
    """
    mentions = list(dates)
    entities: list[Entity] = []
    for ent in doc.ents:
        label = map_label(ent.label_)
        if label == EntityLabel.DATE and any(
            ent.start_char < mention.end and mention.start < ent.end_char for mention in mentions
        ):
            continue
        if ent.label_ in _CATALOG_LABELS:
            source, canonical = "catalog", ent.ent_id_ or ent.text
        elif ent.label_ in _RULE_LABELS:
            source, canonical = "rule", None
        else:
            source, canonical = "model", None
        entities.append(
            Entity(
                text=ent.text,
                label=label,
                start=ent.start_char,
                end=ent.end_char,
                canonical=canonical,
                source=source,  # type: ignore[arg-type]
            )
        )
    for mention in mentions:
        entities.append(
            Entity(text=mention.text, label=EntityLabel.DATE.value, start=mention.start, end=mention.end, source="date")
        )
    entities.sort(key=lambda entity: (entity.start, entity.end))
    return entities
