"""Conversation metrics of one call: who talks, who asks, who listens.

Pure functions over timed, attributed utterances, so the same code scores a real call and a synthetic script's
ground truth. Definitions (all durations in seconds):

- talk time: the union of a speaker's utterance intervals; ``talk_ratio`` = rep talk / (rep + customer talk).
- turn: consecutive utterances of one speaker with less than ``TURN_GAP_S`` between them and nobody else starting
  in between. A backchannel (another speaker's utterance shorter than ``BACKCHANNEL_S`` inside the turn) does not
  break it. ``longest_monologue`` is the longest turn of anyone; ``longest_customer_story`` that of a customer.
- questions: sentences ending in ?/？, or Japanese sentences ending in a question particle form (ですか, ますか,
  でしょうか, か, かね, かな, の？ ...), or English sentences opening with an interrogative or an inverted auxiliary.
- interactivity: speaker switches between turns per minute of call.
- interruptions: a speaker starts while another's utterance still runs for at least ``INTERRUPT_S`` more (overlaps
  shorter than that are ordinary turn-taking; backchannels are not interruptions); ``overlap`` = time with two or
  more speakers at once.
- pace: characters per minute of talk for Japanese (letters only: no spaces or punctuation), words per minute for
  English.
- silence ratio: share of the call with nobody speaking.
- rep response pause: mean gap between the end of a customer turn and the start of the rep turn that answers it
  (gaps of 0 or less, i.e. overlaps, count as 0).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

TURN_GAP_S = 2.0
BACKCHANNEL_S = 1.0
INTERRUPT_S = 1.0
MAX_RESPONSE_GAP_S = 10.0


@dataclass(frozen=True, slots=True)
class Spoken:
    """One attributed utterance."""

    speaker: str
    role: str  # rep | customer | other
    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class TurnSpan:
    """One speaker's turn, with their role (rep, customer, other), start and end in seconds."""

    speaker: str
    role: str
    start: float
    end: float


_SENTENCE_END = re.compile(r"(?<=[。？?！!])|(?<=\.)\s+")
# A bare か ends many non-questions (確か, いくつか), so it counts only after a predicate ending.
_JA_QUESTION = re.compile(
    r"(ですか|ますか|でしょうか|ましたか|でしたか|ませんか|[るたいうすくぐぶむつのん]か|かね|かな)$"
)
_EN_QUESTION = re.compile(
    r"^(what|how|why|when|where|who|whom|whose|which|do|does|did|is|are|was|were|can|could|would|will|should|"
    r"shall|have|has|had|may|might|isn't|aren't|don't|doesn't|didn't|won't|wouldn't|can't|couldn't)\b",
    re.IGNORECASE,
)
_JA_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


