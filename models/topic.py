"""Topics across calls: the topics of each side (customer, rep), their fit runs and each utterance's topic."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from models.base import TimestampMixin, UTCDateTime, utcnow


class TopicFitRun(SQLModel, table=True):
    """One fit (or refit) of the topics of one side: what it was fitted on and how its topics relate to the
    earlier ones (kept their id, new, merged into another, split off one, retired).
    """

    __tablename__ = "topic_fit_run"

    id: int | None = Field(default=None, primary_key=True)
    side: str = Field(max_length=16, index=True)
    status: str = Field(default="running", max_length=16, index=True)
    trigger: str = Field(default="manual", max_length=32)
    model: str = Field(max_length=255, description="The embedding model the topics live in.")
    method: str = Field(max_length=32)
    utterances: int = 0  # substantive utterances of the side when the run started
    sample_size: int = 0  # of which were fitted on
    topics: int = 0
    new: int = 0
    kept: int = 0
    merged: int = 0
    split: int = 0
    retired: int = 0
    outlier_share: float = 0.0  # utterances assigned no topic, of all assigned
    outliers_before: int = 0  # fitted utterances the clusterer left out, before outlier reduction
    threshold: float = 0.0  # least cosine similarity that joins a topic when a new call is assigned
    calls_at_fit: int = 0  # calls with assigned utterances when the run finished (the "after N new calls" trigger)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duration_s: float | None = None
    error: str | None = None


class Topic(TimestampMixin, table=True):
    """A topic of one side; its id and label survive refits that find it again (``insight.topics.matching``)."""

    id: int | None = Field(default=None, primary_key=True)
    side: str = Field(max_length=16, index=True)
    label: str = Field(max_length=255)
    label_edited: bool = False  # a user's label: a refit never replaces it
    keywords: list[list[Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [word, weight]
    centroid: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    size: int = 0  # utterances assigned at the last fit
    active: bool = Field(default=True, index=True)
    fit_run_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("topic_fit_run.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    # When a refit found this topic as a piece of another, or folded it into another.
    split_from_id: int | None = Field(default=None)
    merged_into_id: int | None = Field(default=None)


class UtteranceTopic(SQLModel, table=True):
    """The topic of one utterance (utterances without a topic have no row) and its similarity to the topic."""

    __tablename__ = "utterance_topic"
    __table_args__ = (Index("ix_utterance_topic_topic_score", "topic_id", "score"),)

    utterance_id: int = Field(
        sa_column=Column(Integer, ForeignKey("utterance.id", ondelete="CASCADE"), primary_key=True)
    )
    call_id: int = Field(
        sa_column=Column(Integer, ForeignKey("call.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    topic_id: int = Field(sa_column=Column(Integer, ForeignKey("topic.id", ondelete="CASCADE"), nullable=False))
    side: str = Field(max_length=16)
    score: float
