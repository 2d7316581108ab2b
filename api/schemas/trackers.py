"""API contracts for trackers and a call's tracker hits (not tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Side = Literal["customer", "rep", "any"]


class TrackerCreate(BaseModel):
    """A new tracker: a name, its phrases (Japanese and English mixed freely) and whose utterances count."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255, examples=["pricing"])
    phrases: list[str] = Field(min_length=1, max_length=200, examples=[["価格", "見積もり", "price", "quote"]])
    side: Side = Field(default="any", description="customer, rep, or any speaker")
    semantic: bool = Field(default=True, description="Also count utterances whose meaning is close to a phrase")
    threshold: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Cosine threshold of a semantic match; default: the model's calibrated one",
    )
    enabled: bool = True


class TrackerPatch(BaseModel):
    """Changes to a tracker: only the fields given change (``threshold: null`` returns to the model's default)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=255)
    phrases: list[str] | None = Field(default=None, min_length=1, max_length=200)
    side: Side | None = None
    semantic: bool | None = None
    threshold: float | None = Field(default=None, gt=0, le=1)
    enabled: bool | None = None


class TrackerPublic(BaseModel):
    """A tracker as stored."""

    id: int
    name: str
    phrases: list[str]
    side: str
    semantic: bool
    threshold: float | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


class TrackersPublic(BaseModel):
    """Every tracker, by id."""

    data: list[TrackerPublic]


class TrackerHitPublic(BaseModel):
    """An utterance where a tracker was heard."""

    utterance_id: int
    phrase: str = Field(description="The tracker's phrase that matched (best one)")
    kind: Literal["exact", "semantic"]
    score: float = Field(description="1.0 for an exact match, else the cosine similarity")
    side: str = Field(description="The speaker's role")


class CallTrackerPublic(BaseModel):
    """One tracker in a call: how often it was heard, and where."""

    tracker_id: int
    name: str
    count: int
    hits: list[TrackerHitPublic]


class CallTrackersPublic(BaseModel):
    """A call's tracker counts and hits (every tracker listed, zero counts included)."""

    call_id: int
    computed: bool = Field(description="False until the analyze stage computed the call's hits")
    trackers: list[CallTrackerPublic]
