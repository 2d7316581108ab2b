"""What to call a probed recording: its media type and file-name extension, from the container FFmpeg found.

The uploader's file name says nothing reliable about the bytes: a valid WAV named ``q3-forecast.htm`` would be
served as a web page if its type were taken from the name. Everything that names or serves stored audio goes through
``media_kind`` (the probed container) instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["OCTET_STREAM", "MediaKind", "media_kind", "with_extension"]

OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class MediaKind:
    """How a probed container is served and named.

    Attributes:
        media_type: an ``audio/*`` type a browser may play, or ``application/octet-stream`` (download only).
        extension: the extension a stored file name gets, without the dot.
        aliases: other extensions that name the same container; a file name ending in one is kept as it is.
    """

    media_type: str
    extension: str
    aliases: frozenset[str] = frozenset()

    @property
    def playable(self) -> bool:
        """True for a real audio type: the browser may show it inline (its player can seek)."""
        return self.media_type.startswith("audio/")


def _kind(media_type: str, extension: str, *aliases: str) -> MediaKind:
    return MediaKind(media_type, extension, frozenset({extension, *aliases}))


# Keyed by FFmpeg's container name (``AudioInfo.format_name``, stored as ``Call.media_format``). Only containers
# browsers commonly play get an audio type; the rest are offered as downloads.
_BY_FORMAT: dict[str, MediaKind] = {
    "wav": _kind("audio/wav", "wav", "wave"),
    "mp3": _kind("audio/mpeg", "mp3"),
    "flac": _kind("audio/flac", "flac"),
    "ogg": _kind("audio/ogg", "ogg", "oga", "opus", "spx"),
    "mov,mp4,m4a,3gp,3g2,mj2": _kind("audio/mp4", "m4a", "mp4", "m4b", "mov", "3gp", "3g2", "3gpp"),
    "aac": _kind("audio/aac", "aac", "adts"),
    "aiff": _kind("audio/aiff", "aiff", "aif", "aifc"),
    "caf": _kind("audio/x-caf", "caf"),
    "amr": _kind("audio/amr", "amr"),
    "au": _kind("audio/basic", "au", "snd"),
    "asf": _kind(OCTET_STREAM, "wma", "asf", "wmv"),
    "avi": _kind(OCTET_STREAM, "avi"),
    "mpegts": _kind(OCTET_STREAM, "ts", "mts", "m2ts"),
    "mpeg": _kind(OCTET_STREAM, "mpg", "mpeg"),
    "ac3": _kind(OCTET_STREAM, "ac3"),
    "wv": _kind(OCTET_STREAM, "wv"),
    "ape": _kind(OCTET_STREAM, "ape"),
}
_WEBM_CODECS = frozenset({"opus", "vorbis"})
_WEBM = _kind("audio/webm", "webm", "weba", "mka", "mkv")
_MATROSKA = _kind("audio/x-matroska", "mka", "mkv", "webm")
_PLAIN_NAME = re.compile(r"[a-z0-9]{1,10}")
# A trailing ".xyz" this short, of letters and digits with at least one letter, is taken for an extension and
# replaced; anything else after the last dot ("Mr. Tanaka", "2026.05.01") is part of the name and kept.
_EXTENSION = re.compile(r"(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{1,10}")
MAX_NAME_BYTES = 255


def media_kind(format_name: str, codec: str = "") -> MediaKind:
    """The media type and extension of a probed recording.

    Args:
        format_name: FFmpeg's container name as probed (``"wav"``, ``"mov,mp4,m4a,3gp,3g2,mj2"`` ...).
        codec: the first audio stream's codec; tells WebM (Opus/Vorbis) from other Matroska files.

    Returns:
        The kind; ``application/octet-stream`` with an extension from the container name when it is unknown.
    """
    name = format_name.strip().lower()
    if name == "matroska,webm":
        return _WEBM if codec.strip().lower() in _WEBM_CODECS else _MATROSKA
    if name in _BY_FORMAT:
        return _BY_FORMAT[name]
    first = name.split(",", 1)[0]
    return _kind(OCTET_STREAM, first if _PLAIN_NAME.fullmatch(first) else "bin")


def with_extension(filename: str, kind: MediaKind) -> str:
    """``filename`` ending in the extension of ``kind``: ``q3-forecast.htm`` becomes ``q3-forecast.wav``.

    A name that already ends in one of the kind's extensions (any case) is returned unchanged; a name without an
    extension gets one appended. The result stays within 255 UTF-8 bytes (the stem is shortened).
    """
    stem, dot, suffix = filename.rpartition(".")
    if dot and stem and suffix.lower() in kind.aliases:
        return filename
    base = stem if dot and stem and _EXTENSION.fullmatch(suffix) else filename
    ending = "." + kind.extension
    room = MAX_NAME_BYTES - len(ending.encode())
    while len(base.encode("utf-8", "surrogatepass")) > room:
        base = base[:-1]
    return base + ending
