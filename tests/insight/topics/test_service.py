"""Topics in the database (SQLite and PostgreSQL): a fit assigns every utterance, a refit on 10% more keeps the
topic ids and a user's label, a new call is assigned without a refit, and a refit is due after N new calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlmodel import Session, col, func, select

from insight.db import session_scope
from insight.errors import InsufficientData
from insight.nlp.embeddings import Embedder
from insight.repositories import embeddings as embeddings_repo
from insight.repositories import topics as topics_repo
from insight.runtime import Runtime
from insight.topics import service
from insight.topics.types import Side, TopicOptions
from models import Topic, TopicFitRun, UtteranceTopic
from tests.insight.topics.conftest import Corpus, store_calls

pytestmark = pytest.mark.slow

BASE = 1200  # 60 calls of 20 customer utterances
NEW = 120  # 10% more: 6 calls


def count(session: Session, model: type[UtteranceTopic] | type[TopicFitRun]) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_fit_refit_and_a_new_call(runtime: Runtime, corpus: Corpus, embedder: Embedder) -> None:
    engine = runtime.engine
    with pytest.raises(InsufficientData):
        service.fit_topics(engine, model=embedder.name)
    store_calls(engine, corpus.texts[:BASE], corpus.matrix[:BASE])

    first = service.fit_topics(engine, model=embedder.name, trigger="test")
    assert first.status == "done"
    assert first.utterances == first.sample_size == BASE  # the reps' backchannels are not customer utterances
    assert first.new == first.topics >= 8
    assert (first.kept, first.merged, first.split) == (0, 0, 0)
    assert 0.0 <= first.outlier_share < 0.1
    with Session(engine) as s:
        topics = topics_repo.active_topics(s, "customer")
        assigned = count(s, UtteranceTopic)
        assert assigned == round(BASE * (1 - first.outlier_share))
        assert sum(t.size for t in topics) == assigned
        # Only customer utterances get a topic; the rep's "はい" never does.
        sides = s.exec(select(UtteranceTopic.side).distinct()).all()
        assert sides == ["customer"]
        assert topics_repo.active_topics(s, "rep") == []
    largest = topics[0]
    assert largest.id is not None
    with session_scope(engine) as s:
        service.update_label(s, largest.id, "天気の話")

    # Refit on the corpus plus 10% new utterances: at least 90% of the topic ids survive, the label too.
    store_calls(engine, corpus.texts[BASE : BASE + NEW], corpus.matrix[BASE : BASE + NEW], first=1000)
    second = service.fit_topics(engine, model=embedder.name, trigger="test")
    assert second.utterances == BASE + NEW
    assert second.kept >= 0.9 * first.topics, second
    assert second.kept + second.new + second.split == second.topics
    with Session(engine) as s:
        after = {t.id: t for t in topics_repo.active_topics(s, "customer")}
        kept_ids = {t.id for t in topics} & set(after)
        assert len(kept_ids) == second.kept
        if largest.id in after:
            assert (after[largest.id].label, after[largest.id].label_edited) == ("天気の話", True)
        retired = s.exec(select(Topic).where(col(Topic.side) == "customer", col(Topic.active).is_(False))).all()
        assert len(retired) == first.topics - second.kept
        runs_before = count(s, TopicFitRun)

    # A new call joins the topics in force without a refit; an utterance without a stored vector is embedded.
    rain = [
        "雨だと外に行きたくないですよね",
        "We should be getting a lot of rain soon because of a tropical storm coming up",
    ]
    [call_id] = store_calls(engine, rain, embedder.encode(rain), first=2000)
    with session_scope(engine) as s:
        batch = embeddings_repo.for_call(s, call_id, embedder.name)
        embeddings_repo.replace_for_call(s, call_id, embedder.name, batch.utterance_ids[:1].tolist(), batch.matrix[:1])
    with session_scope(engine) as s:
        assert service.assign_call(s, call_id, model=embedder.name, embedder=embedder) == {"customer": 2}
    with Session(engine) as s:
        rows = s.exec(select(UtteranceTopic).where(UtteranceTopic.call_id == call_id)).all()
        assert len(rows) == 2
        assert rows[0].topic_id == rows[1].topic_id  # the same thing in Japanese and English
        assert count(s, TopicFitRun) == runs_before


def test_a_refit_is_due_when_never_fitted_after_n_new_calls_or_a_day(
    runtime: Runtime, corpus: Corpus, embedder: Embedder
) -> None:
    engine = runtime.engine
    with Session(engine) as s:
        assert service.refit_due(s, Side.customer, every_calls=3, max_age_s=86400)
    store_calls(engine, corpus.texts[:400], corpus.matrix[:400])
    run = service.fit_topics(engine, model=embedder.name, options=TopicOptions(n_topics=8))
    assert run.calls_at_fit == 20
    assert run.finished_at is not None
    with Session(engine) as s:
        assert not service.refit_due(s, Side.customer, every_calls=3, max_age_s=86400)
        assert service.refit_due(
            s, Side.customer, every_calls=3, max_age_s=86400, now=run.finished_at + timedelta(days=1, seconds=1)
        )
    new_calls = store_calls(engine, corpus.texts[400:460], corpus.matrix[400:460], first=500)
    for call_id in new_calls:
        with session_scope(engine) as s:
            service.assign_call(s, call_id, model=embedder.name)
    with Session(engine) as s:
        assert service.refit_due(s, Side.customer, every_calls=3, max_age_s=86400)
        assert not service.refit_due(s, Side.customer, every_calls=4, max_age_s=86400)
        assert datetime.now(UTC) - run.finished_at < timedelta(hours=1)
    assert np.isfinite(run.threshold)
