"""Transcript files as Whisper's and WhisperX's command lines write them: json, txt, srt, vtt, with speakers.

Every format carries who said what: txt prefixes each utterance with ``S1 (rep):``, srt with ``[S1 rep]``, and vtt
uses WebVTT voice spans (``<v S1 (rep)>``), which players show as the speaker's name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from insight.transcribe.local import SpeakerTranscript

FORMATS: tuple[str, ...] = ("json", "txt", "srt", "vtt")


def parse_formats(value: str) -> tuple[str, ...]:
    """``"srt,vtt"`` or ``"all"`` → the formats to write, in a fixed order.

    Raises:
        ValueError: a name that is not one of ``json``, ``txt``, ``srt``, ``vtt``, ``all``.
    """
    names = {part.strip().lower() for part in value.split(",") if part.strip()}
    if "all" in names:
        return FORMATS
    unknown = sorted(names - set(FORMATS))
    if unknown or not names:
        raise ValueError(f"unknown output format {', '.join(unknown) or repr(value)}: use {', '.join(FORMATS)} or all")
    return tuple(f for f in FORMATS if f in names)


def _speaker_tag(result: SpeakerTranscript, label: str) -> tuple[str, str]:
    speaker = result.speakers.get(label)
    return label, (str(speaker.role) if speaker is not None else "")


def to_dict(result: SpeakerTranscript, *, source: str, processing_s: float | None = None) -> dict[str, Any]:
    """The JSON document: call facts, speakers with roles and talk time, utterances with words."""
    t = result.transcript
    roles = {label: _speaker_tag(result, label)[1] for label in result.speakers}
    doc: dict[str, Any] = {
        "file": source,
        "language": t.language,
        "language_probability": round(t.language_probability, 4),
        "duration_s": round(t.duration_s, 3),
        "channels": t.channels,
        "speakers": [
            {
                "label": s.label,
                "role": str(s.role),
                "role_source": str(s.role_source),
                "channel": s.channel,
                "talk_s": round(s.talk_s, 2),
            }
            for s in sorted(result.speakers.values(), key=lambda s: int(s.label[1:]))
        ],
        "segments": [
            {
                "id": u.id,
                "start": u.start,
                "end": u.end,
                "speaker": u.speaker,
                "role": roles.get(u.speaker, ""),
                "channel": u.channel,
                "language": u.language,
                "text": u.text,
                "words": u.words,
            }
            for u in result.utterances
        ],
    }
    if processing_s is not None:
        doc["processing_s"] = round(processing_s, 3)
    return doc


def to_json(result: SpeakerTranscript, *, source: str, processing_s: float | None = None) -> str:
    """The transcript as pretty-printed JSON text (see :func:`to_dict`), ending with a newline."""
    return json.dumps(to_dict(result, source=source, processing_s=processing_s), ensure_ascii=False, indent=2) + "\n"


def to_txt(result: SpeakerTranscript) -> str:
    """One line per utterance: ``S1 (rep): text``."""
    lines = []
    for u in result.utterances:
        label, role = _speaker_tag(result, u.speaker)
        lines.append(f"{label} ({role}): {u.text}" if role else f"{label}: {u.text}")
    return "\n".join(lines) + ("\n" if lines else "")


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(result: SpeakerTranscript) -> str:
    """SubRip cues: index, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, ``[S1 rep] text``."""
    blocks = []
    for i, u in enumerate(result.utterances, start=1):
        label, role = _speaker_tag(result, u.speaker)
        tag = f"[{label} {role}]" if role else f"[{label}]"
        blocks.append(f"{i}\n{_clock(u.start, ',')} --> {_clock(u.end, ',')}\n{tag} {_one_line(u.text)}\n")
    return "\n".join(blocks)


def to_vtt(result: SpeakerTranscript) -> str:
    """WebVTT cues with voice spans: ``<v S1 (rep)>text``."""
    blocks = ["WEBVTT\n"]
    for u in result.utterances:
        label, role = _speaker_tag(result, u.speaker)
        voice = f"{label} ({role})" if role else label
        text = _one_line(u.text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        blocks.append(f"{_clock(u.start, '.')} --> {_clock(u.end, '.')}\n<v {voice}>{text}\n")
    return "\n".join(blocks)


def _one_line(text: str) -> str:
    # A blank line ends a cue in srt and vtt, and "-->" would be read as a timing line.
    return " ".join(text.split()).replace("-->", "->")


def render(result: SpeakerTranscript, fmt: str, *, source: str, processing_s: float | None = None) -> str:
    """The file content of ``fmt`` (one of ``FORMATS``)."""
    if fmt == "json":
        return to_json(result, source=source, processing_s=processing_s)
    if fmt == "txt":
        return to_txt(result)
    if fmt == "srt":
        return to_srt(result)
    if fmt == "vtt":
        return to_vtt(result)
    raise ValueError(f"unknown output format {fmt!r}: use {', '.join(FORMATS)}")


def write_outputs(
    result: SpeakerTranscript,
    *,
    source: Path,
    out_dir: Path,
    formats: Iterable[str],
    processing_s: float | None = None,
) -> list[Path]:
    """Write ``<stem>.<format>`` into ``out_dir`` (created if missing) for every format; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        target = out_dir / f"{source.stem}.{fmt}"
        target.write_text(render(result, fmt, source=str(source), processing_s=processing_s), encoding="utf-8")
        written.append(target)
    return written
