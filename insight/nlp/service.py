"""The analyze stage of a call: PII redaction of its utterances, then its minutes (original and redacted).

Redaction runs first and is stored beside the original text (``Utterance.text_redacted`` and the replaced spans in
``Utterance.pii``); readers get the redacted text unless the access policy lets them see the original. With
redaction switched off (``INSIGHT_PII_REDACTION=false``) the "redacted" text is the original, by the deployment's
choice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from insight.model_holder import Models
from insight.nlp.embeddings import Embedder, LazyEmbedder, embed_batched, embedded_text, embedding_model_name
from insight.nlp.minutes.llm import LlmConfig, LlmMinutesWriter, WriterResult, write_minutes
from insight.nlp.minutes.redaction import call_redactor, redact_call
from insight.nlp.minutes.schemas import MinutesDoc, RoleName
from insight.nlp.minutes.writer import MinutesOptions, MinutesUtterance, OfflineMinutesWriter
from insight.nlp.pipelines import UnsupportedLanguage, normalize_lang
from insight.nlp.types import EntityCatalog, Lang, Redaction
from insight.repositories import calls as calls_repo
from insight.repositories import embeddings as embeddings_repo
from insight.repositories import minutes as minutes_repo
from insight.repositories import speakers as speakers_repo
from insight.repositories import transcripts as transcripts_repo
from insight.settings import Settings
from insight.trackers import service as trackers_service
from insight.trackers.types import SpokenText
from models import Call, Minutes, Utterance

log = logging.getLogger(__name__)

# spaCy/GiNZA pipelines are shared per process and not documented as thread-safe: one analysis at a time.
_ANALYZE_LOCK = threading.Lock()
# Utterances per forward pass of the sentence encoder.
EMBED_BATCH = 64


@dataclass(frozen=True)
class AnalyzeConfig:
    """What the analyze stage needs from the settings."""

    redaction: bool = True
    allow_list: tuple[str, ...] = ()
    catalog: EntityCatalog = EntityCatalog()
    timezone: str | None = None
    llm: LlmConfig | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AnalyzeConfig:
        """The analyze options from the settings; the LLM writer is configured only when ``llm_url`` is set."""
        llm = None
        if settings.llm_url:
            key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
            llm = LlmConfig(
                url=settings.llm_url, model=settings.llm_model, api_key=key, timeout_s=settings.llm_timeout_s
            )
        return cls(
            redaction=settings.pii_redaction,
            allow_list=tuple(settings.pii_allow_list),
            catalog=EntityCatalog.from_lists(settings.competitors, settings.products),
            timezone=settings.timezone,
            llm=llm,
        )


def call_date(call: Call, timezone: str | None) -> date:
    """The call's local date: when it was recorded (else uploaded), in the configured time zone."""
    moment = call.recorded_at or call.created_at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(timezone) if timezone else None).date()


def to_minutes_utterances(
    rows: Sequence[Utterance], roles: dict[str, str], names: dict[str, str | None]
) -> list[MinutesUtterance]:
    """The writer's view of stored utterances: role and name of the speaker, ASR confidence, word times."""
    out: list[MinutesUtterance] = []
    for row in rows:
        assert row.id is not None
        probabilities = [float(w["probability"]) for w in row.words if w.get("probability") is not None]
        out.append(
            MinutesUtterance(
                id=row.id,
                start=row.start,
                end=row.end,
                speaker=row.speaker,
                text=row.text,
                role=_role(roles.get(row.speaker)),
                speaker_name=names.get(row.speaker),
                asr_confidence=sum(probabilities) / len(probabilities) if probabilities else 1.0,
                char_times=_char_times(row),
            )
        )
    return out


def _role(value: str | None) -> RoleName:
    if value == "rep":
        return "rep"
    if value == "customer":
        return "customer"
    return "other" if value == "other" else "unknown"


def _char_times(row: Utterance) -> tuple[tuple[int, float], ...]:
    """Offsets of each word in the utterance text (the words joined, leading space stripped) and their times."""
    joined = "".join(str(w.get("text", "")) for w in row.words)
    if not row.words or joined.strip() != row.text:
        return ()
    shift = len(joined) - len(joined.lstrip())
    out: list[tuple[int, float]] = []
    offset = 0
    for w in row.words:
        out.append((max(0, offset - shift), float(w["start"])))
        offset += len(str(w.get("text", "")))
    return tuple(out)


def _language(call: Call, rows: Sequence[Utterance]) -> Lang | None:
    code = call.language or call.language_hint or next((r.language for r in rows if r.language), None)
    if not code:
        return None
    try:
        return normalize_lang(code)
    except UnsupportedLanguage:
        return None


