"""Validate an uploaded recording and describe it before anything else touches it.

``probe_audio`` answers "can we transcribe this, and what is it?" in one streaming pass:

* cheap checks first: empty file, magic-byte sniffing (an image or a text file is rejected without ever being handed
  to FFmpeg), the duration the headers claim (a tiny file claiming hours is rejected before decoding);
* then the first audio stream is decoded end to end with PyAV, frame by frame, keeping only running statistics
  (peak, RMS, left/right similarity), so memory stays flat whatever the length of the recording;
* finally the decoded duration is compared with the claimed one, because FFmpeg happily returns the first half of a
  truncated MP3 or WAV without any error.

Every rejection is an ``InsightError`` subclass with a stable ``code``, a ``message`` and a ``hint``.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.container import InputContainer

from insight.errors import InvalidAudio, InvalidUpload, UnsupportedMediaType

__all__ = [
    "AUDIO_KINDS",
    "NON_MEDIA_KINDS",
    "AudioInfo",
    "probe_audio",
    "sniff_format",
]

# Kinds ``sniff_format`` reports for containers/streams that may carry audio.
AUDIO_KINDS = frozenset(
    {
        "wav", "flac", "mp3", "aac", "ogg", "mp4", "webm", "matroska", "aiff", "caf", "amr", "asf", "au", "avi",
        "mpegts", "mpegps", "ac3", "wavpack", "ape",
    }
)  # fmt: skip
# Kinds that are certainly not audio: rejected before FFmpeg sees them. Text matters most: FFmpeg can open text
# playlists (HLS, concat) that reference other files, so text never reaches it.
NON_MEDIA_KINDS = frozenset(
    {
        "png", "jpeg", "gif", "bmp", "tiff", "webp", "heic", "avif", "ico", "pdf", "postscript", "rtf", "zip",
        "gzip", "bzip2", "xz", "7z", "rar", "elf", "exe", "ole", "sqlite", "midi", "text", "json", "html", "xml",
        "playlist",
    }
)  # fmt: skip

_HEAD_BYTES = 4096
_DB_FLOOR = -120.0  # dBFS reported for digital silence (same convention as ``audio.rms_dbfs``)
_BLOCK_S = 1.0  # statistics are computed on ~1 s blocks: few numpy calls, fine enough for the dual-mono test
# Dual mono: the side signal (L-R) must be 30 dB below the mid signal (L+R) over the whole file, and no loud block
# may have side within 20 dB of mid, so a call where one speaker appears on one channel only is never merged.
_DUAL_MONO_TOTAL = 10.0 ** (-30.0 / 10.0)
_DUAL_MONO_BLOCK = 10.0 ** (-20.0 / 10.0)
_LOUD_BLOCK = 10.0 ** (-50.0 / 10.0)  # mean-square level above which a block counts for the per-block test
# Decoded duration may fall short of the claimed one by this much before the file is called truncated (encoder
# delay/padding and container rounding account for a few tens of milliseconds).
_TRUNCATION_ABS_S = 0.5
_TRUNCATION_REL = 0.02
# A few corrupt packets (a glitch in an hour-long call, the partial last frame of a cut stream) are skipped; more
# than this means the stream is garbage.
_MAX_BAD_PACKETS_ABS = 3
_MAX_BAD_PACKETS_REL = 0.01
# Raw elementary streams have no duration header: FFmpeg estimates one from the bit rate, which is wrong for VBR
# files, so it must not be used to call a file truncated.
_NO_DURATION_HEADER_FORMATS = frozenset({"aac", "ac3", "eac3", "dts", "truehd", "mpeg", "mpegts", "amr", "loas"})
# Containers that store the duration in the container header rather than per stream.
_CONTAINER_DURATION_FORMATS = frozenset({"matroska,webm", "asf"})
# Sample formats (planar suffix "p" removed): numpy dtype and the offset/full-scale mapping samples to [-1, 1].
_SAMPLE_FORMATS: dict[str, tuple[str, float, float]] = {
    "u8": ("u1", 128.0, 128.0),
    "s16": ("i2", 0.0, 32768.0),
    "s32": ("i4", 0.0, 2147483648.0),
    "s64": ("i8", 0.0, 9223372036854775808.0),
    "flt": ("f4", 0.0, 1.0),
    "dbl": ("f8", 0.0, 1.0),
}


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What ``probe_audio`` learned about a recording.

    Attributes:
        format_name: FFmpeg's container name, e.g. ``"wav"``, ``"mp3"``, ``"mov,mp4,m4a,3gp,3g2,mj2"``.
        codec: canonical codec name of the first audio stream, e.g. ``"pcm_s16le"``, ``"mp3"``, ``"aac"``.
        duration_s: duration actually decoded.
        container_duration_s: duration the headers claim, or None when they claim nothing trustworthy.
        sample_rate: sample rate of the decoded audio.
        channels: channel count of the decoded audio.
        dual_mono: True when a 2-channel file carries (near-)identical channels: transcribe it as mono.
        peak_dbfs: highest absolute sample, in dBFS (-120 for digital silence).
        rms_dbfs: RMS level over all channels, in dBFS (-120 for digital silence).
    """

    format_name: str
    codec: str
    duration_s: float
    container_duration_s: float | None
    sample_rate: int
    channels: int
    dual_mono: bool
    peak_dbfs: float
    rms_dbfs: float


