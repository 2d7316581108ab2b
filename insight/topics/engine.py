"""Topic fitting on precomputed utterance embeddings, and the assignment of new utterances to fitted topics.

The embeddings are reduced and clustered here (seeded, so a fit is reproducible), and BERTopic describes the clusters
(class-based TF-IDF over the Japanese- and English-aware content words of ``insight.topics.vectorizer``) and reduces
HDBSCAN's outliers by embedding similarity. A topic's centroid is the normalised mean of its utterances' embeddings
in the original space, so assignment needs no reducer: the nearest centroid by cosine similarity, if close enough.

Nothing here touches the database; memory is bounded by the fitted sample, since assignment works batch by batch.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from insight.nlp.embeddings import normalize_rows
from insight.topics.types import Assignment, FitResult, FittedTopic, FloatMatrix, Method, TopicOptions
from insight.topics.vectorizer import ContentWordTokenizer

MIN_FIT_UTTERANCES = 20


def auto_topic_count(n: int) -> int:
    """Clusters for ``n`` utterances when none are asked for: about sqrt(n)/2, from 8 to 60."""
    return int(min(60, max(8, round(np.sqrt(n) / 2))))


def sample_indexes(n: int, size: int, seed: int) -> npt.NDArray[np.int64]:
    """Up to ``size`` of ``range(n)``, drawn without replacement with ``seed``, in ascending order."""
    if n <= size:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=size, replace=False)).astype(np.int64)


def _reduce(embeddings: FloatMatrix, options: TopicOptions) -> tuple[Any, FloatMatrix]:
    if options.method is Method.umap_hdbscan:
        from umap import UMAP

        reducer: Any = UMAP(
            n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=options.seed, low_memory=True
        )
    else:
        from sklearn.decomposition import PCA

        reducer = PCA(n_components=min(options.pca_components, *embeddings.shape), random_state=options.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # UMAP warns that a seed disables its parallelism: reproducibility first
        reduced = np.asarray(reducer.fit_transform(embeddings), dtype=np.float32)
    return reducer, reduced


def _cluster(
    embeddings: FloatMatrix,
    reduced: FloatMatrix,
    reducer: Any,
    options: TopicOptions,
    previous: FloatMatrix | None,
) -> npt.NDArray[np.int64]:
    n = len(reduced)
    if options.method is Method.pca_kmeans:
        from sklearn.cluster import KMeans, kmeans_plusplus

        k = min(options.n_topics or auto_topic_count(n), max(2, n // max(2, options.min_topic_size)))
        init: Any = "k-means++"
        if previous is not None and len(previous):
            # A refit starts from the earlier topics (placed in the new reduced space), so a topic drifts with its
            # new utterances instead of being found again from scratch: what keeps topic ids stable.
            seeds = np.asarray(reducer.transform(previous), dtype=np.float32)[:k]
            if len(seeds) < k:
                extra, _ = kmeans_plusplus(reduced, n_clusters=k - len(seeds), random_state=options.seed)
                seeds = np.vstack([seeds, extra])
            init = seeds
            k = len(seeds)
        model = KMeans(n_clusters=k, init=init, n_init=1, random_state=options.seed, max_iter=100)
        labels: npt.NDArray[np.int64] = np.asarray(model.fit_predict(reduced), dtype=np.int64)
        # KMeans places everything; clusters too small to describe become outliers.
        counts = np.bincount(labels, minlength=k)
        labels[counts[labels] < options.min_topic_size] = -1
        return labels
    # A density cluster needs a share of the sample, not a fixed count: at 20,000 utterances a dozen near-repeats
    # (one customer's phrasing across calls) would otherwise be a topic of their own, and topics would number hundreds.
    min_size = max(options.min_topic_size, n // 400)
    if options.method is Method.pca_hdbscan:
        from sklearn.cluster import HDBSCAN

        hdb: Any = HDBSCAN(min_cluster_size=min_size, min_samples=5, copy=True)
    else:
        from hdbscan import HDBSCAN as HdbscanHDBSCAN

        hdb = HdbscanHDBSCAN(min_cluster_size=min_size, min_samples=5, metric="euclidean", prediction_data=False)
    return np.asarray(hdb.fit_predict(reduced), dtype=np.int64)


def _centroids(embeddings: FloatMatrix, labels: npt.NDArray[np.int64], k: int) -> FloatMatrix:
    sums = np.zeros((k, embeddings.shape[1]), dtype=np.float64)
    np.add.at(sums, labels[labels >= 0], embeddings[labels >= 0])
    return normalize_rows(sums)


def fit_topics(
    docs: Sequence[str],
    embeddings: npt.ArrayLike,
    options: TopicOptions | None = None,
    *,
    previous_centroids: npt.ArrayLike | None = None,
) -> FitResult:
    """Fit topics on ``docs`` and their embeddings (one L2-normalised row per doc, same order).

    Args:
        docs: the utterance texts (already filtered of backchannels, at most ``options.sample_size``).
        embeddings: their embeddings.
        options: how to fit.
        previous_centroids: the centroids of the topics in force, to start a KMeans refit from.

    Returns:
        The topics (largest first) and each doc's topic and score.

    Raises:
        ValueError: too few docs to fit, or docs and embeddings disagree in length.
    """
    options = options or TopicOptions()
    matrix = normalize_rows(embeddings)
    if len(docs) != len(matrix):
        raise ValueError(f"{len(docs)} docs but {len(matrix)} embeddings")
    if len(docs) < MIN_FIT_UTTERANCES:
        raise ValueError(f"need at least {MIN_FIT_UTTERANCES} utterances to fit topics, got {len(docs)}")

    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    logging.getLogger("BERTopic").setLevel(logging.WARNING)
    reducer, reduced = _reduce(matrix, options)
    previous = None if previous_centroids is None else normalize_rows(previous_centroids)
    clusters = _cluster(matrix, reduced, reducer, options, previous)
    outliers_before = int(np.sum(clusters < 0))

    vectorizer = CountVectorizer(
        tokenizer=ContentWordTokenizer(),
        lowercase=False,
        token_pattern=None,
        # Words in a handful of utterances make odd keywords (a name, a typo): a floor of about 1 in 1,000.
        min_df=max(2, len(docs) // 1000) if len(docs) >= 200 else 1,
        max_features=50_000,
    )
    # The clusters are ours: BERTopic gets them as labels (no reducer, no clusterer of its own) and builds the
    # c-TF-IDF keywords, topic embeddings and outlier reduction on them.
    model = BERTopic(
        umap_model=BaseDimensionalityReduction(),
        hdbscan_model=BaseCluster(),
        vectorizer_model=vectorizer,
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=options.top_words,
        min_topic_size=options.min_topic_size,
        calculate_probabilities=False,
        low_memory=True,
        # "english" would strip every character outside [A-Za-z0-9 ] before the vectorizer sees the text.
        language="multilingual",
        verbose=False,
    )
    texts = list(docs)
    topics = np.asarray(model.fit_transform(texts, matrix, y=clusters)[0], dtype=np.int64)
    if options.method is not Method.pca_kmeans and np.any(topics < 0) and np.any(topics >= 0):
        reduced_topics = model.reduce_outliers(
            texts, topics.tolist(), strategy="embeddings", embeddings=matrix, threshold=options.outlier_threshold
        )
        topics = np.asarray(reduced_topics, dtype=np.int64)
        model.update_topics(texts, topics=topics.tolist(), vectorizer_model=vectorizer, top_n_words=options.top_words)

    # Topic numbers as BERTopic left them (0 = largest); renumber 0..k-1 by size, keywords from the model.
    ids = sorted({int(t) for t in topics if t >= 0}, key=lambda t: (-int(np.sum(topics == t)), t))
    position = {t: i for i, t in enumerate(ids)}
    labels = np.array([position.get(int(t), -1) for t in topics], dtype=np.int64)
    centroids = _centroids(matrix, labels, len(ids))
    fitted = [
        FittedTopic(
            keywords=[(str(w), float(s)) for w, s in (model.get_topic(t) or []) if str(w)][: options.top_words],
            centroid=centroids[i],
            size=int(np.sum(labels == i)),
        )
        for i, t in enumerate(ids)
    ]
    scores = np.zeros(len(labels), dtype=np.float32)
    if len(ids):
        sims = matrix @ centroids.T
        scores = np.where(labels >= 0, sims[np.arange(len(labels)), np.maximum(labels, 0)], sims.max(axis=1))
    member = scores[labels >= 0]
    threshold = options.min_similarity
    if threshold is None:
        threshold = max(0.2, float(np.percentile(member, 5))) if len(member) else 0.2
    return FitResult(
        topics=fitted,
        labels=labels,
        scores=scores.astype(np.float32),
        threshold=threshold,
        outliers_before=outliers_before,
    )


def assign(embeddings: npt.ArrayLike, centroids: FloatMatrix, threshold: float) -> Assignment:
    """Each row's nearest topic centroid by cosine similarity, or -1 when below ``threshold``.

    Args:
        embeddings: utterance embeddings, one row each.
        centroids: unit topic centroids, one row each.
        threshold: the least similarity that joins a topic.
    """
    matrix = normalize_rows(embeddings)
    if len(matrix) == 0 or len(centroids) == 0:
        return Assignment(
            positions=np.full(len(matrix), -1, dtype=np.int64), scores=np.zeros(len(matrix), dtype=np.float32)
        )
    sims = matrix @ np.asarray(centroids, dtype=np.float32).T
    best = np.argmax(sims, axis=1).astype(np.int64)
    score = sims[np.arange(len(best)), best].astype(np.float32)
    return Assignment(positions=np.where(score >= threshold, best, -1).astype(np.int64), scores=score)