def analyze_call(
    *,
    engine: Engine,
    call_id: int,
    config: AnalyzeConfig,
    models: Models,
    options: MinutesOptions | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> Callable[[Session], None]:
    """Redact and write the minutes of a call; returns the writer for the caller's transaction.

    ``models`` gives the spaCy pipeline and the sentence encoder, each loaded only when the call needs it.

    Raises:
        NotFound: the call is gone.
    """
    with Session(engine) as session:
        call = calls_repo.get_existing(session, call_id, hint=calls_repo.GONE_HINT)
        rows = transcripts_repo.for_call(session, call_id)
        for row in rows:
            session.expunge(row)
        speakers = speakers_repo.for_call(session, call_id)
        roles = {s.label: s.role for s in speakers}
        names = {s.label: s.name for s in speakers}
        lang = _language(call, rows)
        reference = call_date(call, config.timezone)
        trackers = trackers_service.active_trackers(session)
    redactor = call_redactor(
        lang, enabled=config.redaction, allow_list=config.allow_list, catalog=config.catalog, nlp=models.nlp
    )
    with _ANALYZE_LOCK:
        if on_progress is not None:
            on_progress(0.1)
        written: WriterResult
        if lang is None:
            code = call.language or call.language_hint or "unknown"
            notice = f"Minutes are written for Japanese and English calls; this call's language is {code!r}."
            doc = MinutesDoc(language=code, reference_date=reference, status="unsupported_language", notice=notice)
            written = WriterResult(doc=doc, backend="offline")
        else:
            embedder = LazyEmbedder(models.embedder, models.settings.embedding_model)
            offline = OfflineMinutesWriter(embedder, options=options, nlp=models.nlp)
            llm = LlmMinutesWriter(config.llm) if config.llm is not None else None
            written = write_minutes(
                to_minutes_utterances(rows, roles, names),
                offline=offline,
                llm=llm,
                lang=lang,
                reference_date=reference,
                catalog=config.catalog or None,
            )
        if on_progress is not None:
            on_progress(0.6)
        content = written.doc.model_dump(mode="json")
        redactions: list[Redaction] = []
        redacted_doc = content
        if redactor is not None:
            redactions, redacted_doc = redact_call(
                [r.text for r in rows], content, redactor, config.allow_list, speaker_names=names.values()
            )
    if on_progress is not None:
        on_progress(0.9)
    stored: dict[int, tuple[str, list[dict[str, Any]]]] = {}
    for i, row in enumerate(rows):
        assert row.id is not None
        if redactor is None:
            stored[row.id] = (row.text, [])
        else:
            redaction = redactions[i]
            spans = [
                {
                    "kind": str(s.kind),
                    "start": s.start,
                    "end": s.end,
                    "original": s.original,
                    "placeholder": s.placeholder,
                }
                for s in redaction.spans
            ]
            stored[row.id] = (redaction.text, spans)
    # Every utterance's embedding, of the text as stored for readers: the redacted one when redaction is on, so
    # the vectors (which topics and patterns read across calls) never encode the personal data it removed.
    ids = [row.id for row in rows if row.id is not None]
    model_name = embedding_model_name(models.settings.embedding_model)
    vectors = None
    phrase_vectors = None
    if ids:
        encoder = models.embedder()
        model_name = encoder.name
        vectors = embed_batched(encoder, [stored[i][0] for i in ids], batch=EMBED_BATCH)
        phrase_vectors = trackers_service.phrase_vectors(encoder)
    spoken = [SpokenText(id=row.id, text=row.text, role=roles.get(row.speaker, "other")) for row in rows if row.id]
    hits = trackers_service.find_hits(trackers, spoken, vectors, phrase_vectors=phrase_vectors, model=model_name)
    tracked = trackers_service.fingerprint(trackers, model_name)
    log.info(
        "call %d: minutes by %s (%s), %d PII spans, %d utterance vectors (%s), %d tracker hits",
        call_id,
        written.backend,
        written.doc.status,
        sum(len(v[1]) for v in stored.values()),
        len(ids),
        model_name,
        len(hits),
    )

    def apply(session: Session) -> None:
        minutes_repo.set_redactions(session, call_id, stored)
        minutes_repo.save(
            session,
            Minutes(
                call_id=call_id,
                language=written.doc.language,
                backend=written.backend,
                model=written.model,
                schema_version=written.doc.schema_version,
                content=content,
                content_redacted=redacted_doc,
                generated_at=datetime.now(UTC),
            ),
        )
        if vectors is not None:
            embeddings_repo.replace_for_call(session, call_id, model_name, ids, vectors)
        trackers_service.save_hits(session, call_id, hits, tracked)

    return apply


def reembed_call(engine: Engine, call_id: int, embedder: Embedder) -> int:
    """Embed a call's utterances with ``embedder`` and replace its stored vectors in one transaction.

    The vectors of the previous model go in the same transaction that writes the new ones. Returns the number of
    vectors written (0 for a call without utterances, or one that is gone).
    """
    with Session(engine) as session:
        rows = transcripts_repo.for_call(session, call_id)
    ids = [row.id for row in rows if row.id is not None]
    vectors = embed_batched(embedder, [embedded_text(r.text, r.text_redacted) for r in rows], batch=EMBED_BATCH)
    if vectors is None:
        return 0
    with Session(engine) as session, session.begin():
        if calls_repo.get(session, call_id) is None:
            return 0
        return embeddings_repo.replace_for_call(session, call_id, embedder.name, ids, vectors)


def reembed_stale(
    engine: Engine, embedder: Embedder, *, limit: int = 50, check: Callable[[], None] | None = None
) -> list[int]:
    """Re-embed up to ``limit`` analysed calls that miss vectors of ``embedder``'s model (it changed, or they were
    analysed before vectors were stored), committing per call. Returns the calls re-embedded.

    Args:
        engine: The database.
        embedder: The configured sentence encoder.
        limit: The most calls in this run; the next run takes the rest.
        check: Called before each call; raises to stop (a job that lost its lease).
    """
    with Session(engine) as session:
        calls = embeddings_repo.calls_to_embed(session, embedder.name, limit=limit)
    done: list[int] = []
    for call_id in calls:
        if check is not None:
            check()
        reembed_call(engine, call_id, embedder)
        done.append(call_id)
    if done:
        log.info("re-embedded %d calls with %s", len(done), embedder.name)
    return done
