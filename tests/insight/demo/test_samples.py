"""Tests for the offline sales-call synthesiser (insight/demo/samples.py).

Most checks use short ad-hoc scripts so the suite stays fast; one test renders a full demo script to check that the
real scripts have the intended length.
"""

from __future__ import annotations

import json
import logging
import shutil
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from insight.demo import samples
from insight.demo.samples import SampleCall, Script, Turn

SHORT_JA = Script(
    key="test_ja_short",
    language="ja",
    title="テスト通話",
    turns=(
        Turn("rep", "お世話になっております。クラウドリンクの佐藤です。"),
        Turn("customer", "はい、東西物産の山田です。今日はデモの件ですよね。"),
        Turn("rep", "はい。来週の火曜日に、部長様向けのデモをお願いできればと思います。"),
        Turn("customer", "わかりました。"),
    ),
)
SHORT_EN = Script(
    key="test_en_short",
    language="en",
    title="Test call",
    turns=(
        Turn("rep", "Hi Jordan, this is Alex from Brightline."),
        Turn("customer", "Hi Alex. What does the pricing look like?"),
        Turn("rep", "It's forty five dollars per seat per month."),
    ),
)
needs_espeak = pytest.mark.skipif(not samples.english_available(), reason="espeak-ng is not installed")


def read_wav(path: Path) -> tuple[npt.NDArray[np.float64], int]:
    """Return (frames x channels in [-1, 1], sample rate), asserting 16-bit PCM."""
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2
        rate, channels = wav.getframerate(), wav.getnchannels()
        data = wav.readframes(wav.getnframes())
    return np.frombuffer(data, dtype="<i2").reshape(-1, channels) / 32768.0, rate


def rms(x: npt.NDArray[np.float64]) -> float:
    return float(np.sqrt(np.mean(x**2)))


def span(call: SampleCall, start: float, end: float) -> slice:
    return slice(round(start * call.sample_rate), round(end * call.sample_rate))


@pytest.fixture(scope="module")
def short_ja(tmp_path_factory: pytest.TempPathFactory) -> SampleCall:
    return samples.synthesize(SHORT_JA, tmp_path_factory.mktemp("short_ja"))


@pytest.fixture(scope="module")
def short_ja_overlap(tmp_path_factory: pytest.TempPathFactory) -> SampleCall:
    return samples.synthesize(SHORT_JA, tmp_path_factory.mktemp("short_ja_overlap"), overlap=True)


def check_files(call: SampleCall) -> None:
    stereo, stereo_rate = read_wav(call.stereo_path)
    mono, mono_rate = read_wav(call.mono_path)
    manifest = json.loads(call.manifest_path.read_text(encoding="utf-8"))

    assert stereo_rate == mono_rate == manifest["sample_rate"] == 16_000
    assert stereo.shape[1] == 2
    assert mono.shape[1] == 1
    assert stereo.shape[0] == mono.shape[0]
    assert stereo.shape[0] / 16_000 == pytest.approx(manifest["duration_s"], abs=1e-9)
    assert manifest == call.to_manifest()
    assert manifest["channels"] == {"left": "rep", "right": "customer"}
    assert set(manifest) == {"key", "language", "title", "duration_s", "sample_rate", "channels", "turns"}
    for turn in manifest["turns"]:
        assert set(turn) == {"speaker", "text", "start", "end"}
        assert 0.0 < turn["start"] < turn["end"] < manifest["duration_s"]
    # Never digital silence: the room tone is there even between turns.
    first = manifest["turns"][0]["start"]
    assert np.all(np.abs(stereo[: round(first * 16_000) - 1]).max(axis=0) > 0)


def check_channels(call: SampleCall) -> None:
    """Each turn is loud on its speaker's channel and only room tone on the other (where the other is not talking)."""
    stereo, _ = read_wav(call.stereo_path)
    channel = {"rep": 0, "customer": 1}
    for turn in call.turns:
        own_ch = channel[turn.speaker]
        window = span(call, turn.start, turn.end)
        # A backchannel (overlap=True) puts the other speaker's speech inside this span; leave it out.
        quiet = np.ones(stereo.shape[0], dtype=bool)
        for other_turn in call.turns:
            if other_turn.speaker != turn.speaker:
                quiet[span(call, other_turn.start, other_turn.end)] = False
        own = rms(stereo[window, own_ch])
        assert own > 0.03, turn
        if quiet[window].any():  # a backchannel lies wholly inside the other speaker's turn
            other = rms(stereo[window, 1 - own_ch][quiet[window]])
            assert own > 30 * other, turn  # more than 30 dB apart


def check_no_overlap(call: SampleCall) -> None:
    for before, after in zip(call.turns, call.turns[1:], strict=False):
        assert after.start - before.end >= 0.3 - 1e-9, (before, after)


def test_short_japanese_call_files(short_ja: SampleCall) -> None:
    check_files(short_ja)
    assert [t.speaker for t in short_ja.turns] == [t.speaker for t in SHORT_JA.turns]
    assert [t.text for t in short_ja.turns] == [t.text for t in SHORT_JA.turns]
    check_no_overlap(short_ja)
    check_channels(short_ja)


