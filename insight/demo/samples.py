"""Offline synthesiser of short, realistic sales calls for the demo and for tests.

The demo must work on a fresh clone with no audio checked in, and tests need recordings whose ground truth (who
spoke when, and what) is known exactly. So the call scripts live here as data and are rendered with local TTS:
Japanese with pyopenjtalk (a Python dependency, always present) and English with the ``espeak-ng`` binary (a system
package, optional: English is skipped with a warning when it is missing).

Every call is written three ways into the output directory:

* ``<key>.stereo.wav``: 16 kHz, 16-bit PCM, left = rep, right = customer (like a dual-channel dialler recording);
* ``<key>.mono.wav``: the two channels mixed;
* ``<key>.json``: the manifest, with each turn's tight ``start``/``end`` in seconds.

Rendering is deterministic: the same script gives byte-identical files on the same machine, so content-addressed
storage deduplicates repeated demo runs.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import subprocess
import tempfile
import wave
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from insight.errors import InsightError

log = logging.getLogger(__name__)

Language = Literal["ja", "en"]
FloatArray = npt.NDArray[np.float64]

SAMPLE_RATE = 16_000
CHANNELS: dict[str, str] = {"left": "rep", "right": "customer"}
# A third voice for multi-party calls: the customer's manager, on the customer's side of a stereo line.
SPEAKERS = ("rep", "customer", "manager")
SIDE: dict[str, str] = {"rep": "left", "customer": "right", "manager": "right"}

# Timeline shape. Gaps between turns are what people leave on a phone line; the lead-in/tail keep the first and last
# words away from the file edges so decoders and VAD see a little room tone first.
_GAP_RANGE_S = (0.3, 0.8)
_LEAD_IN_S = 0.5
_TAIL_S = 0.6
# Per-turn loudness: active-speech RMS at -20 dBFS, peaks capped so the mono mix of an overlap rarely clips.
_TARGET_RMS = 10 ** (-20 / 20)
_PEAK_CAP = 0.7
# A backchannel is spoken softer than a full turn, as it is in real calls.
_BACKCHANNEL_GAIN = 10 ** (-4 / 20)
# Room tone around -66 dBFS RMS: inaudible under speech, but the file is never digital silence (VAD and
# loudness code behave differently on exact zeros).
_NOISE_RMS = 10 ** (-66 / 20)
# Trimming: 10 ms frames quieter than this (relative to the loudest frame of the turn) count as silence.
_TRIM_FRAME = SAMPLE_RATE // 100
_TRIM_DB = -40.0
# Short raised-cosine fades at both ends of a trimmed turn avoid clicks where the cut lands mid-waveform.
_FADE_S = 0.008


@dataclass(frozen=True)
class Turn:
    """One utterance of a script.

    Attributes:
        speaker: ``"rep"`` (the vendor's sales rep, left channel) or ``"customer"`` (right channel).
        text: What is said, written the way an ASR system would transcribe it.
    """

    speaker: str
    text: str


@dataclass(frozen=True)
class Script:
    """A sales call as data: who says what, in order.

    Attributes:
        key: File-name-safe identifier, also the stem of the output files.
        language: ``"ja"`` (pyopenjtalk) or ``"en"`` (espeak-ng).
        title: Human title shown by the demo.
        turns: The turns in speaking order.
    """

    key: str
    language: Language
    title: str
    turns: tuple[Turn, ...]

    def __post_init__(self) -> None:
        unknown = {turn.speaker for turn in self.turns} - set(SPEAKERS)
        if unknown:
            raise ValueError(f"script {self.key!r}: unknown speakers {sorted(unknown)}, expected {SPEAKERS}")
        if not self.turns:
            raise ValueError(f"script {self.key!r} has no turns")


@dataclass(frozen=True)
class PlacedTurn:
    """A turn as it lies in the rendered file; ``start``/``end`` are seconds of actual speech (silence trimmed)."""

    speaker: str
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class SampleCall:
    """A rendered call: its files and the content of its manifest.

    Attributes:
        key: The script key.
        language: The script language.
        title: The script title.
        duration_s: Length of both WAV files in seconds.
        sample_rate: Sample rate of both WAV files (16 kHz).
        stereo_path: ``<key>.stereo.wav`` (left = rep, right = customer).
        mono_path: ``<key>.mono.wav`` (both speakers mixed).
        manifest_path: ``<key>.json``.
        turns: Turns sorted by start time, including the backchannel when ``overlap=True``.
        channels: Which speaker is on which stereo channel.
    """

    key: str
    language: Language
    title: str
    duration_s: float
    sample_rate: int
    stereo_path: Path
    mono_path: Path
    manifest_path: Path
    turns: tuple[PlacedTurn, ...]
    channels: dict[str, str] = field(default_factory=lambda: dict(CHANNELS))

    def to_manifest(self) -> dict[str, Any]:
        """Return the manifest as written to ``manifest_path``."""
        return {
            "key": self.key,
            "language": self.language,
            "title": self.title,
            "duration_s": self.duration_s,
            "sample_rate": self.sample_rate,
            "channels": dict(self.channels),
            "turns": [{"speaker": t.speaker, "text": t.text, "start": t.start, "end": t.end} for t in self.turns],
        }


class SynthesisUnavailable(InsightError):
    """The TTS engine a script needs is not installed (``espeak-ng`` for English)."""

    code = "synthesis_unavailable"


def _turns(*pairs: tuple[str, str]) -> tuple[Turn, ...]:
    return tuple(Turn(speaker, text) for speaker, text in pairs)


_R, _C = "rep", "customer"

SCRIPTS: tuple[Script, ...] = (
    Script(
        key="ja_saas_discovery",
        language="ja",
        title="初回ヒアリング: セールスナビ（東西物産）",
        turns=_turns(
            (
                _R,
                "お世話になっております。株式会社クラウドリンクの佐藤です。"
                "本日はお時間をいただき、ありがとうございます。",
            ),
            (_C, "こちらこそ、よろしくお願いします。東西物産の山田です。"),
            (_R, "さっそくですが、現在は営業の管理をどのようにされていますか。"),
            (
                _C,
                "今は他社のハブノートというツールを使っています。"
                "ただ、入力の手間が多くて、現場があまり使ってくれないんです。",
            ),
            (_R, "なるほど。弊社のセールスナビは、商談の録音から記録を自動で作るので、入力の手間をかなり減らせます。"),
            (_C, "それはいいですね。ちなみに、料金はどのくらいになりますか。"),
            (_R, "50名様でのご利用ですと、月額30万円ほどを想定しております。"),
            (_C, "予算の範囲には収まりそうです。ただ、最終的には部長の判断になります。"),
            (_R, "承知しました。では、部長様にもご覧いただけるよう、来週の火曜日にデモのお時間をいただけますか。"),
            (_C, "はい、火曜日の午後でしたら大丈夫です。部長にも声をかけておきます。"),
            (_R, "ありがとうございます。本日中に、資料と日程のご案内をメールでお送りします。"),
        ),
    ),
    Script(
        key="ja_pricing_followup",
        language="ja",
        title="デモ後のフォロー: コールノートの料金（丸山運輸）",
        turns=_turns(
            (
                _R,
                "お世話になっております。アオバシステムの高橋です。"
                "先日はデモにご参加いただき、ありがとうございました。",
            ),
            (_C, "ああ、高橋さん。丸山運輸の北川です。こちらこそ、ありがとうございました。"),
            (_R, "その後、社内でのご検討はいかがでしょうか。"),
            (_C, "現場の評判はいいです。ただ、ボイスメモ社の見積もりのほうが、少し安いんですよね。"),
            (
                _R,
                "コールノートは、通話の要約と次のアクションを自動で出せるところが強みです。"
                "年間契約でしたら、月額30万円を25万円にできます。",
            ),
            (_C, "25万円なら、今年度の予算内に収まります。"),
            (_R, "ありがとうございます。導入は、来月の初めから2週間ほどで完了する予定です。"),
            (_C, "わかりました。ただ、契約には情報システム部の部長の承認が必要です。"),
            (_R, "でしたら、来週の火曜日に、部長様向けにセキュリティのご説明とデモをさせていただけませんか。"),
            (_C, "いいですね。火曜日の10時からでお願いします。"),
            (_R, "承知しました。招待状をお送りしますので、ご確認をお願いします。"),
        ),
    ),
    Script(
        key="en_crm_discovery",
        language="en",
        title="Discovery call: Brightline CRM (Harbor Logistics)",
        turns=_turns(
            (_R, "Hi Jordan, this is Alex from Brightline. Thanks for making time today."),
            (_C, "Sure, happy to chat. We have about thirty sales reps here at Harbor Logistics."),
            (_R, "Great. How are you tracking your pipeline right now?"),
            (_C, "We use PipeTrack, but honestly, nobody keeps it up to date. The reports are always a week behind."),
            (
                _R,
                "That's really common. Brightline CRM logs your calls and emails automatically, "
                "so the pipeline updates itself.",
            ),
            (_C, "That sounds useful. What does the pricing look like?"),
            (
                _R,
                "It's forty five dollars per seat per month, so about thirteen hundred and fifty dollars a month "
                "for thirty seats.",
            ),
            (_C, "That fits our budget, but our VP of Sales, Maria, makes the final call."),
            (_R, "Makes sense. Could we set up a demo with Maria next Friday?"),
            (_C, "Next Friday works. Let's say ten in the morning."),
            (_R, "Perfect. I'll send the invite and a short summary right after this call."),
        ),
    ),
    Script(
        key="en_pricing_followup",
        language="en",
        title="Pricing follow-up: CallSpring (Northwind Foods)",
        turns=_turns(
            (_R, "Hi Priya, it's Sam from CallSpring. I wanted to follow up on the proposal we sent last week."),
            (_C, "Hi Sam. Yes, we went through it with the team on Monday."),
            (_R, "Great. Were there any questions about the plan?"),
            (
                _C,
                "The main concern is price. TalkMetrics offered us sixty dollars per seat, and you're at seventy five.",
            ),
            (
                _R,
                "I understand. With an annual contract, we can bring it down to sixty five per seat, "
                "and onboarding is included.",
            ),
            (_C, "That helps. Our budget is about three thousand dollars a month for forty seats."),
            (_R, "At sixty five per seat, forty seats comes to twenty six hundred a month, so you'd be under budget."),
            (_C, "Good. I still need sign off from our CFO before we commit."),
            (_R, "Of course. Would it help if I joined a short call with your CFO next Friday?"),
            (_C, "Yes, let's do next Friday at two p m. I'll send the invite."),
            (_R, "Sounds good. I'll send the updated quote today. Thanks, Priya."),
        ),
    ),
)

# Backchannels are short enough that a listener says them over the speaker without taking the turn.
_BACKCHANNELS: dict[str, str] = {"ja": "はい", "en": "Right."}


@dataclass(frozen=True)
class _JaVoice:
    speed: float
    half_tone: float
    formant: float = 1.0  # > 1 shorter vocal tract (higher formants), < 1 longer


@dataclass(frozen=True)
class _EnVoice:
    voice: str
    words_per_minute: int


# pyopenjtalk ships a single (female) HTS voice. half_tone moves only its pitch (the vocoder keeps the spectral
# envelope), which leaves the timbre a voice-print model listens to unchanged, so the other voices also get a formant
# shift: the waveform is resampled as if recorded at another rate (pitch, formants and tempo all scale by the factor),
# with speed and pitch pre-compensated. The customer is lower and darker (factor 0.84: median F0 about 250 Hz against
# 380 Hz for the rep), the manager darker still and slower. All run faster than the default 1.0, which sounds like an
# announcer reading, not a conversation (about 7 morae/s at 1.0, 8 at 1.15).
_JA_VOICES: dict[str, _JaVoice] = {
    "rep": _JaVoice(speed=1.15, half_tone=0.0),
    "customer": _JaVoice(speed=1.05, half_tone=-2.0, formant=0.84),
    "manager": _JaVoice(speed=0.95, half_tone=-5.0, formant=0.74),
}
# espeak-ng "+variant" suffixes change timbre and pitch: a US male rep (median F0 about 100 Hz) and a British female
# customer (about 200 Hz). The customer is "en+f3", not "en-gb+f3": espeak-ng 1.51 silently ignores the variant on
# "en-gb" and speaks with the default male voice.
_EN_VOICES: dict[str, _EnVoice] = {
    "rep": _EnVoice(voice="en-us+m3", words_per_minute=165),
    "customer": _EnVoice(voice="en+f3", words_per_minute=155),
    "manager": _EnVoice(voice="en-us+m7", words_per_minute=145),
}


def english_available() -> bool:
    """Tell whether English calls can be synthesised.

    Returns:
        True when the ``espeak-ng`` executable is on ``PATH``.
    """
    return shutil.which("espeak-ng") is not None


def synthesize(script: Script, out_dir: Path, *, overlap: bool = False) -> SampleCall:
    """Render one script to ``<key>.stereo.wav``, ``<key>.mono.wav`` and ``<key>.json`` in ``out_dir``.

    Args:
        script: The call to render (one of ``SCRIPTS`` or any other ``Script``).
        out_dir: Directory for the three files; created if missing. Existing files of the same key are replaced.
        overlap: Also let the listener say a short backchannel ("はい" / "Right.") inside the longest turn of the
            other speaker, so the call contains one stretch of overlapping speech.

    Returns:
        The rendered call, with paths and the manifest content.

    Raises:
        SynthesisUnavailable: The script is English and ``espeak-ng`` is not installed.
        ValueError: The script's language is not supported.
    """
    if script.language == "en" and not english_available():
        raise SynthesisUnavailable(
            f"cannot synthesise {script.key!r}: espeak-ng is not installed",
            hint="install it (Debian/Ubuntu: apt-get install espeak-ng) or use the Japanese samples",
        )
    if script.language not in ("ja", "en"):
        raise ValueError(f"script {script.key!r}: unsupported language {script.language!r}")

    clips = [_render_turn(script.language, turn.speaker, turn.text) for turn in script.turns]
    # One RNG per script, seeded from its key, so timing is stable across runs and independent of other scripts.
    # All gaps are drawn before anything optional, so overlap=True does not move the main turns.
    rng = np.random.default_rng(zlib.crc32(script.key.encode()))
    gaps = rng.uniform(*_GAP_RANGE_S, size=len(clips))

    placed: list[tuple[int, str, str, FloatArray]] = []  # (start sample, speaker, text, audio)
    cursor = _seconds_to_samples(_LEAD_IN_S)
    for turn, clip, gap in zip(script.turns, clips, gaps, strict=True):
        placed.append((cursor, turn.speaker, turn.text, clip))
        cursor += clip.size + _seconds_to_samples(float(gap))
    # The last gap is replaced by a fixed tail, so the file length only depends on the turns and the other gaps.
    total = cursor - _seconds_to_samples(float(gaps[-1])) + _seconds_to_samples(_TAIL_S)

    if overlap:
        backchannel = _place_backchannel(script.language, placed, float(rng.uniform(0.45, 0.65)))
        if backchannel is not None:
            placed.append(backchannel)
            placed.sort(key=lambda item: item[0])

    tracks = {speaker: np.zeros(total) for speaker in SPEAKERS}
    for start, speaker, _text, clip in placed:
        tracks[speaker][start : start + clip.size] += clip

    # Independent noise per channel, like two microphones; its own seed so it does not shift the timing draws.
    noise_rng = np.random.default_rng(zlib.crc32(f"{script.key}/noise".encode()))
    left = sum((tracks[sp] for sp in SPEAKERS if SIDE[sp] == "left"), np.zeros(total)) + _room_tone(noise_rng, total)
    right = sum((tracks[sp] for sp in SPEAKERS if SIDE[sp] == "right"), np.zeros(total)) + _room_tone(noise_rng, total)
    mono = left + right

    out_dir.mkdir(parents=True, exist_ok=True)
    call = SampleCall(
        key=script.key,
        language=script.language,
        title=script.title,
        duration_s=total / SAMPLE_RATE,
        sample_rate=SAMPLE_RATE,
        stereo_path=out_dir / f"{script.key}.stereo.wav",
        mono_path=out_dir / f"{script.key}.mono.wav",
        manifest_path=out_dir / f"{script.key}.json",
        turns=tuple(
            PlacedTurn(speaker, text, start / SAMPLE_RATE, (start + clip.size) / SAMPLE_RATE)
            for start, speaker, text, clip in placed
        ),
    )
    _write_wav(call.stereo_path, np.stack([left, right], axis=1))
    _write_wav(call.mono_path, mono[:, None])
    _write_bytes(call.manifest_path, (json.dumps(call.to_manifest(), ensure_ascii=False, indent=2) + "\n").encode())
    log.info("synthesised sample call %s (%.1f s, %d turns)", script.key, call.duration_s, len(call.turns))
    return call


def synthesize_all(out_dir: Path, *, languages: Iterable[str] = ("ja", "en")) -> list[SampleCall]:
    """Render every script in ``SCRIPTS`` whose language is requested.

    English scripts are skipped, with one logged warning, when ``espeak-ng`` is not installed, so the demo still
    works on a machine with only the Python dependencies.

    Args:
        out_dir: Directory for the files; created if missing.
        languages: Languages to render, out of ``"ja"`` and ``"en"``.

    Returns:
        The rendered calls, in ``SCRIPTS`` order.

    Raises:
        ValueError: A requested language has no scripts.
    """
    wanted = set(languages)
    unknown = wanted - {script.language for script in SCRIPTS}
    if unknown:
        raise ValueError(f"no sample scripts for languages {sorted(unknown)}")
    if "en" in wanted and not english_available():
        log.warning("espeak-ng is not installed; skipping the English sample calls (apt-get install espeak-ng)")
        wanted.discard("en")
    return [synthesize(script, out_dir) for script in SCRIPTS if script.language in wanted]


def _render_turn(language: str, speaker: str, text: str) -> FloatArray:
    """Synthesise, resample to 16 kHz, trim and level one utterance; returns float samples in [-1, 1]."""
    if language == "ja":
        audio, rate = _tts_japanese(text, _JA_VOICES[speaker])
    else:
        audio, rate = _tts_english(text, _EN_VOICES[speaker])
    return _level(_trim(_resample(audio, rate, SAMPLE_RATE)))


def _tts_japanese(text: str, voice: _JaVoice) -> tuple[FloatArray, int]:
    # Imported here: loading pyopenjtalk's dictionaries takes ~0.4 s, which every importer of this module (the API,
    # the CLI) would otherwise pay even when it never synthesises anything.
    import pyopenjtalk

    # Resampling by ``formant`` later multiplies pitch and tempo by it too: pre-compensate both.
    half_tone = voice.half_tone - 12.0 * math.log2(voice.formant)
    samples, rate = pyopenjtalk.tts(text, speed=voice.speed / voice.formant, half_tone=half_tone)
    # pyopenjtalk returns float64 on the int16 scale, not [-1, 1]. Declaring a rate of rate * formant is the
    # formant shift: played back at the true rate, everything scales by ``formant``.
    return np.asarray(samples, dtype=np.float64) / 32768.0, int(round(rate * voice.formant))


def _tts_english(text: str, voice: _EnVoice) -> tuple[FloatArray, int]:
    executable = shutil.which("espeak-ng")
    if executable is None:  # english_available() was checked by the caller; this keeps mypy and races honest
        raise SynthesisUnavailable("espeak-ng is not installed", hint="apt-get install espeak-ng")
    with tempfile.TemporaryDirectory(prefix="insight-tts-") as tmp:
        wav_path = Path(tmp) / "turn.wav"
        # Text goes through stdin, so nothing in a script can be taken for a command-line option.
        subprocess.run(
            [executable, "-v", voice.voice, "-s", str(voice.words_per_minute), "-w", str(wav_path), "--stdin"],
            input=text.encode(),
            check=True,
            capture_output=True,
        )
        return _read_wav_mono(wav_path)


def _read_wav_mono(path: Path) -> tuple[FloatArray, int]:
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM, got {8 * wav.getsampwidth()}-bit")
        rate, channels = wav.getframerate(), wav.getnchannels()
        frames = wav.readframes(wav.getnframes())
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768.0
    return samples.reshape(-1, channels).mean(axis=1), rate


def _resample(audio: FloatArray, rate_in: int, rate_out: int) -> FloatArray:
    """Band-limited resampling with a Kaiser-windowed sinc polyphase filter (numpy only, deterministic).

    48 kHz -> 16 kHz (pyopenjtalk) is a single phase; 22.05 kHz -> 16 kHz (espeak-ng) uses 320 phases. The cut-off
    sits at 94% of the lower Nyquist frequency, so nothing above 8 kHz folds back into the speech band.
    """
    if rate_in == rate_out:
        return audio.astype(np.float64, copy=True)
    common = math.gcd(rate_in, rate_out)
    up, down = rate_out // common, rate_in // common
    cutoff = min(1.0, rate_out / rate_in) * 0.94  # as a fraction of the input Nyquist frequency
    half_width = 24 / cutoff  # 24 zero crossings each side, in input samples
    taps = int(math.ceil(half_width))
    offsets = np.arange(-taps + 1, taps + 1)  # input samples around floor(t)

    # Filter bank: one row per fractional position m/up of the output sample between two input samples.
    distance = (np.arange(up) / up)[:, None] - offsets[None, :]
    ratio = np.clip(1.0 - (distance / half_width) ** 2, 0.0, None)
    bank = cutoff * np.sinc(cutoff * distance) * np.i0(8.6 * np.sqrt(ratio)) / np.i0(8.6)
    bank /= bank.sum(axis=1, keepdims=True)  # unity gain at DC for every phase

    n_out = audio.size * up // down
    padded = np.concatenate([np.zeros(taps), audio, np.zeros(taps + 1)])
    out = np.empty(n_out)
    chunk = 16_384  # bounds the gathered window matrix to a few tens of MB
    for first in range(0, n_out, chunk):
        n = np.arange(first, min(first + chunk, n_out), dtype=np.int64)
        position = n * down  # exact integer arithmetic: output n sits at input position (n * down) / up
        base, phase = position // up, position % up
        windows = padded[(base + taps)[:, None] + offsets[None, :]]
        out[first : first + n.size] = np.einsum("ij,ij->i", windows, bank[phase])
    return out


def _trim(audio: FloatArray) -> FloatArray:
    """Cut the leading and trailing TTS silence (to 10 ms resolution) so a turn's start/end are tight."""
    n_frames = audio.size // _TRIM_FRAME
    if n_frames == 0:
        return audio
    frames = audio[: n_frames * _TRIM_FRAME].reshape(n_frames, _TRIM_FRAME)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10 ** (_TRIM_DB / 20))
    if loud.size == 0:
        return audio
    trimmed = audio[loud[0] * _TRIM_FRAME : (loud[-1] + 1) * _TRIM_FRAME].copy()
    fade = min(_seconds_to_samples(_FADE_S), trimmed.size // 2)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, fade))
    trimmed[:fade] *= ramp
    trimmed[trimmed.size - fade :] *= ramp[::-1]
    return trimmed


def _level(audio: FloatArray) -> FloatArray:
    """Scale a turn to a common speech loudness, measured on its voiced frames only (pauses would skew a plain RMS)."""
    n_frames = audio.size // _TRIM_FRAME
    if n_frames == 0 or not np.any(audio):
        return audio
    frames = audio[: n_frames * _TRIM_FRAME].reshape(n_frames, _TRIM_FRAME)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    active = frames[rms > rms.max() * 10 ** (_TRIM_DB / 20)]
    gain = _TARGET_RMS / float(np.sqrt(np.mean(active**2)))
    gain = min(gain, _PEAK_CAP / float(np.abs(audio).max()))
    return audio * gain


def _place_backchannel(
    language: str, placed: list[tuple[int, str, str, FloatArray]], position: float
) -> tuple[int, str, str, FloatArray] | None:
    """Put the listener's backchannel inside the longest turn, ``position`` of the way through it."""
    start, speaker, _text, clip = max(placed, key=lambda item: item[3].size)
    listener = next(other for other in SPEAKERS if other != speaker)
    text = _BACKCHANNELS[language]
    audio = _render_turn(language, listener, text) * _BACKCHANNEL_GAIN
    # It must lie wholly inside the turn it answers, or it would collide with the listener's own neighbouring turns.
    if audio.size > clip.size // 3:
        return None
    offset = max(0, min(int(clip.size * position), clip.size - audio.size - _seconds_to_samples(0.2)))
    return start + offset, listener, text, audio


def _room_tone(rng: np.random.Generator, n: int) -> FloatArray:
    # A 4-tap moving average takes the hiss off white noise; the sqrt(4) factor restores the intended RMS.
    white = rng.standard_normal(n + 3) * _NOISE_RMS * 2.0
    return np.convolve(white, np.full(4, 0.25), mode="valid")


def _seconds_to_samples(seconds: float) -> int:
    return int(round(seconds * SAMPLE_RATE))


def _write_wav(path: Path, frames: FloatArray) -> None:
    """Write float frames (samples x channels) in [-1, 1] as 16-bit PCM."""
    pcm = np.clip(np.round(frames * 32767.0), -32768, 32767).astype("<i2")
    tmp = path.with_name(path.name + ".tmp")
    with wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(frames.shape[1])
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.tobytes())
    # Rename into place, so a reader (the demo's ingest) never sees a half-written file.
    os.replace(tmp, path)


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
