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

import numpy as np

from insight.nlp.embeddings import LazyEmbedder
from insight.nlp.llm import LlmMinutesWriter, WrittenMinutes, write_minutes
from insight.nlp.minutes import MinutesUtterance, OfflineMinutesWriter
from insight.nlp.minutes_redaction import redact_call
from insight.nlp.pii import PiiRedactor
from insight.nlp.pipelines import normalize_lang
from insight.nlp.service import AnalyzeConfig, to_minutes_utterances
from insight.transcribe.audio import iter_windows
from insight.transcribe.audio_probe import probe_audio
from insight.transcribe.core import transcribe_path
from insight.transcribe.diarize import SpeakerLookup, diarize_stream
from insight.transcribe.engine import Transcriber
from insight.transcribe.service import to_rows
from insight.transcribe.speakers import assign_roles, collect_speakers, split_by_speaker, utterance_rows
from insight.transcribe.types import TranscribeOptions
from models import Utterance


@dataclass(frozen=True)
class LocalMinutes:
    written: WrittenMinutes
    redacted: dict[str, Any] | None
    utterances: list[MinutesUtterance]
    duration_s: float


def minutes_for_file(
    path: Path,
    *,
    transcriber: Transcriber,
    options: TranscribeOptions,
    config: AnalyzeConfig,
    reference_date: date,
    rep_channel: int | None = None,
    num_speakers: int | None = None,
    max_duration_s: float = 4 * 3600.0,
    on_progress: Callable[[float], None] | None = None,
) -> LocalMinutes:
    """Transcribe ``path``, separate its speakers and write its minutes (plus the redacted form when configured).

    Raises:
        InsightError: the file is not usable audio, or the language has no pipeline.
    """
    info = probe_audio(path, max_duration_s=max_duration_s)
    transcript = transcribe_path(
        path,
        transcriber=transcriber,
        duration_s=info.duration_s,
        channels=info.channels,
        dual_mono=info.dual_mono,
        options=options,
        on_progress=(lambda f: on_progress(0.8 * f)) if on_progress is not None else None,
    )
    lang = normalize_lang(transcript.language)
    rows = to_rows(0, transcript)
    stereo = info.channels == 2 and not info.dual_mono and any(r.channel is not None for r in rows)
    if stereo:
        drafts = []
        for channel in sorted({r.channel or 0 for r in rows}):
            drafts.extend(split_by_speaker([r for r in rows if (r.channel or 0) == channel], _constant(channel)))
    elif rows:
        chunks = (
            (w.offset_s, np.ascontiguousarray(w.samples[0]))
            for w in iter_windows(path, split_channels=False, window_s=options.window_s)
        )
        result = diarize_stream(chunks, num_speakers=num_speakers)
        lookup: Callable[[float], int | None] = SpeakerLookup(result.turns) if result.turns else _constant(0)
        drafts = split_by_speaker(rows, lookup)
    else:
        drafts = []
    speakers = collect_speakers(drafts)
    assign_roles(speakers, rep_channel=rep_channel if stereo else None, profile=None)
    utterances: list[Utterance] = utterance_rows(0, drafts)
    for i, u in enumerate(utterances):
        u.id = i + 1  # not stored: evidence cites the position in the call
    if on_progress is not None:
        on_progress(0.85)
    minutes_utterances = to_minutes_utterances(
        utterances, {s.label: s.role for s in speakers.values()}, {s.label: s.name for s in speakers.values()}
    )
    written = write_minutes(
        minutes_utterances,
        offline=OfflineMinutesWriter(LazyEmbedder(config.embedding_model)),
        llm=LlmMinutesWriter(config.llm) if config.llm is not None else None,
        lang=lang,
        reference_date=reference_date,
        catalog=config.catalog or None,
    )
    redacted = None
    if config.redaction:
        redactor = PiiRedactor(lang, allow_list=config.allow_list, catalog=config.catalog)
        content = written.doc.model_dump(mode="json")
        _, redacted = redact_call([u.text for u in utterances], content, redactor, config.allow_list)
    if on_progress is not None:
        on_progress(1.0)
    return LocalMinutes(
        written=written, redacted=redacted, utterances=minutes_utterances, duration_s=transcript.duration_s
    )


def _constant(speaker: int) -> Callable[[float], int | None]:
    return lambda _t: speaker