def sentences(text: str) -> list[str]:
    """Split on sentence punctuation (Japanese and English)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def is_japanese(text: str) -> bool:
    """Whether ``text`` contains Japanese script (kana or kanji)."""
    return bool(_JA_CHARS.search(text))


def count_questions(text: str) -> int:
    """Number of questions in an utterance."""
    n = 0
    for sentence in sentences(text):
        s = sentence.rstrip("。.!！ 　")
        if s.endswith(("?", "？")):
            n += 1
        elif is_japanese(s):
            if _JA_QUESTION.search(s):
                n += 1
        elif _EN_QUESTION.match(s) and len(s.split()) >= 3:
            n += 1
    return n


def spoken_units(text: str) -> tuple[int, str]:
    """(count, unit) for pace: letters for Japanese, words for English."""
    if is_japanese(text):
        return sum(1 for ch in text if unicodedata.category(ch)[0] in "LN"), "chars"
    return len(re.findall(r"[A-Za-z0-9']+", text)), "words"


def union_length(spans: Sequence[tuple[float, float]]) -> float:
    """Seconds covered by ``spans`` (overlaps counted once)."""
    total, cur_a, cur_b = 0.0, None, None
    for a, b in sorted(spans):
        if cur_b is None or a > cur_b:
            if cur_b is not None and cur_a is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_a is not None and cur_b is not None:
        total += cur_b - cur_a
    return total


def turns(utterances: Sequence[Spoken]) -> list[TurnSpan]:
    """Merge utterances into turns (see the module docstring)."""
    ordered = sorted(utterances, key=lambda u: (u.start, u.end))
    # Backchannels inside someone else's speech are set aside first, so they do not split that turn.
    main: list[Spoken] = []
    for u in ordered:
        inside = any(
            o.speaker != u.speaker and o.start <= u.start and u.end <= o.end + 0.3 for o in ordered if o is not u
        )
        if inside and u.end - u.start < BACKCHANNEL_S:
            continue
        main.append(u)
    out: list[TurnSpan] = []
    for u in main:
        if out and out[-1].speaker == u.speaker and u.start - out[-1].end < TURN_GAP_S:
            last = out[-1]
            out[-1] = TurnSpan(last.speaker, last.role, last.start, max(last.end, u.end))
        else:
            out.append(TurnSpan(u.speaker, u.role, u.start, u.end))
    return out


def _overlap_s(utterances: Sequence[Spoken]) -> float:
    events: list[tuple[float, int, str]] = []
    for u in utterances:
        events += [(u.start, 1, u.speaker), (u.end, -1, u.speaker)]
    events.sort(key=lambda e: (e[0], e[1]))
    active: dict[str, int] = {}
    total, last = 0.0, 0.0
    for t, delta, who in events:
        if sum(1 for v in active.values() if v > 0) >= 2:
            total += t - last
        active[who] = active.get(who, 0) + delta
        last = t
    return total


def _interruptions(utterances: Sequence[Spoken]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for u in utterances:
        if u.end - u.start < BACKCHANNEL_S:
            continue
        for o in utterances:
            if o.speaker != u.speaker and o.start < u.start and o.end - u.start >= INTERRUPT_S:
                counts[u.speaker] = counts.get(u.speaker, 0) + 1
                break
    return counts


def compute(utterances: Sequence[Spoken], duration_s: float) -> dict[str, Any]:
    """Call-level metrics plus a ``speakers`` list of per-speaker metrics (see the module docstring)."""
    speakers: dict[str, dict[str, Any]] = {}
    for u in utterances:
        s = speakers.setdefault(u.speaker, {"speaker": u.speaker, "role": u.role, "spans": [], "units": 0, "q": 0})
        s["spans"].append((u.start, u.end))
        n, unit = spoken_units(u.text)
        s["units"] += n
        s["unit"] = unit
        s["q"] += count_questions(u.text)
    tspans = turns(utterances)
    longest: dict[str, float] = {}
    for t in tspans:
        longest[t.speaker] = max(longest.get(t.speaker, 0.0), t.end - t.start)
    interrupts = _interruptions(utterances)

    per_speaker: list[dict[str, Any]] = []
    talk_by_role: dict[str, float] = {"rep": 0.0, "customer": 0.0, "other": 0.0}
    questions_by_role: dict[str, int] = {"rep": 0, "customer": 0, "other": 0}
    total_talk = 0.0
    for label, s in speakers.items():
        talk = union_length(s["spans"])
        total_talk += talk
        talk_by_role[s["role"]] = talk_by_role.get(s["role"], 0.0) + talk
        questions_by_role[s["role"]] = questions_by_role.get(s["role"], 0) + s["q"]
        unit = s.get("unit", "words")
        per_speaker.append(
            {
                "speaker": label,
                "role": s["role"],
                "talk_s": round(talk, 2),
                "questions": s["q"],
                "longest_monologue_s": round(longest.get(label, 0.0), 2),
                "interruptions": interrupts.get(label, 0),
                "pace": round(s["units"] / (talk / 60.0), 1) if talk > 0 else None,
                "pace_unit": "chars_per_min" if unit == "chars" else "words_per_min",
            }
        )
    for p in per_speaker:
        p["talk_share"] = round(p["talk_s"] / total_talk, 4) if total_talk > 0 else 0.0

    pauses: list[float] = []
    for prev, nxt in zip(tspans, tspans[1:], strict=False):
        if prev.role == "customer" and nxt.role == "rep":
            gap = nxt.start - prev.end
            if gap <= MAX_RESPONSE_GAP_S:
                pauses.append(max(0.0, gap))
    switches = sum(1 for a, b in zip(tspans, tspans[1:], strict=False) if a.speaker != b.speaker)
    minutes = max(duration_s, 1e-6) / 60.0
    rep_customer = talk_by_role["rep"] + talk_by_role["customer"]
    speech = union_length([(u.start, u.end) for u in utterances])
    customer_turns = [t.end - t.start for t in tspans if t.role == "customer"]
    pace_by_role: dict[str, float | None] = {}
    for role in ("rep", "customer"):
        units = sum(s["units"] for s in speakers.values() if s["role"] == role)
        talk = talk_by_role[role]
        pace_by_role[role] = round(units / (talk / 60.0), 1) if talk > 0 else None
    unit_kinds = {s.get("unit") for s in speakers.values()}
    return {
        "duration_s": round(duration_s, 2),
        "speech_s": round(speech, 2),
        "talk_ratio": round(talk_by_role["rep"] / rep_customer, 4) if rep_customer > 0 else None,
        "talk_s": {k: round(v, 2) for k, v in talk_by_role.items()},
        "longest_monologue_s": round(max(longest.values(), default=0.0), 2),
        "longest_customer_story_s": round(max(customer_turns, default=0.0), 2),
        "questions": questions_by_role,
        "interactivity_per_min": round(switches / minutes, 2),
        "speaker_switches": switches,
        "interruptions": sum(interrupts.values()),
        "overlap_s": round(_overlap_s(utterances), 2),
        "pace": pace_by_role,
        "pace_unit": "chars_per_min" if unit_kinds == {"chars"} else "words_per_min",
        "silence_ratio": round(max(0.0, 1.0 - speech / max(duration_s, 1e-6)), 4),
        "rep_response_pause_s": round(sum(pauses) / len(pauses), 3) if pauses else None,
        "speakers": per_speaker,
    }
