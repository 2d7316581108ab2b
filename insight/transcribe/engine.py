"""The ASR engine: the only module that imports faster_whisper."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from insight.transcribe.audio import Audio
from insight.transcribe.types import Segment, Word

log = logging.getLogger(__name__)

SegmentCallback = Callable[[float], None]


class Transcriber(Protocol):
    """Anything that turns 16 kHz mono float32 audio into segments."""

    def detect_language(self, audio: Audio) -> tuple[str, float]: ...

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
        on_segment: SegmentCallback | None = None,
    ) -> list[Segment]: ...


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
        on_segment: SegmentCallback | None = None,
    ) -> list[Segment]:
        """Transcribe one mono window.

        Args:
            audio: 16 kHz mono float32 samples.
            language: ISO code; never detected here, so windows of one call cannot disagree.
            offset_s: added to every timestamp (the window's place in the call).
            channel: stored on each segment (stereo recordings are transcribed per channel).
            word_timestamps: align words (needed for speakers and evidence links).
            beam_size: 1 = greedy.
            batch_size: > 1 uses ``BatchedInferencePipeline`` over VAD chunks.
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
            gen, _info = self.batched.transcribe(audio, batch_size=batch_size, **common)
        else:
            gen, _info = self.model.transcribe(audio, condition_on_previous_text=False, **common)
        out: list[Segment] = []
        for seg in gen:
            words = tuple(
                Word(
                    start=round(w.start + offset_s, 3),
                    end=round(w.end + offset_s, 3),
                    text=w.word,
                    probability=round(float(w.probability), 4),
                )
                for w in (seg.words or ())
            )
            out.append(
                Segment(
                    start=round(seg.start + offset_s, 3),
                    end=round(seg.end + offset_s, 3),
                    text=seg.text.strip(),
                    words=words,
                    channel=channel,
                    avg_logprob=float(seg.avg_logprob),
                    no_speech_prob=float(seg.no_speech_prob),
                    compression_ratio=float(seg.compression_ratio),
                )
            )
            if on_segment is not None:
                on_segment(seg.end + offset_s)
        return out
