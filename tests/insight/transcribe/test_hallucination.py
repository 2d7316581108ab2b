"""The hallucination guard on hand-made segments (the real-model check is in test_transcribe_real.py)."""

from __future__ import annotations

import numpy as np
import pytest

from insight.transcribe.audio import SAMPLE_RATE
from insight.transcribe.hallucination import clean_segments, collapse_loops, is_hallucination
from insight.transcribe.types import Segment

LOUD = -20.0
QUIET = -50.0


def seg(text: str, **kw: float) -> Segment:
    return Segment(start=kw.pop("start", 0.0), end=kw.pop("end", 2.0), text=text, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "level", "extra", "dropped"),
    [
        ("ご視聴ありがとうございました", QUIET, {}, True),
        ("ご視聴ありがとうございました。", LOUD, {"no_speech_prob": 0.7}, True),
        ("Thanks for watching!", QUIET, {}, True),
        ("Subtitles by the Amara.org community", LOUD, {}, True),
        ("ありがとうございました。", LOUD, {}, False),
        ("Thank you.", LOUD, {}, False),
        ("Thank you.", QUIET, {}, True),
        ("来週の火曜日にデモをお願いします。", LOUD, {}, False),
        ("...", LOUD, {}, True),
        ("本当に何か言っている", -70.0, {}, True),
        ("ああああああああああああああああああああ", LOUD, {"compression_ratio": 3.0, "avg_logprob": -1.2}, True),
    ],
)
def test_is_hallucination(text: str, level: float, extra: dict[str, float], dropped: bool) -> None:
    assert is_hallucination(seg(text, **extra), span_dbfs=level) is dropped


def test_collapse_loops() -> None:
    assert collapse_loops(
        "よろしくお願いします。よろしくお願いします。よろしくお願いします。よろしくお願いします。"
    ) == ("よろしくお願いします。")
    assert collapse_loops("I think so, I think so, I think so, I think so") == "I think so"
    # Two repeats are normal speech.
    assert collapse_loops("はい、はい、そうです") == "はい、はい、そうです"


def test_clean_segments_uses_the_audio_level_and_drops_repeated_lines() -> None:
    audio = np.zeros(SAMPLE_RATE * 10, dtype=np.float32)
    rng = np.random.default_rng(0)
    audio[: SAMPLE_RATE * 4] = 0.1 * rng.standard_normal(SAMPLE_RATE * 4).astype(np.float32)  # "speech"
    segments = [
        seg("御社の課題を伺えますか。", start=0.0, end=2.0),
        seg("はい、在庫管理です。", start=2.0, end=4.0),
        seg("ご視聴ありがとうございました", start=5.0, end=8.0),  # on silence
        seg("在庫管理です。", start=0.0, end=1.0),
        seg("在庫管理です。", start=1.0, end=2.0),
        seg("在庫管理です。", start=2.0, end=3.0),
    ]
    kept, dropped = clean_segments(segments, audio, offset_s=0.0)
    assert [s.text for s in kept] == [
        "御社の課題を伺えますか。",
        "はい、在庫管理です。",
        "在庫管理です。",
        "在庫管理です。",
    ]
    assert dropped == 2
