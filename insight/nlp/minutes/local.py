"""Minutes of an audio file without a server or database (``insight minutes FILE``).

The same steps as the pipeline, in memory: transcribe, split speakers (per stereo channel, or by voice for mono),
assign roles, then redact and write the minutes with the same writer the worker uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from insight.model_holder import Models
from insight.nlp.embeddings import LazyEmbedder
from insight.nlp.minutes.llm import LlmMinutesWriter, WriterResult, write_minutes
from insight.nlp.minutes.redaction import redact_call
from insight.nlp.minutes.writer import MinutesUtterance, OfflineMinutesWriter
from insight.nlp.pii import PiiRedactor
from insight.nlp.pipelines import normalize_lang
from insight.nlp.service import AnalyzeConfig, to_minutes_utterances
from insight.transcribe.local import transcribe_speakers
from insight.transcribe.types import TranscribeOptions


@dataclass(frozen=True)
class FileMinutesResult:
    """The minutes of an audio file: the writer's result, its redacted form (``None`` when redaction is off), the
    utterances its items cite and the length of the recording.
    """

    written: WriterResult
    redacted: dict[str, Any] | None
    utterances: list[MinutesUtterance]
    duration_s: float


def minutes_for_file(
    path: Path,
    *,
    models: Models,
    options: TranscribeOptions,
    config: AnalyzeConfig,
    reference_date: date,
    rep_channel: int | None = None,
    num_speakers: int | None = None,
    max_duration_s: float = 4 * 3600.0,
    on_progress: Callable[[float], None] | None = None,
) -> FileMinutesResult:
    """Transcribe ``path``, separate its speakers and write its minutes (plus the redacted form when configured).

    ``models`` gives every model (built from the settings, as the worker's runtime does), each loaded when needed.

    Raises:
        InsightError: the file is not usable audio, or the language has no pipeline.
    """
    spoken = transcribe_speakers(
        path,
        models=models,
        options=options,
        rep_channel=rep_channel,
        num_speakers=num_speakers,
        max_duration_s=max_duration_s,
        on_progress=(lambda f: on_progress(0.85 * f)) if on_progress is not None else None,
    )
    transcript, utterances, speakers = spoken.transcript, spoken.utterances, spoken.speakers
    lang = normalize_lang(transcript.language)
    minutes_utterances = to_minutes_utterances(
        utterances, {s.label: s.role for s in speakers.values()}, {s.label: s.name for s in speakers.values()}
    )
    written = write_minutes(
        minutes_utterances,
        offline=OfflineMinutesWriter(LazyEmbedder(models.embedder, models.settings.embedding_model), nlp=models.nlp),
        llm=LlmMinutesWriter(config.llm) if config.llm is not None else None,
        lang=lang,
        reference_date=reference_date,
        catalog=config.catalog or None,
    )
    redacted = None
    if config.redaction:
        redactor = PiiRedactor(lang, allow_list=config.allow_list, catalog=config.catalog, nlp=models.nlp)
        content = written.doc.model_dump(mode="json")
        _, redacted = redact_call([u.text for u in utterances], content, redactor, config.allow_list)
    if on_progress is not None:
        on_progress(1.0)
    return FileMinutesResult(
        written=written, redacted=redacted, utterances=minutes_utterances, duration_s=transcript.duration_s
    )
