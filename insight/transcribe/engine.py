"""The ASR engine: the only module that imports faster_whisper."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from insight.transcribe.audio import SAMPLE_RATE, Audio
from insight.transcribe.types import Segment, Word

log = logging.getLogger(__name__)

SegmentCallback = Callable[[float], None]


class Transcriber(Protocol):
    """Anything that turns 16 kHz mono float32 audio into segments."""

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        """The spoken language of ``audio`` (a code such as ``ja``) and its probability (0..1)."""

    def transcribe(
        self,
        audio: Audio,
        *,
        language: str,
        offset_s: float = 0.0,
        channel: int | None = None,
        word_timestamps: bool = True,
        beam_size: int = 1,
        batch_size: int = 8,
        code_switching: bool = False,
        on_segment: SegmentCallback | None = None,
    ) -> list[Segment]:
        """Segments of ``audio`` (16 kHz mono float32) in ``language``, timestamps in seconds into the call.

        ``offset_s`` is added to every timestamp; ``channel`` is stored on each segment; ``on_segment`` gets each
        segment's end time and may raise to stop.
        """


class WhisperTranscriber:
    """faster-whisper with silero VAD; batched decoding when ``batch_size > 1``.

    Args:
        model_path: a CTranslate2 model directory (or, with ``allow_download``, a model name).
        device: ``cpu``, ``cuda`` or ``auto``.
        compute_type: e.g. ``int8`` on CPU, ``float16`` on GPU.
        cpu_threads: 0 = one per core.
        allow_download: let faster-whisper fetch ``model_path`` from a hub when it is not a local directory.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        device: str = "cpu",
        compute_type: str = "int8",
        cpu_threads: int = 0,
        allow_download: bool = False,
    ) -> None:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self.model = WhisperModel(
            str(model_path),
            device=device,
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            local_files_only=not allow_download,
        )
        self.batched = BatchedInferencePipeline(self.model)

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        """Most likely language of the speech in ``audio`` (VAD-filtered, up to three 30 s segments)."""
        language, probability, _ = self.model.detect_language(audio, vad_filter=True, language_detection_segments=3)
        return str(language), float(probability)

    def transcribe(
        self,
        audio: Audio,
        *,
        language: str,
        offset_s: float = 0.0,
        channel: int | None = None,
        word_timestamps: bool = True,
        beam_size: int = 1,
        batch_size: int = 8,
        code_switching: bool = False,
        on_segment: SegmentCallback | None = None,
    ) -> list[Segment]:
        """Transcribe one mono window.

        Args:
            audio: 16 kHz mono float32 samples.
            language: ISO code of the call; never detected here, so windows of one call cannot disagree.
            offset_s: added to every timestamp (the window's place in the call).
            channel: stored on each segment (stereo recordings are transcribed per channel).
            word_timestamps: align words (needed for speakers and evidence links).
            beam_size: 1 = greedy.
            batch_size: > 1 uses ``BatchedInferencePipeline`` over VAD chunks.
            code_switching: stretches in another language come out in that language. Batched decoding picks the
                language of each 30 s chunk, and speech that the chunk's language dropped (an English answer
                inside a Japanese chunk) is decoded again on its own, in the language detected there.
            on_segment: called with each segment's end time; may raise to stop (time limit, lost lease).

        Returns:
            The segments in time order (the lazy generator is consumed here).
        """
        common = {
            "language": language,
            "beam_size": beam_size,
            "word_timestamps": word_timestamps,
            "vad_filter": True,
        }
        if batch_size > 1:
            gen, _info = self.batched.transcribe(audio, batch_size=batch_size, multilingual=code_switching, **common)
        else:
            gen, _info = self.model.transcribe(
                audio, condition_on_previous_text=False, multilingual=code_switching, **common
            )
        out = [self._segment(seg, offset_s, channel, language, code_switching, on_segment) for seg in gen]
        if code_switching:
            out = self._confirm_switches(audio, out, offset_s, channel, beam_size, language, word_timestamps)
        if code_switching and word_timestamps:
            for start, end in dropped_speech(audio, out, offset_s):
                out.extend(
                    self._redecode(audio[start:end], start / SAMPLE_RATE + offset_s, channel, beam_size, language)
                )
            out.sort(key=lambda s: s.start)
        return out

    def _segment(
        self,
        seg: Any,
        offset_s: float,
        channel: int | None,
        language: str,
        code_switching: bool,
        on_segment: SegmentCallback | None,
    ) -> Segment:
        words = tuple(
            Word(
                start=round(w.start + offset_s, 3),
                end=round(w.end + offset_s, 3),
                text=w.word,
                probability=round(float(w.probability), 4),
            )
            for w in (seg.words or ())
        )
        text = seg.text.strip()
        out = Segment(
            start=round(seg.start + offset_s, 3),
            end=round(seg.end + offset_s, 3),
            text=text,
            words=words,
            channel=channel,
            avg_logprob=float(seg.avg_logprob),
            no_speech_prob=float(seg.no_speech_prob),
            compression_ratio=float(seg.compression_ratio),
            language=script_language(text, language) if code_switching else None,
        )
        if on_segment is not None:
            on_segment(seg.end + offset_s)
        return out

    def _confirm_switches(
        self,
        audio: Audio,
        segments: list[Segment],
        offset_s: float,
        channel: int | None,
        beam_size: int,
        language: str,
        word_timestamps: bool,
    ) -> list[Segment]:
        """Decode again, in the call's language, the short segments whose chunk was taken for another language.

        Language identification on a second of speech is a guess: a lone はい is heard as English "Hey!". A
        switch is believed when the segment has at least ``_SWITCH_MIN_WORDS`` words over ``_SWITCH_MIN_S``.
        """
        out: list[Segment] = []
        for seg in segments:
            n_words = len(seg.words) if seg.words else len(seg.text.split())
            if seg.language is None or (seg.end - seg.start >= _SWITCH_MIN_S and n_words >= _SWITCH_MIN_WORDS):
                out.append(seg)
                continue
            a = max(0, int((seg.start - offset_s - 0.2) * SAMPLE_RATE))
            b = min(len(audio), int((seg.end - offset_s + 0.2) * SAMPLE_RATE))
            gen, _info = self.model.transcribe(
                audio[a:b],
                language=language,
                beam_size=beam_size,
                word_timestamps=word_timestamps,
                vad_filter=False,
                condition_on_previous_text=False,
            )
            out.extend(self._segment(s, offset_s + a / SAMPLE_RATE, channel, language, False, None) for s in gen)
        return out

    def _redecode(
        self, audio: Audio, offset_s: float, channel: int | None, beam_size: int, call_language: str
    ) -> list[Segment]:
        """Decode a stretch of dropped speech alone, in the language detected on it."""
        language, _p, _all = self.model.detect_language(audio)
        gen, _info = self.model.transcribe(
            audio,
            language=language,
            beam_size=beam_size,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
        )
        segments = [self._segment(seg, offset_s, channel, str(language), False, None) for seg in gen]
        if language == call_language:
            return segments
        return [replace(seg, language=str(language)) for seg in segments]


