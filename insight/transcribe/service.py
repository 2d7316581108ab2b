"""Transcription of a stored call: load it, transcribe its audio, write utterances."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session

from insight.db import session_scope
from insight.errors import NotFound
from insight.repositories import calls as calls_repo
from insight.repositories import transcripts as transcripts_repo
from insight.storage import AudioStore
from insight.transcribe.core import transcribe_path
from insight.transcribe.engine import Transcriber
from insight.transcribe.types import TranscribeOptions, Transcript
from models import Utterance


def speaker_label(channel: int | None) -> str:
    """Stereo: one speaker per channel. Mono: one undivided speaker until diarization assigns more."""
    return f"ch{channel}" if channel is not None else "S0"


def to_rows(call_id: int, transcript: Transcript) -> list[Utterance]:
    """The transcript's segments as utterance rows of call ``call_id``, numbered in order, with their words."""
    return [
        Utterance(
            call_id=call_id,
            idx=i,
            start=seg.start,
            end=seg.end,
            channel=seg.channel,
            speaker=speaker_label(seg.channel),
            language=seg.language or transcript.language,
            text=seg.text,
            words=[{"start": w.start, "end": w.end, "text": w.text, "probability": w.probability} for w in seg.words],
            avg_logprob=round(seg.avg_logprob, 4),
            no_speech_prob=round(seg.no_speech_prob, 4),
        )
        for i, seg in enumerate(transcript.segments)
    ]


def transcribe_call(
    *,
    engine: Engine,
    store: AudioStore,
    transcriber: Transcriber,
    call_id: int,
    options: TranscribeOptions,
    on_progress: Callable[[float], None],
) -> Callable[[Session], None]:
    """Transcribe call ``call_id``; returns the function that writes the result inside the caller's transaction.

    Raises:
        NotFound: the call or its audio is gone.
    """
    with session_scope(engine) as session:
        call = calls_repo.get_existing(session, call_id, hint=calls_repo.GONE_HINT)
        language = call.language_hint or options.language
        path = store.path_for(call.audio_sha256)
        duration, channels, dual_mono = call.duration_s, call.channels, call.dual_mono
    if not path.is_file():
        raise NotFound(
            f"the audio of call {call_id} is missing from the store",
            hint="Upload the file again.",
            object_type="call",
            object_id=call_id,
        )
    started = time.monotonic()
    transcript = transcribe_path(
        path,
        transcriber=transcriber,
        duration_s=duration,
        channels=channels,
        dual_mono=dual_mono,
        options=TranscribeOptions(
            language=language,
            split_channels=options.split_channels,
            word_timestamps=options.word_timestamps,
            beam_size=options.beam_size,
            batch_size=options.batch_size,
            window_s=options.window_s,
        ),
        on_progress=on_progress,
    )
    elapsed = time.monotonic() - started

    def apply(session: Session) -> None:
        transcripts_repo.replace_for_call(session, call_id, to_rows(call_id, transcript))
        calls_repo.update_fields(
            session,
            call_id,
            language=transcript.language,
            language_probability=round(transcript.language_probability, 4),
            processing_s=round(elapsed, 3),
        )

    return apply