# --------------------------------------------------------------------------------------------------------------
# Magic-byte sniffing
# --------------------------------------------------------------------------------------------------------------

# MPEG audio header tables, indexed [version][layer] where version is 1 (MPEG-1) or 2 (MPEG-2 and 2.5).
_MPA_BITRATES_KBPS: dict[tuple[int, int], tuple[int, ...]] = {
    (1, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (2, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPA_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}  # keyed by version bits


@dataclass(frozen=True, slots=True)
class _MpaHeader:
    mpeg1: bool
    layer: int
    sample_rate: int
    mono: bool
    frame_bytes: int  # 0 for free-format streams

    @property
    def samples_per_frame(self) -> int:
        if self.layer == 1:
            return 384
        return 1152 if (self.mpeg1 or self.layer == 2) else 576


def _mpa_header(data: bytes, pos: int) -> _MpaHeader | None:
    """Parse the 4-byte MPEG audio frame header at ``pos``, or None if it is not a valid one."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    version_bits, layer_bits = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
    if version_bits == 1 or layer_bits == 0 or bitrate_index == 15 or rate_index == 3:
        return None
    layer = 4 - layer_bits
    mpeg1 = version_bits == 3
    rate = _MPA_RATES[version_bits][rate_index]
    kbps = _MPA_BITRATES_KBPS[(1 if mpeg1 else 2, layer)][bitrate_index]
    padding = (b2 >> 1) & 1
    if kbps == 0:
        size = 0
    elif layer == 1:
        size = (12 * kbps * 1000 // rate + padding) * 4
    elif layer == 3 and not mpeg1:
        size = 72 * kbps * 1000 // rate + padding
    else:
        size = 144 * kbps * 1000 // rate + padding
    return _MpaHeader(mpeg1=mpeg1, layer=layer, sample_rate=rate, mono=(b3 >> 6) == 3, frame_bytes=size)


def _looks_like_mpa(head: bytes, pos: int = 0) -> bool:
    """True when ``head`` has an MPEG audio frame at ``pos`` and, if the head is long enough, another right after.

    Requiring the second sync word keeps random bytes that happen to start with 0xFFE from passing as MP3.
    """
    first = _mpa_header(head, pos)
    if first is None:
        return False
    nxt = pos + first.frame_bytes
    if first.frame_bytes == 0 or nxt + 4 > len(head):
        return True
    return _mpa_header(head, nxt) is not None


def _id3v2_size(head: bytes) -> int:
    """Total size of a leading ID3v2 tag (header, body and optional footer), or 0 when there is none."""
    # Version 2-4 and 7-bit ("syncsafe") size bytes: text that merely starts with "ID3" is not a tag.
    if len(head) < 10 or head[:3] != b"ID3" or head[3] not in (2, 3, 4) or any(b & 0x80 for b in head[6:10]):
        return 0
    body = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
    return 10 + body + (10 if head[5] & 0x10 else 0)


def _sniff_text(head: bytes) -> str | None:
    """Classify ``head`` as text/json/html/xml/playlist when it decodes as text, else None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = head[2 : len(head) & ~1].decode("utf-16-le" if head[0] == 0xFF else "utf-16-be")
        except UnicodeDecodeError:
            return None
    else:
        if b"\x00" in head:
            return None
        text = ""
        # The head may end in the middle of a multi-byte character: drop up to 3 trailing bytes.
        for cut in range(4):
            try:
                text = head[: len(head) - cut].decode("utf-8")
                break
            except UnicodeDecodeError:
                continue
        else:
            # Legacy 8-bit text (Latin-1, Windows-1252): nearly every byte printable. Media payloads are dense
            # binary where about a quarter of the bytes are control codes, far from this threshold.
            texty = sum(1 for b in head if 0x20 <= b < 0x7F or b >= 0xA0 or b in (0x09, 0x0A, 0x0D))
            if texty < 0.97 * len(head):
                return None
            text = head.decode("latin-1")
        text = text.removeprefix("\ufeff")
    if not text:
        return None
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\t\r\n\f")
    if printable < 0.95 * len(text):
        return None
    start = text.lstrip().lower()
    if start.startswith("#extm3u") or start.startswith("ffconcat") or start.startswith("[playlist]"):
        return "playlist"
    if start.startswith(("<!doctype html", "<html")):
        return "html"
    if start.startswith(("<?xml", "<svg")):
        return "xml"
    if start.startswith(("{", "[")):
        return "json"
    return "text"


def sniff_format(head: bytes) -> str | None:
    """Identify a file from its first bytes.

    Args:
        head: the first bytes of the file (4 KiB is plenty; fewer work for most formats).

    Returns:
        A short kind. Media kinds are listed in ``AUDIO_KINDS`` (``"wav"``, ``"flac"``, ``"mp3"``, ``"aac"``,
        ``"ogg"``, ``"mp4"``, ``"webm"``, ``"matroska"``, ``"aiff"``, ``"caf"``, ``"amr"``, ``"asf"``, ...);
        certainly-not-audio kinds in ``NON_MEDIA_KINDS`` (``"png"``, ``"jpeg"``, ``"gif"``, ``"pdf"``,
        ``"zip"``, ``"text"``, ``"json"``, ``"html"``, ...). None when the bytes match nothing known.
    """
    if not head:
        return None
    tag4, box = head[:4], head[4:8]
    riff_type = head[8:12]
    if tag4 in (b"RIFF", b"RIFX", b"RF64", b"BW64"):
        return {b"WAVE": "wav", b"AVI ": "avi", b"WEBP": "webp"}.get(riff_type)
    if tag4 == b"FORM" and riff_type in (b"AIFF", b"AIFC"):
        return "aiff"
    if box == b"ftyp":
        # HEIF/AVIF images are ISO-BMFF too; tell them apart by their major brand.
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return "heic"
        if brand in (b"avif", b"avis"):
            return "avif"
        return "mp4"
    if box in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot") and int.from_bytes(tag4, "big") >= 8:
        return "mp4"  # QuickTime files written without an ftyp box
    simple: tuple[tuple[bytes, str], ...] = (
        (b"fLaC", "flac"),
        (b"OggS", "ogg"),
        (b"caff", "caf"),
        (b"#!AMR", "amr"),
        (b"0&\xb2u\x8ef\xcf\x11", "asf"),
        (b".snd", "au"),
        (b"wvpk", "wavpack"),
        (b"MAC ", "ape"),
        (b"\x00\x00\x01\xba", "mpegps"),
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"\xff\xd8\xff", "jpeg"),
        (b"GIF87a", "gif"),
        (b"GIF89a", "gif"),
        (b"II*\x00", "tiff"),
        (b"MM\x00*", "tiff"),
        (b"\x00\x00\x01\x00", "ico"),
        (b"%PDF-", "pdf"),
        (b"%!PS", "postscript"),
        (b"{\\rtf", "rtf"),
        (b"PK\x03\x04", "zip"),
        (b"PK\x05\x06", "zip"),
        (b"PK\x07\x08", "zip"),
        (b"\x1f\x8b", "gzip"),
        (b"BZh", "bzip2"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
        (b"Rar!\x1a\x07", "rar"),
        (b"\x7fELF", "elf"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
        (b"SQLite format 3\x00", "sqlite"),
        (b"MThd", "midi"),
        # Playlists are matched before any text decoding: FFmpeg's HLS/concat demuxers would open what they list.
        (b"#EXTM3U", "playlist"),
        (b"ffconcat", "playlist"),
        (b"[playlist]", "playlist"),
    )
    for magic, kind in simple:
        if head.startswith(magic):
            return kind
    if tag4 == b"\x1a\x45\xdf\xa3":
        # EBML: the DocType element says whether it is WebM or generic Matroska.
        return "webm" if b"webm" in head[:64] else "matroska"
    if head.startswith(b"MZ") and len(head) >= 64:
        return "exe"
    if head.startswith(b"BM") and len(head) >= 14 and head[6:10] == b"\x00\x00\x00\x00":
        return "bmp"
    id3 = _id3v2_size(head)
    if id3:
        # ID3v2 precedes MP3 (mostly) or ADTS AAC; look past the tag when it fits in the head.
        if id3 + 4 <= len(head) and head[id3] == 0xFF and head[id3 + 1] & 0xF6 == 0xF0:
            return "aac"
        return "mp3"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and (text := _sniff_text(head)) is not None:
        return text  # a UTF-16 byte-order mark is also a valid MPEG layer I sync word
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "aac"  # ADTS sync word with layer 0
    if _looks_like_mpa(head):
        return "mp3"
    if head[0] == 0x47 and len(head) > 188 and head[188] == 0x47:  # two 188-byte packets; "G..." text is not TS
        return "mpegts"
    if head.startswith(b"\x0b\x77"):
        return "ac3"
    return _sniff_text(head)


# --------------------------------------------------------------------------------------------------------------
# Duration claims read from headers
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _WavClaim:
    duration_s: float
    present_s: float  # what the bytes actually in the file hold
    missing_bytes: int  # bytes the data chunk claims beyond the end of the file


def _wav_claim(path: Path, size: int) -> _WavClaim | None:
    """Duration claimed by the RIFF ``data`` chunk size, or None when the header makes no usable claim.

    FFmpeg clamps the data size to the file size, so a cut WAV looks whole to it; the header is read here instead.
    """
    with path.open("rb") as f:
        riff = f.read(12)
        if len(riff) < 12 or riff[:4] not in (b"RIFF", b"RIFX") or riff[8:12] != b"WAVE":
            return None  # RF64/BW64 keep the real size in a ds64 chunk; FFmpeg's own claim is used for those
        endian = ">" if riff[:4] == b"RIFX" else "<"
        bytes_per_s = 0
        pos = 12
        for _ in range(256):  # bounded: a crafted file cannot make us loop
            f.seek(pos)
            header = f.read(8)
            if len(header) < 8:
                return None
            chunk_id, chunk_size = header[:4], struct.unpack(endian + "I", header[4:])[0]
            if chunk_id == b"fmt ":
                fmt = f.read(16)
                if len(fmt) < 16:
                    return None
                tag, _, rate, byte_rate, block_align, _ = struct.unpack(endian + "HHIIHH", fmt)
                # For PCM/float/G.711 the frame size is exact; the byte-rate field is sometimes written wrong.
                pcm = tag in (1, 3, 6, 7, 0xFFFE) and block_align > 0 and rate > 0
                bytes_per_s = block_align * rate if pcm else byte_rate
            elif chunk_id == b"data":
                # 0 and 0xFFFFFFFF are placeholders written by streaming recorders that never patch the header.
                if bytes_per_s <= 0 or chunk_size in (0, 0xFFFFFFFF):
                    return None
                missing = max(0, pos + 8 + chunk_size - size)
                return _WavClaim(chunk_size / bytes_per_s, (chunk_size - missing) / bytes_per_s, missing)
            pos += 8 + chunk_size + (chunk_size & 1)  # chunks are word-aligned
    return None


def _mp3_claim(path: Path) -> float | None:
    """Duration claimed by a Xing/Info or VBRI header in the first MP3 frame, or None without one.

    Without such a header FFmpeg estimates the duration from the first frame's bit rate, which is wrong for VBR
    files; only a real frame count is trusted to call a file truncated.
    """
    with path.open("rb") as f:
        head = f.read(10)
        offset = _id3v2_size(head)
        f.seek(offset)
        data = f.read(16384)
    # Skip junk/padding between the tag and the first frame (some taggers pad with zeros).
    for pos in range(min(len(data), 8192)):
        if _looks_like_mpa(data, pos):
            header = _mpa_header(data, pos)
            break
    else:
        return None
    assert header is not None
    side_info = (17 if header.mono else 32) if header.mpeg1 else (9 if header.mono else 17)
    xing = pos + 4 + side_info
    frames: int | None = None
    if data[xing : xing + 4] in (b"Xing", b"Info") and len(data) >= xing + 12:
        flags = int.from_bytes(data[xing + 4 : xing + 8], "big")
        if flags & 1:
            frames = int.from_bytes(data[xing + 8 : xing + 12], "big")
    vbri = pos + 4 + 32
    if frames is None and data[vbri : vbri + 4] == b"VBRI" and len(data) >= vbri + 18:
        frames = int.from_bytes(data[vbri + 14 : vbri + 18], "big")
    if not frames:
        return None
    return frames * header.samples_per_frame / header.sample_rate


@dataclass(frozen=True, slots=True)
class _Mp4Boxes:
    has_moov: bool
    cut: bool  # a top-level box runs past the end of the file


def _mp4_boxes(path: Path, size: int) -> _Mp4Boxes:
    """Walk the top-level ISO-BMFF boxes (a few seeks, no payload read) to explain a truncated MP4/M4A."""
    has_moov = False
    pos = 0
    with path.open("rb") as f:
        for _ in range(4096):
            if pos >= size:
                return _Mp4Boxes(has_moov, cut=False)
            f.seek(pos)
            header = f.read(16)
            if len(header) < 8:
                return _Mp4Boxes(has_moov, cut=True)
            box_size, box_type = int.from_bytes(header[:4], "big"), header[4:8]
            if box_size == 1:
                if len(header) < 16:
                    return _Mp4Boxes(has_moov, cut=True)
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                box_size = size - pos  # "extends to end of file"
            has_moov = has_moov or box_type == b"moov"
            if box_size < 8:
                return _Mp4Boxes(has_moov, cut=False)  # corrupt; let FFmpeg's verdict stand
            if pos + box_size > size:
                return _Mp4Boxes(has_moov, cut=True)
            pos += box_size
    return _Mp4Boxes(has_moov, cut=False)


def _claimed_duration(
    container: InputContainer, stream: AudioStream, path: Path, wav: _WavClaim | None
) -> float | None:
    """The duration the headers claim for ``stream``, when they claim one that can be trusted."""
    fmt = str(container.format.name)
    if fmt == "wav":
        if wav is not None:
            return wav.duration_s
    elif fmt == "mp3":
        return _mp3_claim(path)
    elif fmt in _NO_DURATION_HEADER_FORMATS:
        return None
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if fmt in _CONTAINER_DURATION_FORMATS and container.duration is not None and container.duration > 0:
        return float(container.duration) / av.time_base
    return None


# --------------------------------------------------------------------------------------------------------------
# Streaming statistics
# --------------------------------------------------------------------------------------------------------------


class _Stats:
    """Running peak, energy and left/right similarity over blocks of decoded samples (never the whole file)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self.sum_sq = 0.0
        self.count = 0
        self.side = 0.0  # energy of L-R over 2-channel blocks
        self.mid = 0.0  # energy of L+R over 2-channel blocks
        self.stereo_blocks_differ = False
        self.saw_stereo = False
        self.saw_other = False

    def add(self, block: npt.NDArray[np.float32]) -> None:
        """Fold one (samples, channels) block into the statistics."""
        if block.size == 0:
            return
        flat = block.reshape(-1)
        self.peak = max(self.peak, float(np.max(np.abs(flat))))
        self.sum_sq += float(np.dot(flat, flat))
        self.count += flat.size
        if block.shape[1] != 2:
            self.saw_other = True
            return
        self.saw_stereo = True
        left, right = block[:, 0], block[:, 1]
        diff, summ = left - right, left + right
        side, mid = float(np.dot(diff, diff)), float(np.dot(summ, summ))
        self.side += side
        self.mid += mid
        # Mean square of L+R over the block: only blocks with real signal count for the per-block test, since in
        # near-silence independent noise on each channel makes any pair of channels look different.
        if mid > _LOUD_BLOCK * 4.0 * block.shape[0] and side > _DUAL_MONO_BLOCK * mid:
            self.stereo_blocks_differ = True

    @property
    def dual_mono(self) -> bool:
        if not self.saw_stereo or self.saw_other or self.stereo_blocks_differ:
            return False
        return self.side <= _DUAL_MONO_TOTAL * self.mid

    @property
    def peak_dbfs(self) -> float:
        return _dbfs(self.peak)

    @property
    def rms_dbfs(self) -> float:
        return _dbfs(math.sqrt(self.sum_sq / self.count) if self.count else 0.0)


def _dbfs(level: float) -> float:
    return _DB_FLOOR if level <= 10.0 ** (_DB_FLOOR / 20.0) else 20.0 * math.log10(level)


# --------------------------------------------------------------------------------------------------------------
# probe_audio
# --------------------------------------------------------------------------------------------------------------

_HINT_NOT_MEDIA = "Upload an audio or video recording (WAV, MP3, M4A, FLAC, OGG, WebM, MP4...)."
_HINT_TRUNCATED = "The upload or export was cut off: upload the complete recording again."
_HINT_CORRUPT = "The recording is damaged: export it again from the recorder or phone system and re-upload it."


_KIND_LABELS = {
    "png": "a PNG image", "jpeg": "a JPEG image", "gif": "a GIF image", "bmp": "a BMP image", "tiff": "a TIFF image",
    "webp": "a WebP image", "heic": "a HEIC image", "avif": "an AVIF image", "ico": "an icon", "pdf": "a PDF document",
    "zip": "a ZIP archive (or an Office document)", "text": "plain text", "json": "JSON text", "html": "an HTML page",
    "xml": "an XML document", "playlist": "a playlist (text)", "midi": "a MIDI score (notes, not sound)",
}  # fmt: skip


def _tolerance(claimed_s: float) -> float:
    """How far the decoded duration may fall short of a claimed one before the file counts as incomplete."""
    return max(_TRUNCATION_ABS_S, _TRUNCATION_REL * claimed_s)


def _unsupported(kind: str | None) -> UnsupportedMediaType:
    if kind is None:
        message = "This file is not an audio or video file that can be read."
    else:
        message = f"This file is {_KIND_LABELS.get(kind, f'a {kind.upper()} file')}, not an audio recording."
    return UnsupportedMediaType(message, hint=_HINT_NOT_MEDIA, code="unsupported_media_type")


def _too_long(duration_s: float, max_duration_s: float, *, claimed: bool) -> InvalidAudio:
    limit = f"{max_duration_s / 60:.1f} minutes"
    message = (
        f"The recording's header says it lasts {duration_s / 60:.1f} minutes; the limit is {limit}."
        if claimed
        else f"The recording is longer than the limit of {limit}."
    )
    return InvalidAudio(
        message,
        hint="Split the recording into shorter parts, or ask an administrator to raise the duration limit.",
        code="too_long",
    )


class _BlockBuffer:
    """Gathers decoded frames into ~1 s blocks of float32 (samples, channels), the unit ``_Stats`` works on.

    Frames are read straight from their planes (``to_ndarray`` stacks arrays on every call, which dominated the
    run time on long PCM files) and converted to float once per block rather than once per 64 ms frame.
    """

    def __init__(self, stats: _Stats) -> None:
        self.stats = stats
        self.block_samples = 0
        self.key: tuple[str, bool, int] | None = None  # (sample format, planar, channels) of the pending frames
        self.pending: list[list[npt.NDArray[Any]]] = []  # per frame: one array per plane
        self.pending_samples = 0

    def add(self, frame: av.AudioFrame) -> None:
        """Queue one frame; fold a block into the statistics once a second or more is queued."""
        fmt = frame.format
        key = (fmt.name.removesuffix("p"), bool(fmt.is_planar), int(frame.layout.nb_channels))
        if key != self.key:
            self.flush()  # the sample format or channel count changed mid-stream
            self.key = key
        dtype = np.dtype(_SAMPLE_FORMATS.get(key[0], ("f4", 0.0, 1.0))[0])
        n, channels = frame.samples, key[2]
        if key[1]:
            planes = [np.frombuffer(memoryview(plane), dtype=dtype, count=n) for plane in frame.planes[:channels]]
        else:
            planes = [np.frombuffer(memoryview(frame.planes[0]), dtype=dtype, count=n * channels)]
        self.pending.append(planes)
        self.pending_samples += n
        if self.pending_samples >= self.block_samples:
            self.flush()

    def flush(self) -> None:
        """Convert the queued frames to one float32 block and fold it into the statistics."""
        if not self.pending or self.key is None:
            return
        name, planar, channels = self.key
        if planar:
            raw = np.stack([np.concatenate([planes[c] for planes in self.pending]) for c in range(channels)], axis=1)
        else:
            raw = np.concatenate([planes[0] for planes in self.pending]).reshape(-1, channels)
        self.pending, self.pending_samples = [], 0
        _, offset, full_scale = _SAMPLE_FORMATS.get(name, ("f4", 0.0, 1.0))
        block = raw.astype(np.float32)
        if offset:
            block -= np.float32(offset)
        if full_scale != 1.0:
            block *= np.float32(1.0 / full_scale)
        self.stats.add(block)


@dataclass(slots=True)
class _Decoded:
    """What one pass over the audio stream produced."""

    stats: _Stats
    duration_s: float = 0.0
    sample_rate: int = 0
    channels: int = 0
    packets: int = 0
    bad_packets: int = 0
    last_end_s: float | None = None  # end time (pts + duration) of the last decoded frame, when timestamps exist
    demux_error: av.FFmpegError | None = None

    @property
    def garbage(self) -> bool:
        return self.bad_packets > max(_MAX_BAD_PACKETS_ABS, int(_MAX_BAD_PACKETS_REL * self.packets))


def _decode(container: InputContainer, stream: AudioStream, max_duration_s: float | None) -> _Decoded:
    """Decode ``stream`` to the end, folding samples into ``_Stats`` about one second at a time.

    Corrupt packets are counted and skipped rather than fatal: the caller decides whether there were too many.

    Raises:
        InvalidAudio: ``too_long`` as soon as more than ``max_duration_s`` has been decoded.
    """
    result = _Decoded(_Stats())
    blocks = _BlockBuffer(result.stats)
    # Count whole samples per sample rate: summing per-frame float durations drifts over a long file.
    banked_s, run_rate, run_samples = 0.0, 0, 0
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            break
        except av.FFmpegError as exc:
            result.demux_error = exc  # a read error mid-file (cut or damaged container) ends the stream
            break
        result.packets += 1
        try:
            frames = packet.decode()
        except av.FFmpegError:
            result.bad_packets += 1
            continue
        for frame in frames:
            if frame.samples == 0 or frame.sample_rate <= 0:
                continue
            if not blocks.block_samples:
                # The first decoded frame is the authority: some demuxers report 0 Hz / 0 channels up front.
                result.sample_rate, result.channels = int(frame.sample_rate), int(frame.layout.nb_channels)
                blocks.block_samples = max(1, int(_BLOCK_S * frame.sample_rate))
            if frame.sample_rate != run_rate:
                banked_s += run_samples / run_rate if run_rate else 0.0
                run_rate, run_samples = int(frame.sample_rate), 0
            run_samples += frame.samples
            if frame.time is not None:
                result.last_end_s = float(frame.time) + frame.samples / frame.sample_rate
            blocks.add(frame)
        result.duration_s = banked_s + (run_samples / run_rate if run_rate else 0.0)
        if max_duration_s is not None and result.duration_s > max_duration_s:
            raise _too_long(result.duration_s, max_duration_s, claimed=False)
    blocks.flush()
    return result


def probe_audio(path: Path, *, max_duration_s: float | None = None) -> AudioInfo:
    """Check that ``path`` holds usable audio and describe it, decoding the first audio stream once.

    Memory use does not grow with the recording: samples are folded into running statistics block by block.

    Args:
        path: the file to probe.
        max_duration_s: reject recordings longer than this (checked on the header's claim before decoding, and
            again while decoding, which stops as soon as the cap is passed). None means no limit.

    Returns:
        The container, codec, decoded and claimed durations, sample rate, channels, dual-mono flag and levels.

    Raises:
        InvalidUpload: the file is empty (code ``empty_file``).
        UnsupportedMediaType: the bytes are not a media file (an image, text, random bytes).
        InvalidAudio: a media file whose audio is unusable; ``code`` is one of ``no_audio_track``, ``truncated``,
            ``undecodable``, ``unsupported_codec``, ``no_samples``, ``too_long``.
        OSError: the file cannot be read.
    """
    size = path.stat().st_size
    if size == 0:
        raise InvalidUpload("The file is empty.", hint="Check the recording and upload it again.", code="empty_file")
    with path.open("rb") as f:
        head = f.read(_HEAD_BYTES)
    kind = sniff_format(head)
    if kind in NON_MEDIA_KINDS:
        raise _unsupported(kind)
    wav = _wav_claim(path, size) if kind == "wav" else None
    mp4 = _mp4_boxes(path, size) if kind == "mp4" else None

    try:
        # Only local files may be opened, even by demuxers that follow references to other files.
        # The explicit "file:" stops a name like "x:y.wav" from being read as protocol "x".
        url = f"file:{path.absolute()}"
        container = av.open(url, options={"protocol_whitelist": "file"}, metadata_errors="ignore")
    except av.FFmpegError as exc:
        if kind is None:
            raise _unsupported(None) from exc
        if mp4 is not None and not mp4.has_moov:
            raise InvalidAudio(
                "The MP4/M4A file is incomplete: its index ('moov' atom, written when recording stops) is missing.",
                hint=_HINT_TRUNCATED + " If the recorder crashed, the file cannot be recovered as is.",
                code="truncated",
            ) from exc
        raise InvalidAudio(
            f"The {kind.upper()} file cannot be opened: {exc.strerror or exc}.", hint=_HINT_CORRUPT, code="undecodable"
        ) from exc

    with container:
        if not container.streams.audio:
            if kind is None and not container.streams.video:
                raise _unsupported(None)
            raise InvalidAudio(
                "The file has no audio track" + (" (it only contains video)." if container.streams.video else "."),
                hint="Upload the recording with its sound; check the export settings of the recorder.",
                code="no_audio_track",
            )
        stream = container.streams.audio[0]
        format_name = str(container.format.name)
        if stream.codec_context is None:  # PyAV has no decoder for this codec
            raise InvalidAudio(
                "The audio track uses a codec that cannot be decoded here.",
                hint="Convert the recording to WAV, MP3, M4A (AAC) or FLAC and upload it again.",
                code="unsupported_codec",
            )
        codec = str(stream.codec_context.codec.canonical_name)
        claimed = _claimed_duration(container, stream, path, wav)
        # Cheap rejections before decoding anything: a header claiming more than the cap, then a WAV whose data
        # chunk runs past the end of the file (for PCM the byte count is exact: missing bytes are missing audio).
        if max_duration_s is not None and claimed is not None and claimed > max_duration_s:
            raise _too_long(claimed, max_duration_s, claimed=True)
        if wav is not None and wav.duration_s - wav.present_s > _tolerance(wav.duration_s):
            raise InvalidAudio(
                f"The WAV header announces {wav.duration_s:.1f} s of audio but the file ends after about "
                f"{wav.present_s:.1f} s.",
                hint=_HINT_TRUNCATED,
                code="truncated",
            )
        decoded = _decode(container, stream, max_duration_s)

    if kind is None and (decoded.garbage or decoded.duration_s == 0.0):
        # FFmpeg guessed a format (often from the file extension alone) but the bytes do not decode: not media.
        raise _unsupported(None)
    if decoded.duration_s == 0.0:
        if decoded.bad_packets or decoded.demux_error is not None:
            raise InvalidAudio(
                "The audio track cannot be decoded: every frame is corrupt.", hint=_HINT_CORRUPT, code="undecodable"
            )
        raise InvalidAudio(
            "The audio track contains no samples.",
            hint="The recording is empty: check that it actually recorded sound and upload it again.",
            code="no_samples",
        )
    if decoded.garbage:
        raise InvalidAudio(
            f"The audio track is damaged: {decoded.bad_packets} of {decoded.packets} packets could not be decoded "
            f"({decoded.duration_s:.1f} s were readable).",
            hint=_HINT_CORRUPT,
            code="undecodable",
        )
    if claimed is not None and claimed - decoded.duration_s > _tolerance(claimed):
        if decoded.last_end_s is not None and claimed - decoded.last_end_s <= _tolerance(claimed):
            # Timestamps reach the end, so the audio is missing from the middle: damage, not a cut (a FLAC decoder,
            # for one, silently resynchronises past garbage).
            raise InvalidAudio(
                f"The recording is damaged: {claimed - decoded.duration_s:.1f} s of its {claimed:.1f} s could not be "
                "decoded.",
                hint=_HINT_CORRUPT,
                code="undecodable",
            )
        raise InvalidAudio(
            f"The recording is incomplete: its header announces {claimed:.1f} s but only {decoded.duration_s:.1f} s "
            "of audio are present.",
            hint=_HINT_TRUNCATED,
            code="truncated",
        )
    if decoded.demux_error is not None and mp4 is not None and mp4.cut:
        raise InvalidAudio(
            f"The MP4/M4A file is cut off after {decoded.duration_s:.1f} s of audio.",
            hint=_HINT_TRUNCATED,
            code="truncated",
        )
    return AudioInfo(
        format_name=format_name,
        codec=codec,
        duration_s=decoded.duration_s,
        container_duration_s=claimed,
        sample_rate=decoded.sample_rate,
        channels=decoded.channels,
        dual_mono=decoded.channels == 2 and decoded.stats.dual_mono,
        peak_dbfs=decoded.stats.peak_dbfs,
        rms_dbfs=decoded.stats.rms_dbfs,
    )
