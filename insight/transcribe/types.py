"""Plain result types of the transcription stage (no ORM, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word: start and end in seconds into the call, its text and its probability (0..1)."""

    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True, slots=True)
class Segment:
    """One stretch of speech on one channel, with word timestamps."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    channel: int | None = None
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 1.0
    language: str | None = None  # when it differs from the call's (a stretch in another language)


@dataclass(frozen=True, slots=True)
class Transcript:
    """The whole call: segments of every channel in time order."""

    language: str
    language_probability: float
    duration_s: float
    channels: int
    segments: tuple[Segment, ...] = field(default_factory=tuple)
    dropped: int = 0  # segments removed by the hallucination guard

    @property
    def text(self) -> str:
        """The text of every segment, joined with spaces."""
        return " ".join(s.text for s in self.segments)


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    """Knobs of one transcription (the defaults come from Settings)."""

    language: str | None = None
    split_channels: bool = True
    word_timestamps: bool = True
    beam_size: int = 5
    batch_size: int = 8
    window_s: float = 600.0
    # Stretches in another language than the call's (English in a Japanese call) come out in that language instead
    # of being dropped or translated.
    code_switching: bool = True
