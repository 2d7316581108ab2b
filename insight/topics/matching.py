"""Stable topic ids across refits: the topics of a new fit matched to the earlier ones.

Each pair (earlier topic, new topic) scores ``0.85 × centroid cosine + 0.15 × keyword Jaccard``; the Hungarian
algorithm pairs them one to one for the highest total, and a pair at or above the threshold keeps the earlier id
(and its label). Of what is left, a new topic close to an already continued earlier topic split off from it, an
earlier topic close to an already continued new topic merged into it, and the rest are new or retired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from insight.nlp.embeddings import normalize_rows
from insight.topics.types import FittedTopic, FloatMatrix, TopicMatch

CENTROID_WEIGHT = 0.85
KEYWORD_WEIGHT = 0.15


@dataclass(frozen=True)
class KnownTopic:
    """A topic in force before a refit: its id, unit centroid and keywords."""

    id: int
    centroid: FloatMatrix
    keywords: Sequence[str]


def keyword_overlap(a: Sequence[str], b: Sequence[str]) -> float:
    """The Jaccard overlap of two keyword lists (0 when both are empty)."""
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


def match_scores(previous: Sequence[KnownTopic], fitted: Sequence[FittedTopic]) -> FloatMatrix:
    """The pair scores, earlier topics in rows and new topics in columns."""
    if not previous or not fitted:
        return np.zeros((len(previous), len(fitted)), dtype=np.float32)
    old = normalize_rows(np.vstack([t.centroid for t in previous]))
    new = normalize_rows(np.vstack([t.centroid for t in fitted]))
    cosine = old @ new.T
    words = np.array(
        [[keyword_overlap(p.keywords, [w for w, _ in f.keywords]) for f in fitted] for p in previous],
        dtype=np.float32,
    )
    scores: FloatMatrix = (CENTROID_WEIGHT * cosine + KEYWORD_WEIGHT * words).astype(np.float32)
    return scores


def match_topics(previous: Sequence[KnownTopic], fitted: Sequence[FittedTopic], threshold: float) -> TopicMatch:
    """Match the new topics ``fitted`` to the ``previous`` ones.

    Args:
        previous: the topics in force (their ids are kept by the new topics that continue them).
        fitted: the topics of the refit.
        threshold: the least pair score that continues a topic.
    """
    scores = match_scores(previous, fitted)
    kept: dict[int, int] = {}
    if scores.size:
        rows, cols = linear_sum_assignment(-scores)
        kept = {int(c): previous[int(r)].id for r, c in zip(rows, cols, strict=True) if scores[r, c] >= threshold}
    continued = set(kept.values())
    row_of = {t.id: i for i, t in enumerate(previous)}
    split: dict[int, int] = {}
    new: list[int] = []
    for j in range(len(fitted)):
        if j in kept:
            continue
        if scores.size:
            i = int(np.argmax(scores[:, j]))
            if scores[i, j] >= threshold and previous[i].id in continued:
                split[j] = previous[i].id
                continue
        new.append(j)
    merged: dict[int, list[int]] = {}
    retired: list[int] = []
    for topic in previous:
        if topic.id in continued:
            continue
        i = row_of[topic.id]
        if scores.size:
            j = int(np.argmax(scores[i]))
            if scores[i, j] >= threshold and j in kept:
                merged.setdefault(j, []).append(topic.id)
        retired.append(topic.id)
    return TopicMatch(kept=kept, merged=merged, split=split, new=new, retired=retired)
