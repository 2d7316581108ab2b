"""Media type and file-name extension of a recording, from the container FFmpeg probed (files encoded at test time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from insight.transcribe.audio_probe import probe_audio
from insight.transcribe.formats import OCTET_STREAM, media_kind, with_extension
from tests.fixtures import bad_audio

# (encoder, muxer, sample rate) -> (media type, extension)
ENCODED = {
    "wav": (("pcm_s16le", "wav", 16000), ("audio/wav", "wav")),
    "mp3": (("libmp3lame", "mp3", 44100), ("audio/mpeg", "mp3")),
    "flac": (("flac", "flac", 44100), ("audio/flac", "flac")),
    "ogg_opus": (("libopus", "ogg", 48000), ("audio/ogg", "ogg")),
    "m4a": (("aac", "ipod", 44100), ("audio/mp4", "m4a")),
    "webm": (("libopus", "webm", 48000), ("audio/webm", "webm")),
    "mka_aac": (("aac", "matroska", 44100), ("audio/x-matroska", "mka")),
    "aiff": (("pcm_s16be", "aiff", 44100), ("audio/aiff", "aiff")),
    "adts": (("aac", "adts", 44100), ("audio/aac", "aac")),
    "mpegts": (("mp2", "mpegts", 44100), (OCTET_STREAM, "ts")),
    "avi": (("pcm_s16le", "avi", 44100), (OCTET_STREAM, "avi")),
}


@pytest.mark.parametrize("name", list(ENCODED))
def test_kind_follows_the_probed_container(name: str, tmp_path: Path) -> None:
    (codec, muxer, rate), (media_type, extension) = ENCODED[name]
    path = bad_audio._encode(tmp_path / "upload.html", codec=codec, container_format=muxer, seconds=1.0, rate=rate)
    info = probe_audio(path)
    kind = media_kind(info.format_name, info.codec)
    assert (kind.media_type, kind.extension) == (media_type, extension)
    assert kind.playable == media_type.startswith("audio/")
    assert with_extension("upload.html", kind) == f"upload.{extension}"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("q3-forecast.htm", "q3-forecast.wav"),
        ("q3-forecast.HTML", "q3-forecast.wav"),
        ("payload.svg", "payload.wav"),
        ("Call.WAV", "Call.WAV"),  # already a name of the format: kept as it is
        ("recording.wave", "recording.wave"),
        ("recording", "recording.wav"),
        ("商談 with Mr. Tanaka", "商談 with Mr. Tanaka.wav"),  # not an extension: kept, one appended
        ("meeting.2026.05.01", "meeting.2026.05.01.wav"),
        (".htaccess", ".htaccess.wav"),
        ("a" * 253 + ".htm", "a" * 251 + ".wav"),  # within 255 bytes
        ("議" * 85 + ".mp3", "議" * 83 + ".wav"),  # 3-byte characters: whole characters dropped
    ],
)
def test_with_extension(name: str, expected: str) -> None:
    out = with_extension(name, media_kind("wav"))
    assert out == expected
    assert len(out.encode()) <= 255


def test_unknown_container_downloads_under_its_own_name() -> None:
    kind = media_kind("w64", "pcm_s16le")
    assert (kind.media_type, kind.extension, kind.playable) == (OCTET_STREAM, "w64", False)
    odd = media_kind("some format/with slashes")
    assert (odd.media_type, odd.extension) == (OCTET_STREAM, "bin")
