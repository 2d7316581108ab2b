"""API contracts for topics across calls (not tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class KeywordPublic(BaseModel):
    """A topic keyword and its class-based TF-IDF weight."""

    word: str
    weight: float


class FitRunPublic(BaseModel):
    """A topic fit: what it was fitted on and how its topics relate to the earlier ones."""

    id: int
    side: str
    status: str
    trigger: str
    model: str = Field(description="The embedding model the topics live in")
    method: str
    utterances: int = Field(description="Substantive utterances of the side when the fit ran")
    sample_size: int = Field(description="Of which the fit was computed on (the rest were assigned)")
    topics: int
    new: int
    kept: int = Field(description="Topics found again: same id and label as before")
    merged: int
    split: int
    retired: int
    outlier_share: float = Field(description="Utterances left without a topic, of all assigned (0..1)")
    threshold: float = Field(description="The least cosine similarity that joins a topic")
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    error: str | None


class TopicPublic(BaseModel):
    """A topic with its utterances, calls and share of the side's utterances in the calls the reader may see."""

    id: int
    side: str
    label: str
    label_edited: bool = Field(description="Named by a user: refits keep the name")
    keywords: list[KeywordPublic]
    size: int = Field(description="Utterances assigned at the last fit, over all calls")
    utterances: int = Field(description="Utterances on this topic in the calls the reader may see")
    calls: int
    share: float = Field(description="Of the side's utterances with a topic in those calls (0..1)")


class TopicsPublic(BaseModel):
    """The topics of one side and the fit they come from (None before the first fit)."""

    side: str
    run: FitRunPublic | None
    data: list[TopicPublic]


class QuotePublic(BaseModel):
    """A representative utterance of a topic, from a call the reader may see, redacted."""

    utterance_id: int
    call_id: int
    took_place: datetime = Field(description="When the call took place (recorded, else uploaded)")
    start_s: float = Field(description="Seconds into the call")
    text: str = Field(description="The redacted text (empty until the call's analysis ran)")
    score: float = Field(description="Cosine similarity to the topic")


class GroupSharePublic(BaseModel):
    """The topic's utterances within one group (a week or month, a segment, a rep) and their share of the group's."""

    group: str
    utterances: int
    total: int
    share: float


class TopicDetailPublic(TopicPublic):
    """A topic with representative quotes, its trend over time and its share per customer segment and per rep."""

    bucket: Literal["week", "month"]
    quotes: list[QuotePublic]
    trend: list[GroupSharePublic] = Field(description="Per week or month (its first day), oldest first")
    segments: list[GroupSharePublic] = Field(description="Per RFM segment of the call's customer (newest run)")
    reps: list[GroupSharePublic]


class TopicUpdate(BaseModel):
    """A new label for a topic."""

    label: str = Field(min_length=1, max_length=255)


class FitRequest(BaseModel):
    """Fit the topics of a side now."""

    side: Literal["customer", "rep"] = "customer"
    method: Literal["pca_kmeans", "pca_hdbscan", "umap_hdbscan"] = "pca_kmeans"
    sample_size: int | None = Field(default=None, ge=100, le=1_000_000)
