"""Guards against Whisper's known hallucinations on silence, noise and music.

Whisper was trained on subtitled video, so on quiet or non-speech spans it tends to emit stock phrases
(ご視聴ありがとうございました, "Thanks for watching", subtitle credits) or to loop one phrase. VAD removes most
silence before decoding; these rules catch what slips through.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from insight.transcribe.audio import SAMPLE_RATE, Audio, rms_dbfs
from insight.transcribe.types import Segment

# Normalised (NFKC, lower case, no punctuation or spaces) phrases Whisper produces on non-speech.
STOCK_PHRASES: frozenset[str] = frozenset(
    {
        "ご視聴ありがとうございました",
        "ご視聴ありがとうございます",
        "ご視聴いただきありがとうございました",
        "最後までご視聴いただきありがとうございました",
        "最後までご視聴ありがとうございました",
        "チャンネル登録お願いします",
        "チャンネル登録よろしくお願いします",
        "チャンネル登録をお願いします",
        "おやすみなさい",
        "字幕視聴ありがとうございました",
        "thanksforwatching",
        "thankyouforwatching",
        "thankyouverymuchforwatching",
        "pleasesubscribe",
        "likeandsubscribe",
        "subtitlesbytheamaraorgcommunity",
        "transcribedbyesotranscripts",
        "thankyou",
        "you",
    }
)
# Phrases that are hallucinations wherever they appear, whatever the audio level.
ALWAYS_DROP: frozenset[str] = frozenset(
    {"subtitlesbytheamaraorgcommunity", "transcribedbyesotranscripts", "字幕視聴ありがとうございました"}
)

QUIET_DBFS = -45.0  # speech in a call is far louder than this; room tone and line noise are below it
LOOP_RE = re.compile(r"(.{2,40}?)(?:[\s、。,.!?！？]*\1){3,}")


def normalise(text: str) -> str:
    """NFKC, lower case, letters and digits only: the form stock phrases are compared in."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if ch.isalnum())


def collapse_loops(text: str) -> str:
    """Replace a phrase repeated four or more times in a row by a single copy."""
    return LOOP_RE.sub(lambda m: m.group(1), text)


def _span_dbfs(audio: Audio, offset_s: float, seg: Segment) -> float:
    a = int(max(0.0, seg.start - offset_s) * SAMPLE_RATE)
    b = int(max(0.0, seg.end - offset_s) * SAMPLE_RATE)
    return rms_dbfs(audio[a:b]) if b > a else -120.0


def is_hallucination(seg: Segment, *, span_dbfs: float) -> bool:
    """True when ``seg`` is very likely invented by the model rather than heard."""
    key = normalise(seg.text)
    if not key:
        return True
    if key in ALWAYS_DROP:
        return True
    if span_dbfs < QUIET_DBFS - 10:  # near digital silence: nothing real can be in it
        return True
    unsure = seg.no_speech_prob > 0.5 or seg.avg_logprob < -1.0
    if key in STOCK_PHRASES and (span_dbfs < QUIET_DBFS or unsure):
        return True
    # Gibberish loops: very repetitive text that the model itself was unsure about.
    return seg.compression_ratio > 2.4 and seg.avg_logprob < -0.8


def clean_segments(segments: Sequence[Segment], audio: Audio, offset_s: float) -> tuple[list[Segment], int]:
    """Drop hallucinated segments and collapse looped phrases.

    Args:
        segments: one channel's segments from one window, in time order.
        audio: that window's mono samples (for the level of each segment's span).
        offset_s: the window's start in the call.

    Returns:
        The kept segments and the number dropped.
    """
    kept: list[Segment] = []
    dropped = 0
    repeats = 0
    for seg in segments:
        if is_hallucination(seg, span_dbfs=_span_dbfs(audio, offset_s, seg)):
            dropped += 1
            continue
        text = collapse_loops(seg.text)
        if text != seg.text:
            seg = replace(seg, text=text)
        # The same sentence three times running is a decoding loop, not a speaker.
        if kept and normalise(kept[-1].text) == normalise(text):
            repeats += 1
            if repeats >= 2:
                dropped += 1
                continue
        else:
            repeats = 0
        kept.append(seg)
    return kept, dropped


def silence_ratio(audio: Audio) -> float:
    """Share of 100 ms frames quieter than the quiet threshold (used in tests and diagnostics)."""
    hop = SAMPLE_RATE // 10
    frames = len(audio) // hop
    if frames == 0:
        return 1.0
    rms = np.sqrt(np.mean(np.square(audio[: frames * hop].reshape(frames, hop), dtype=np.float64), axis=1))
    return float(np.mean(20 * np.log10(np.maximum(rms, 1e-6)) < QUIET_DBFS))