def test_turn_bounds_are_tight(short_ja: SampleCall) -> None:
    stereo, _ = read_wav(short_ja.stereo_path)
    channel = {"rep": 0, "customer": 1}
    for turn in short_ja.turns:
        ch = channel[turn.speaker]
        # Speech starts and ends within the first and last 50 ms of the span...
        assert rms(stereo[span(short_ja, turn.start, turn.start + 0.05), ch]) > 0.002, turn
        assert rms(stereo[span(short_ja, turn.end - 0.05, turn.end), ch]) > 0.002, turn
        # ...and the 200 ms around the span on the speaker's channel are room tone only.
        assert rms(stereo[span(short_ja, turn.start - 0.2, turn.start), ch]) < 0.002, turn
        assert rms(stereo[span(short_ja, turn.end, turn.end + 0.2), ch]) < 0.002, turn


def test_voices_differ_in_pitch(short_ja: SampleCall) -> None:
    """The customer's voice is pitched down: its spectral centroid of voiced speech is clearly lower."""
    stereo, rate = read_wav(short_ja.stereo_path)

    def low_band_share(speaker: str, ch: int) -> float:
        audio = np.concatenate(
            [stereo[span(short_ja, t.start, t.end), ch] for t in short_ja.turns if t.speaker == speaker]
        )
        power = np.abs(np.fft.rfft(audio)) ** 2
        freqs = np.fft.rfftfreq(audio.size, 1 / rate)
        # Energy share below 300 Hz: the rep's F0 (~380 Hz) sits above it, the customer's (~280 Hz) below.
        return float(power[(freqs > 80) & (freqs < 300)].sum() / power[(freqs > 80) & (freqs < 4000)].sum())

    assert low_band_share("customer", 1) > 2 * low_band_share("rep", 0)


def test_overlap_adds_one_backchannel(short_ja: SampleCall, short_ja_overlap: SampleCall) -> None:
    call = short_ja_overlap
    check_files(call)
    check_channels(call)
    assert len(call.turns) == len(short_ja.turns) + 1
    # The main turns keep their timing; the extra one is the backchannel.
    main = [t for t in call.turns if t in short_ja.turns]
    assert main == list(short_ja.turns)
    (extra,) = [t for t in call.turns if t not in short_ja.turns]
    assert extra.text == "はい"
    # It lies inside a turn of the other speaker and overlaps nothing else.
    hosts = [t for t in call.turns if t is not extra and t.start < extra.end and extra.start < t.end]
    assert len(hosts) == 1
    assert hosts[0].speaker != extra.speaker
    assert hosts[0].start < extra.start < extra.end < hosts[0].end


def test_deterministic(tmp_path: Path, short_ja: SampleCall) -> None:
    again = samples.synthesize(SHORT_JA, tmp_path)
    for name in ("stereo_path", "mono_path", "manifest_path"):
        assert getattr(again, name).read_bytes() == getattr(short_ja, name).read_bytes(), name
    assert again.turns == short_ja.turns


@needs_espeak
def test_english_call(tmp_path: Path) -> None:
    call = samples.synthesize(SHORT_EN, tmp_path)
    check_files(call)
    check_no_overlap(call)
    check_channels(call)
    again = samples.synthesize(SHORT_EN, tmp_path / "again")
    assert again.stereo_path.read_bytes() == call.stereo_path.read_bytes()


@needs_espeak
def test_english_overlap(tmp_path: Path) -> None:
    call = samples.synthesize(SHORT_EN, tmp_path, overlap=True)
    check_files(call)
    assert len(call.turns) == len(SHORT_EN.turns) + 1
    assert sum(t.text == "Right." for t in call.turns) == 1


def test_english_skipped_without_espeak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    assert not samples.english_available()
    with caplog.at_level(logging.WARNING, logger="insight.demo.samples"):
        assert samples.synthesize_all(tmp_path, languages=("en",)) == []
    assert "espeak-ng" in caplog.text
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(samples.SynthesisUnavailable):
        samples.synthesize(SHORT_EN, tmp_path)


def test_unknown_language_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fr"):
        samples.synthesize_all(tmp_path, languages=("fr",))


def test_script_catalogue() -> None:
    keys = [s.key for s in samples.SCRIPTS]
    assert len(keys) == len(set(keys))
    for language in ("ja", "en"):
        scripts = [s for s in samples.SCRIPTS if s.language == language]
        assert len(scripts) >= 2
        for script in scripts:
            assert 8 <= len(script.turns) <= 12
            assert {t.speaker for t in script.turns} == {"rep", "customer"}
    with pytest.raises(ValueError, match="speaker"):
        Script(key="bad", language="ja", title="", turns=(Turn("agent", "はい"),))


def test_full_demo_script(tmp_path: Path) -> None:
    """One real demo script end to end: realistic length and everything on the right channel."""
    call = samples.synthesize(samples.SCRIPTS[0], tmp_path)
    check_files(call)
    check_no_overlap(call)
    check_channels(call)
    assert 40.0 <= call.duration_s <= 75.0
    assert (tmp_path / "ja_saas_discovery.stereo.wav").exists()
