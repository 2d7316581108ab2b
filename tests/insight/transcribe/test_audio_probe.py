"""``probe_audio`` and ``sniff_format`` on bad inputs built at test time and on the real recordings in shared/data."""

from __future__ import annotations

import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from insight.errors import InsightError, InvalidAudio, InvalidUpload, UnsupportedMediaType
from insight.transcribe.audio_probe import AUDIO_KINDS, NON_MEDIA_KINDS, AudioInfo, probe_audio, sniff_format
from tests.fixtures import bad_audio

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
AUDIO = SHARED_DATA / "audio"


@dataclass(frozen=True)
class BadCase:
    build: Callable[[Path], Path]
    error: type[InsightError]
    code: str
    max_duration_s: float | None = None


BAD_CASES: dict[str, BadCase] = {
    "empty": BadCase(bad_audio.empty_file, InvalidUpload, "empty_file"),
    "random_bytes_mp3": BadCase(bad_audio.random_bytes_mp3, UnsupportedMediaType, "unsupported_media_type"),
    "png": BadCase(bad_audio.png_file, UnsupportedMediaType, "unsupported_media_type"),
    "text_as_wav": BadCase(bad_audio.text_as_wav, UnsupportedMediaType, "unsupported_media_type"),
    "truncated_m4a_moov_at_end": BadCase(bad_audio.truncated_m4a, InvalidAudio, "truncated"),
    "truncated_m4a_faststart": BadCase(lambda d: bad_audio.truncated_m4a(d, faststart=True), InvalidAudio, "truncated"),
    "truncated_mp3": BadCase(bad_audio.truncated_mp3, InvalidAudio, "truncated"),
    "truncated_flac": BadCase(bad_audio.truncated_flac, InvalidAudio, "truncated"),
    "truncated_wav": BadCase(bad_audio.truncated_wav, InvalidAudio, "truncated"),
    "wav_claiming_hours": BadCase(bad_audio.wav_claiming_hours, InvalidAudio, "truncated"),
    "wav_claiming_hours_capped": BadCase(bad_audio.wav_claiming_hours, InvalidAudio, "too_long", max_duration_s=3600),
    "too_long_decoded": BadCase(
        lambda d: bad_audio.good_wav(d / "five.wav", 5.0, 1), InvalidAudio, "too_long", max_duration_s=2.0
    ),
    "mp4_no_audio": BadCase(bad_audio.mp4_no_audio, InvalidAudio, "no_audio_track"),
    "corrupt_m4a": BadCase(bad_audio.corrupt_m4a, InvalidAudio, "undecodable"),
    "corrupt_flac": BadCase(bad_audio.corrupt_flac, InvalidAudio, "undecodable"),
}


@pytest.mark.parametrize("name", list(BAD_CASES))
def test_bad_input_is_rejected(name: str, tmp_path: Path) -> None:
    case = BAD_CASES[name]
    path = case.build(tmp_path)
    with pytest.raises(InsightError) as info:
        probe_audio(path, max_duration_s=case.max_duration_s)
    exc = info.value
    assert type(exc) is case.error, exc.to_dict()
    assert exc.code == case.code, exc.to_dict()
    assert exc.message.strip(), exc.to_dict()
    assert exc.hint.strip(), exc.to_dict()


def test_mp3_without_duration_claim_is_accepted_as_is(tmp_path: Path) -> None:
    """Nothing in a Xing-less MP3 says how long it should be: a cut copy is a shorter recording."""
    info = probe_audio(bad_audio.mp3_without_duration_claim(tmp_path, seconds=6.0))
    assert info.format_name == "mp3"
    assert info.codec == "mp3"
    assert info.container_duration_s is None
    assert 2.0 < info.duration_s < 4.0


