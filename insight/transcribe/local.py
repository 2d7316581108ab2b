"""Who said what in an audio file, without a server or database (``insight transcribe``, ``insight minutes``).

The same steps as the worker, in memory: transcribe, split speakers (one per stereo channel, or by voice for mono),
cut utterances where the speaker changes, assign roles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from insight.model_holder import Models
from insight.transcribe.audio import iter_windows
from insight.transcribe.core import transcribe_file
from insight.transcribe.diarize import SpeakerLookup, diarize_stream
from insight.transcribe.service import to_rows
from insight.transcribe.speakers import (
    SpeakerDraft,
    assign_roles,
    collect_speakers,
    split_by_speaker,
    utterance_rows,
)
from insight.transcribe.types import TranscribeOptions, Transcript
from models import Utterance

# Share of the progress bar given to transcription; speaker separation and roles take the rest.
_TRANSCRIBE_SHARE = 0.9


@dataclass(frozen=True)
class SpeakerTranscript:
    """A transcribed file with its speakers.

    Attributes:
        transcript: Whisper's segments after the hallucination guard.
        utterances: The speech cut at speaker changes, in time order, each with its speaker label (``S1``, ...);
            ``id`` is the position in the call (from 1), as evidence links cite it.
        speakers: By label: role (``rep``, ``customer``, ``other``), how it was decided, channel and talk time.
        stereo: The speakers are the two channels of a stereo recording.
    """

    transcript: Transcript
    utterances: list[Utterance]
    speakers: dict[str, SpeakerDraft]
    stereo: bool


def transcribe_speakers(
    path: Path,
    *,
    models: Models,
    options: TranscribeOptions,
    rep_channel: int | None = None,
    num_speakers: int | None = None,
    max_duration_s: float = 4 * 3600.0,
    on_progress: Callable[[float], None] | None = None,
) -> SpeakerTranscript:
    """Transcribe ``path`` and tell who said what.

    Args:
        path: The recording.
        models: The ASR model, and the voice encoder for a mono recording (loaded only then).
        options: Language and decoding knobs; ``split_channels=False`` treats stereo as one mixed voice track.
        rep_channel: Stereo: the channel the rep is on (0 = left, 1 = right); the other side is the customer.
        num_speakers: Mono: the number of speakers when known (otherwise estimated).
        max_duration_s: Longest recording accepted.
        on_progress: Called with the fraction done, in [0, 1].

    Returns:
        The transcript, its utterances with speaker labels, and the speakers with their roles.

    Raises:
        InsightError: the file is not usable audio (too long, undecodable, no audio stream).
    """
    transcript = transcribe_file(
        path,
        transcriber=models.transcriber(),
        options=options,
        max_duration_s=max_duration_s,
        on_progress=(lambda f: on_progress(_TRANSCRIBE_SHARE * f)) if on_progress is not None else None,
    )
    rows = to_rows(0, transcript)
    stereo = transcript.channels == 2 and any(r.channel is not None for r in rows)
    if stereo:
        drafts = []
        for channel in sorted({r.channel or 0 for r in rows}):
            drafts.extend(split_by_speaker([r for r in rows if (r.channel or 0) == channel], _constant(channel)))
    elif rows:
        chunks = (
            (w.offset_s, np.ascontiguousarray(w.samples[0]))
            for w in iter_windows(path, split_channels=False, window_s=options.window_s)
        )
        result = diarize_stream(chunks, num_speakers=num_speakers, encoder=models.voice_encoder())
        lookup: Callable[[float], int | None] = SpeakerLookup(result.turns) if result.turns else _constant(0)
        drafts = split_by_speaker(rows, lookup)
    else:
        drafts = []
    speakers = collect_speakers(drafts)
    assign_roles(speakers, rep_channel=rep_channel if stereo else None, profile=None)
    utterances = utterance_rows(0, drafts)
    for i, u in enumerate(utterances):
        u.id = i + 1  # not stored: evidence cites the position in the call
    if on_progress is not None:
        on_progress(1.0)
    return SpeakerTranscript(transcript=transcript, utterances=utterances, speakers=speakers, stereo=stereo)


def _constant(speaker: int) -> Callable[[float], int | None]:
    return lambda _t: speaker
