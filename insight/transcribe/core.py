"""Transcribe one recording file: windows → (per channel) VAD + Whisper → hallucination guard.

Pure orchestration over plain data: no database, no queue. Used by the worker's service and by
``insight transcribe FILE``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from insight.transcribe.audio import iter_windows
from insight.transcribe.engine import Transcriber
from insight.transcribe.hallucination import clean_segments
from insight.transcribe.types import Segment, TranscribeOptions, Transcript

ProgressCallback = Callable[[float], None]


def transcribe_path(
    path: Path,
    *,
    transcriber: Transcriber,
    duration_s: float,
    channels: int,
    dual_mono: bool,
    options: TranscribeOptions,
    on_progress: ProgressCallback | None = None,
) -> Transcript:
    """Transcribe a recording in bounded memory.

    Args:
        path: the audio file (already validated by ``probe_audio``).
        transcriber: the ASR engine.
        duration_s: decoded duration (for progress).
        channels: channel count of the file.
        dual_mono: the two channels carry the same signal; transcribe once.
        options: language, channel splitting, decoding knobs.
        on_progress: called with a fraction in [0, 1] after every segment; it may raise to stop the work
            (time limit, lost lease).

    Returns:
        Segments of every channel, in time order, after the hallucination guard.
    """
    split = options.split_channels and channels == 2 and not dual_mono
    n_channels = 2 if split else 1
    total = max(duration_s * n_channels, 1e-6)
    language = options.language
    language_probability = 1.0 if language else 0.0
    segments: list[Segment] = []
    dropped = 0
    done = 0.0
    for window in iter_windows(path, split_channels=split, window_s=options.window_s):
        if language is None:
            mix = window.samples.mean(axis=0) if split else window.samples[0]
            language, language_probability = transcriber.detect_language(np.ascontiguousarray(mix))
        for ch in range(n_channels):
            audio = np.ascontiguousarray(window.samples[ch])

            def report(t: float, base: float = done, start: float = window.offset_s) -> None:
                if on_progress is not None:
                    on_progress(min(1.0, (base + max(0.0, t - start)) / total))

            raw = transcriber.transcribe(
                audio,
                language=language,
                offset_s=window.offset_s,
                channel=ch if split else None,
                word_timestamps=options.word_timestamps,
                beam_size=options.beam_size,
                batch_size=options.batch_size,
                on_segment=report,
            )
            kept, n_dropped = clean_segments(raw, audio, window.offset_s)
            segments.extend(kept)
            dropped += n_dropped
            done += window.duration_s
            if on_progress is not None:
                on_progress(min(1.0, done / total))
    segments.sort(key=lambda s: (s.start, s.channel if s.channel is not None else -1))
    return Transcript(
        language=language or "und",
        language_probability=language_probability,
        duration_s=duration_s,
        channels=n_channels,
        segments=tuple(segments),
        dropped=dropped,
    )
