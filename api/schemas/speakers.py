"""Speakers, roles and conversation metrics of a call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class SpeakerPublic(BaseModel):
    """A speaker of a call: label, name, role and talk time in seconds."""

    label: str = Field(description="S1, S2 … (stereo: S1 = left channel)")
    name: str | None
    role: str = Field(description="rep, customer or other")
    role_source: str = Field(description="How the role was decided: user, channel, voice or heuristic")
    channel: int | None
    talk_s: float


class SpeakerChangeIn(BaseModel):
    """A correction of one speaker: null fields are left alone; an empty name clears the name."""

    label: str = Field(max_length=16, examples=["S1"])
    name: str | None = Field(default=None, max_length=255, examples=["田中"])
    role: str | None = Field(default=None, pattern="^(rep|customer|other)$", examples=["rep"])


class SpeakersPatch(BaseModel):
    """Corrections to a call's speakers."""

    speakers: list[SpeakerChangeIn] = Field(min_length=1, max_length=20)


class SpeakersPublic(BaseModel):
    """A call's speakers."""

    call_id: int
    speakers: list[SpeakerPublic]


class MetricsPublic(BaseModel):
    """A call's conversation metrics, overall and per speaker."""

    call_id: int
    computed_at: datetime
    metrics: dict[str, Any] = Field(
        description="talk_ratio (rep share of rep+customer talk), longest_monologue_s, longest_customer_story_s, "
        "questions by role, interactivity_per_min, interruptions, overlap_s, pace by role (chars/min for Japanese, "
        "words/min for English), silence_ratio, rep_response_pause_s"
    )
    speakers: list[dict[str, Any]] = Field(description="Per speaker: talk_s, talk_share, questions, pace, …")