# Speech of at least this length with words over less than this share of it was dropped by the decoder.
_DROPPED_MIN_S = 1.5
_DROPPED_COVERAGE = 0.2
_WORD_MAX_S = 1.0
# A segment in another language than the call's is believed with at least this many words over this many seconds.
_SWITCH_MIN_WORDS = 3
_SWITCH_MIN_S = 1.5


def dropped_speech(audio: Audio, segments: list[Segment], offset_s: float) -> list[tuple[int, int]]:
    """Sample ranges where the VAD hears speech but the decoder wrote (almost) no words.

    Batched decoding concatenates VAD regions into 30 s chunks and decodes each chunk in one language: a stretch in
    another language inside the chunk is often left out entirely, or one word's alignment is stretched over it.
    Whisper's word times are approximate, so a region counts as dropped only when its words cover under a fifth of
    it.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    regions = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=500, speech_pad_ms=200))
    # A word "lasting" seconds is an alignment artefact (the aligner stretched it over the speech it skipped): it
    # counts for at most _WORD_MAX_S.
    words = [(w.start - offset_s, min(w.end, w.start + _WORD_MAX_S) - offset_s) for s in segments for w in s.words]
    dropped: list[tuple[int, int]] = []
    for region in regions:
        a, b = region["start"] / SAMPLE_RATE, region["end"] / SAMPLE_RATE
        if b - a < _DROPPED_MIN_S:
            continue
        covered = sum(max(0.0, min(b, we) - max(a, ws)) for ws, we in words)
        if covered < _DROPPED_COVERAGE * (b - a):
            if (
                dropped
                and region["start"] - dropped[-1][1] < SAMPLE_RATE
                and region["end"] - dropped[-1][0] < 30 * SAMPLE_RATE
            ):
                dropped[-1] = (dropped[-1][0], region["end"])
            else:
                dropped.append((region["start"], min(region["end"], region["start"] + 30 * SAMPLE_RATE)))
    return dropped


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_LATIN = re.compile(r"[A-Za-z]{2,}")


def script_language(text: str, language: str) -> str | None:
    """The language of a segment decoded in a chunk whose language Whisper chose, when it is not the call's.

    Code-switching in the calls this serves is Japanese (or another CJK language) with English: a segment written
    without CJK characters in such a call is English, and one with kana or kanji in an English call is Japanese.
    """
    if language in ("ja", "zh", "ko") and not _CJK.search(text) and _LATIN.search(text):
        return "en"
    if language not in ("ja", "zh", "ko") and _CJK.search(text):
        return "ja" if re.search(r"[\u3040-\u30ff]", text) else None
    return None
