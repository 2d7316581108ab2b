"""Plain option and result types of topic modelling (no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float32]


class Method(StrEnum):
    """How utterance embeddings are reduced and clustered before BERTopic describes the clusters."""

    pca_kmeans = "pca_kmeans"  # fast, no outliers by construction, seeded from the previous topics on a refit
    pca_hdbscan = "pca_hdbscan"  # fast, density clusters (scikit-learn's HDBSCAN), outliers reduced by embeddings
    umap_hdbscan = "umap_hdbscan"  # BERTopic's classic pipeline (UMAP + hdbscan), slowest


class Side(StrEnum):
    """Whose utterances a topic model is fitted on: topics of customers and of reps are kept apart."""

    customer = "customer"
    rep = "rep"


@dataclass(frozen=True)
class TopicOptions:
    """How topics are fitted and assigned.

    Attributes:
        method: the reducer and clusterer.
        n_topics: clusters for ``pca_kmeans`` (None: from the sample size, 8 to 60).
        min_topic_size: the smallest cluster HDBSCAN keeps; smaller KMeans clusters become outliers.
        sample_size: at most this many utterances are fitted on; the rest are assigned in batches.
        pca_components: dimensions the PCA keeps (UMAP keeps 5).
        top_words: keywords kept per topic.
        min_similarity: an utterance joins its nearest topic only at this cosine similarity or above (None: the
            5th percentile of the fitted utterances' similarity to their own topic, at least 0.2).
        outlier_threshold: the similarity an HDBSCAN outlier needs to its nearest topic to be reassigned.
        match_similarity: a refitted topic keeps an earlier topic's id at this centroid similarity or above
            (keyword overlap counts a quarter, see ``insight.topics.matching``).
        seed: the seed of every random step, so a fit on the same data gives the same topics.
        batch_size: utterances assigned per batch.
    """

    method: Method = Method.pca_kmeans
    n_topics: int | None = None
    min_topic_size: int = 10
    sample_size: int = 20_000
    pca_components: int = 16
    top_words: int = 10
    min_similarity: float | None = None
    outlier_threshold: float = 0.35
    match_similarity: float = 0.8
    seed: int = 0
    batch_size: int = 5_000


@dataclass(frozen=True)
class FittedTopic:
    """One topic of a fit: its keywords (word, c-TF-IDF weight), unit centroid and number of fitted utterances."""

    keywords: list[tuple[str, float]]
    centroid: FloatMatrix
    size: int


@dataclass(frozen=True)
class FitResult:
    """The topics of one fit and each fitted utterance's topic (index into ``topics``, -1 for none).

    Attributes:
        topics: the topics, largest first.
        labels: per fitted utterance, its topic index or -1.
        scores: per fitted utterance, the cosine similarity to its topic's centroid (to the nearest one for -1).
        threshold: the similarity an utterance needs to join a topic when assigned later.
        outliers_before: utterances the clusterer left without a topic, before outlier reduction.
    """

    topics: list[FittedTopic]
    labels: npt.NDArray[np.int64]
    scores: FloatMatrix
    threshold: float
    outliers_before: int

    @property
    def outlier_share(self) -> float:
        """The share of fitted utterances left without a topic."""
        return float(np.mean(self.labels < 0)) if len(self.labels) else 0.0


@dataclass(frozen=True)
class TopicMatch:
    """How the topics of a refit relate to the earlier ones.

    Attributes:
        kept: new topic index → earlier topic id it continues (same id and label).
        merged: new topic index → the further earlier topic ids it absorbed (they are retired).
        split: new topic index → the earlier topic id it split off from (it gets a new id).
        new: new topic indexes that continue nothing.
        retired: earlier topic ids that nothing continues.
    """

    kept: dict[int, int] = field(default_factory=dict)
    merged: dict[int, list[int]] = field(default_factory=dict)
    split: dict[int, int] = field(default_factory=dict)
    new: list[int] = field(default_factory=list)
    retired: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Assignment:
    """Topics of a batch of utterances: per row the topic position in the centroid matrix (-1: none) and score."""

    positions: npt.NDArray[np.int64]
    scores: FloatMatrix
