"""Real labelled mono references for speaker separation, built at run time from ../shared/data/audio/en.

- The stereo telephone calls carry one speaker per channel with no bleed: the mono mix is what a single-channel
  recorder would have captured, and each channel's own speech (silero VAD on that channel alone) is the reference.
  ``Auto_Repairs_40`` (245 s, 8 kHz) is scored whole and as 30 s excerpts, the length of a short phone call.
  ``stereo_diarization.wav`` (5 s) has both readers talking at once for half of it: a stress case for overlap,
  which a one-speaker-at-a-time diarizer cannot score well on.
- ``katiesteve.wav`` is mono: its speech regions (VAD) are split at the speaker changes heard by ear.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from insight.transcribe.audio import SAMPLE_RATE, Audio, iter_windows
from insight.transcribe.diarize import speech_regions

# Silero VAD threshold for one isolated channel. Its noise floor is -70 to -90 dBFS, so a lower threshold than the
# default 0.5 only adds quiet words and short replies ("yeah", "uh-huh") that the mono mix's VAD hears too.
CHANNEL_VAD_THRESHOLD = 0.35

AUTO_REPAIRS = "Auto_Repairs_40_UTC_stereo_L-caller_R-agent.wav"
STEREO_READ = "stereo_diarization.wav"
KATIESTEVE = "katiesteve.wav"
# 30 s stretches of Auto_Repairs where both people speak (start, end in seconds).
AUTO_REPAIRS_EXCERPTS = ((40.0, 70.0), (110.0, 140.0), (140.0, 170.0), (195.0, 225.0), (215.0, 245.0))
# katiesteve.wav: Katie, Steve, Katie, Steve, Katie, Steve; the changes as heard (seconds).
KATIESTEVE_CHANGES = (1.5, 3.4, 11.9, 24.2, 26.0)

Turns = list[tuple[float, float, str]]


@dataclass(frozen=True, slots=True)
class Reference:
    """A mono recording with its reference turns (start s, end s, speaker) and its true speaker count."""

    key: str
    audio: Audio
    turns: Turns
    speakers: int


def _decode(path: Path, *, stereo: bool) -> np.ndarray:
    return np.concatenate([w.samples for w in iter_windows(path, split_channels=stereo)], axis=1)


def downmixed(path: Path, key: str, span: tuple[float, float] | None = None) -> Reference:
    """The mono mix of a two-channel call and its reference: each channel's VAD regions, one speaker per channel."""
    stereo = _decode(path, stereo=True)
    if stereo.shape[0] != 2:
        raise ValueError(f"{path.name} has {stereo.shape[0]} channel(s); a downmixed reference needs two")
    return _downmix(stereo, key, span)


def _downmix(stereo: np.ndarray, key: str, span: tuple[float, float] | None) -> Reference:
    if span is not None:
        stereo = stereo[:, int(span[0] * SAMPLE_RATE) : int(span[1] * SAMPLE_RATE)]
    turns: Turns = []
    for ch, who in enumerate(("left", "right")):
        turns += [(a / SAMPLE_RATE, b / SAMPLE_RATE, who) for a, b in _channel_speech(stereo[ch])]
    turns.sort()
    mono = np.ascontiguousarray(stereo.mean(axis=0), dtype=np.float32)
    return Reference(key=key, audio=mono, turns=turns, speakers=len({t[2] for t in turns}))


def _channel_speech(samples: np.ndarray) -> list[tuple[int, int]]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=CHANNEL_VAD_THRESHOLD, min_silence_duration_ms=250, speech_pad_ms=100, min_speech_duration_ms=200
    )
    return [(int(t["start"]), int(t["end"])) for t in get_speech_timestamps(np.ascontiguousarray(samples), options)]


def katiesteve(path: Path) -> Reference:
    """katiesteve.wav: VAD speech regions cut at the heard speaker changes, alternating Katie and Steve."""
    audio = np.ascontiguousarray(_decode(path, stereo=False)[0])
    bounds = (0.0, *KATIESTEVE_CHANGES, len(audio) / SAMPLE_RATE)
    turns: Turns = []
    for a, b in speech_regions(audio):
        start, end = a / SAMPLE_RATE, b / SAMPLE_RATE
        for i in range(len(bounds) - 1):
            lo, hi = max(start, bounds[i]), min(end, bounds[i + 1])
            if hi - lo > 0.05:
                turns.append((lo, hi, ("katie", "steve")[i % 2]))
    return Reference(key="katiesteve", audio=audio, turns=turns, speakers=2)


def all_references(folder: Path) -> list[Reference]:
    """Every real reference whose file is present in ``folder`` (../shared/data/audio/en)."""
    out: list[Reference] = []
    if (folder / AUTO_REPAIRS).exists():
        stereo = _decode(folder / AUTO_REPAIRS, stereo=True)
        out.append(_downmix(stereo, "auto_repairs", None))
        out += [_downmix(stereo, f"auto_repairs_{int(a)}-{int(b)}", (a, b)) for a, b in AUTO_REPAIRS_EXCERPTS]
    if (folder / KATIESTEVE).exists():
        out.append(katiesteve(folder / KATIESTEVE))
    if (folder / STEREO_READ).exists():
        out.append(downmixed(folder / STEREO_READ, "stereo_read_overlap"))
    return out