@pytest.mark.parametrize(
    ("channels", "identical", "dual_mono"),
    [(1, False, False), (2, False, False), (2, True, True)],
)
def test_good_wav(tmp_path: Path, channels: int, identical: bool, dual_mono: bool) -> None:
    path = bad_audio.good_wav(tmp_path / "good.wav", 3.0, channels, identical_channels=identical)
    info = probe_audio(path, max_duration_s=60.0)
    assert info == AudioInfo(
        format_name="wav",
        codec="pcm_s16le",
        duration_s=pytest.approx(3.0),  # type: ignore[arg-type]
        container_duration_s=pytest.approx(3.0),  # type: ignore[arg-type]
        sample_rate=16000,
        channels=channels,
        dual_mono=dual_mono,
        peak_dbfs=pytest.approx(-10.46, abs=0.05),  # type: ignore[arg-type]
        rms_dbfs=pytest.approx(-15.19, abs=0.05),  # type: ignore[arg-type]
    )


def test_silent_wav_reports_floor_levels(tmp_path: Path) -> None:
    info = probe_audio(bad_audio.silent_wav(tmp_path / "silence.wav", 2.0))
    assert info.duration_s == pytest.approx(2.0)
    assert info.peak_dbfs == -120.0
    assert info.rms_dbfs == -120.0


def test_oversized_file_is_sparse_valid_audio(tmp_path: Path) -> None:
    size = 5 * 1024 * 1024
    path = bad_audio.oversized_file(tmp_path / "big.wav", size)
    assert path.stat().st_size == size
    info = probe_audio(path)
    assert info.duration_s == pytest.approx((size - 44) / 32000, abs=0.01)
    assert info.peak_dbfs == -120.0


def test_too_long_without_claim_stops_while_decoding(tmp_path: Path) -> None:
    """Nothing claims a duration in a Xing-less MP3, so the cap is enforced by the decoding loop itself."""
    path = bad_audio.mp3_without_duration_claim(tmp_path, seconds=6.0, cut=False)
    assert probe_audio(path).container_duration_s is None
    with pytest.raises(InvalidAudio) as info:
        probe_audio(path, max_duration_s=2.0)
    assert info.value.code == "too_long"


def test_streaming_wav_placeholder_size_is_not_truncation(tmp_path: Path) -> None:
    """Recorders that never patch the header leave 0xFFFFFFFF as data size: that is no claim, not a cut."""
    path = bad_audio.good_wav(tmp_path / "stream.wav", 2.0, 1)
    data = bytearray(path.read_bytes())
    index = data.index(b"data")
    data[index + 4 : index + 8] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(data))
    assert probe_audio(path).duration_s == pytest.approx(2.0)


