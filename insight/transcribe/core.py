"""Transcribe one recording file: windows → (per channel) VAD + Whisper → hallucination guard.

Pure orchestration over plain data: no database, no queue. Used by the worker's service and by
``insight transcribe FILE``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from insight.transcribe.audio import iter_windows
from insight.transcribe.audio_probe import probe_audio
from insight.transcribe.engine import Transcriber
from insight.transcribe.hallucination import clean_segments
from insight.transcribe.types import Segment, TranscribeOptions, Transcript

ProgressCallback = Callable[[float], None]


def transcribe_file(
    path: Path,
    *,
    transcriber: Transcriber,
    options: TranscribeOptions,
    max_duration_s: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> Transcript:
    """Probe ``path`` (refusing what is not usable audio) and transcribe it with ``transcribe_path``.

    Raises:
        InsightError: the file is not usable audio (too long, undecodable, no audio stream).
    """
    info = probe_audio(path, max_duration_s=max_duration_s)
    return transcribe_path(
        path,
        transcriber=transcriber,
        duration_s=info.duration_s,
        channels=info.channels,
        dual_mono=info.dual_mono,
        options=options,
        on_progress=on_progress,
    )


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
    segments: list[Segment] = []
    dropped = 0
    done = 0.0
    # Without a given language each window is detected on its own (a long call can change language); the call's
    # language is the one spoken longest.
    spoken: dict[str, float] = {}
    probabilities: dict[str, float] = {}
    for window in iter_windows(path, split_channels=split, window_s=options.window_s):
        language = options.language
        if language is None:
            mix = window.samples.mean(axis=0) if split else window.samples[0]
            language, probabilities[language] = transcriber.detect_language(np.ascontiguousarray(mix))
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
                code_switching=options.code_switching,
                on_segment=report,
            )
            kept, n_dropped = clean_segments(raw, audio, window.offset_s)
            for seg in kept:
                seg_language = seg.language or language
                spoken[seg_language] = spoken.get(seg_language, 0.0) + seg.end - seg.start
            segments.extend(kept if options.language else [_tagged(seg, language) for seg in kept])
            dropped += n_dropped
            done += window.duration_s
            if on_progress is not None:
                on_progress(min(1.0, done / total))
    segments.sort(key=lambda s: (s.start, s.channel if s.channel is not None else -1))
    call_language = options.language or max(spoken, key=lambda k: spoken[k], default=None)
    call_language = call_language or next(iter(probabilities), None)
    if not options.language and call_language is not None:
        # Segments name their language only where it differs from the call's.
        segments = [replace(s, language=None) if s.language == call_language else s for s in segments]
    return Transcript(
        language=call_language or "und",
        language_probability=1.0 if options.language else probabilities.get(call_language or "", 0.0),
        duration_s=duration_s,
        channels=n_channels,
        segments=tuple(segments),
        dropped=dropped,
    )


def _tagged(seg: Segment, window_language: str) -> Segment:
    """The segment with its window's detected language, unless it already names its own."""
    return seg if seg.language else replace(seg, language=window_language)