def test_colon_in_file_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative name with a colon must not be taken for an FFmpeg protocol."""
    bad_audio.good_wav(tmp_path / "rec:01.wav", 1.0, 1)
    monkeypatch.chdir(tmp_path)
    assert probe_audio(Path("rec:01.wav")).duration_s == pytest.approx(1.0)


def test_bad_inputs_sniff_as_expected(tmp_path: Path) -> None:
    assert sniff_format(bad_audio.png_file(tmp_path).read_bytes()[:4096]) == "png"
    assert sniff_format(bad_audio.text_as_wav(tmp_path).read_bytes()[:4096]) == "text"
    assert sniff_format(bad_audio.random_bytes_mp3(tmp_path).read_bytes()[:4096]) is None
    assert sniff_format(bad_audio.mp4_no_audio(tmp_path).read_bytes()[:4096]) == "mp4"
    assert sniff_format(bad_audio.truncated_mp3(tmp_path).read_bytes()[:4096]) == "mp3"
    assert sniff_format(bad_audio.truncated_flac(tmp_path).read_bytes()[:4096]) == "flac"
    assert sniff_format(bad_audio.good_wav(tmp_path / "g.wav", 0.1, 1).read_bytes()[:4096]) == "wav"


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "wav"),
        (b"RIFF\x24\x00\x00\x00AVI LIST", "avi"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
        (b"fLaC\x00\x00\x00\x22", "flac"),
        (b"OggS\x00\x02", "ogg"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "mp4"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "heic"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "matroska"),
        (b"FORM\x00\x00\x10\x00AIFFCOMM", "aiff"),
        (b"caff\x00\x01\x00\x00", "caf"),
        (b"#!AMR\n", "amr"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x23", "mp3"),
        (b"\xff\xf1\x50\x80\x02\x1f\xfc", "aac"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", "png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"GIF89a\x01\x00", "gif"),
        (b"%PDF-1.7\n", "pdf"),
        (b"PK\x03\x04\x14\x00", "zip"),
        (b"hello, this is not audio\n", "text"),
        (b'{"transcript": "hi"}', "json"),
        (b"<!DOCTYPE html><html><body>", "html"),
        (b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n", "playlist"),
        (b"#EXTM3U\n#EXTINF:10,caf\xe9\n/etc/passwd\n", "playlist"),
        (b"ffconcat version 1.0\nfile a.wav\n", "playlist"),
        (b"Great call today, follow up on Tuesday.\n", "text"),
        (b"ID3 tags are explained below.\n", "text"),
        ("Caf\u00e9 notes: r\u00e9union lundi.\n".encode("latin-1") * 10, "text"),
        ("Hello, call notes".encode("utf-16"), "text"),
        (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", None),
        (b"", None),
    ],
)
def test_sniff_format(head: bytes, kind: str | None) -> None:
    assert sniff_format(head) == kind
    if kind is not None:
        assert (kind in AUDIO_KINDS) != (kind in NON_MEDIA_KINDS)


def test_sniff_mp3_frame_sync_needs_a_second_frame() -> None:
    # MPEG-1 layer III, 128 kb/s, 44.1 kHz: frames of 417 bytes.
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 413
    assert sniff_format(frame * 3) == "mp3"
    assert sniff_format(frame[:4] + b"\x01" * 600) is None


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"test data not present: {path}")
    return path


# name -> (sample_rate, channels, dual_mono, codec, format_name)
REAL_FILES: dict[str, tuple[int, int, bool, str, str]] = {
    "en/jfk.flac": (44100, 2, True, "flac", "flac"),  # channels differ only at -37 dB: a mono recording
    "en/Auto_Repairs_40_UTC_stereo_L-caller_R-agent.wav": (8000, 2, False, "pcm_s16le", "wav"),
    "en/stereo_diarization.wav": (16000, 2, False, "pcm_s16le", "wav"),
    "ja/test_ja_2.wav": (44100, 2, True, "pcm_s16le", "wav"),  # not bit-identical: |L-R| <= 46 LSB, -59 dB
    "ja/test_en_1.wav": (16000, 1, False, "pcm_s16le", "wav"),
    "en/test_call_audio.wav": (16000, 1, False, "pcm_s16le", "wav"),
    "en/katiesteve.wav": (16000, 1, False, "pcm_s16le", "wav"),
}


@pytest.mark.parametrize("name", list(REAL_FILES))
def test_real_recording(name: str) -> None:
    path = _require(AUDIO / name)
    rate, channels, dual_mono, codec, format_name = REAL_FILES[name]
    info = probe_audio(path, max_duration_s=4 * 3600)
    assert (info.sample_rate, info.channels, info.dual_mono) == (rate, channels, dual_mono)
    assert (info.codec, info.format_name) == (codec, format_name)
    assert info.container_duration_s is not None
    assert info.duration_s == pytest.approx(info.container_duration_s, abs=0.05)
    assert -60.0 < info.rms_dbfs < info.peak_dbfs <= 0.0
    if format_name == "wav":
        with wave.open(str(path)) as w:
            assert info.duration_s == pytest.approx(w.getnframes() / w.getframerate(), abs=1e-6)


def test_real_recording_duration_cap() -> None:
    path = _require(AUDIO / "en" / "Auto_Repairs_40_UTC_stereo_L-caller_R-agent.wav")  # 245 s
    with pytest.raises(InvalidAudio) as info:
        probe_audio(path, max_duration_s=60.0)
    assert info.value.code == "too_long"
