"""Queue jobs of topics: the ``topics.assign`` call stage (after analyze) and the periodic ``topics.refit``."""

from __future__ import annotations

from sqlmodel import Session

from insight.db import session_scope
from insight.errors import InsufficientData
from insight.nlp.embeddings import LazyEmbedder
from insight.queue import Apply, Handler, JobContext
from insight.runtime import Runtime
from insight.stages import Schedule, Stage
from insight.topics.service import assign_call, fit_topics, refit_due
from insight.topics.types import Side, TopicOptions
from models import Job


def make_assign_handler(runtime: Runtime) -> Handler:
    """The ``topics.assign`` stage: the call's utterances join the topics in force (no refit)."""
    model = runtime.settings.embedding_model

    def handle(job: Job, ctx: JobContext) -> Apply:
        assert job.call_id is not None
        call_id = job.call_id
        ctx.check()

        def apply(session: Session) -> list[str]:
            # Reading the topics and writing the call's assignments in the job's transaction: a topic refit
            # committing meanwhile either precedes it (the call joins the new topics) or re-assigns it.
            assign_call(session, call_id, model=model, embedder=LazyEmbedder(runtime.models.embedder, name=model))
            return []

        return apply

    return handle


def make_refit_handler(runtime: Runtime) -> Handler:
    """The ``topics.refit`` job: refit each side whose topics are due (never fitted, N new calls, or a day old).

    Each fit commits itself, so the job has nothing to apply when it ends. A side without enough utterances yet is
    skipped until there are.
    """
    settings = runtime.settings

    def handle(job: Job, ctx: JobContext) -> Apply:
        options = TopicOptions(sample_size=settings.topics_sample_size)
        for side in Side:
            ctx.check()
            with session_scope(runtime.engine) as session:
                due = refit_due(
                    session, side, every_calls=settings.topics_refit_calls, max_age_s=settings.topics_refit_age_s
                )
            if not due:
                continue
            try:
                fit_topics(
                    runtime.engine, model=settings.embedding_model, side=side, options=options, trigger="periodic"
                )
            except InsufficientData:
                continue

        def apply(session: Session) -> list[str]:
            return []

        return apply

    return handle


# After analyze (which stores the utterance vectors). Light: a nearest-centroid look-up per utterance.
STAGE = Stage(name="topics.assign", queue="analyze", make_handler=make_assign_handler, weight=0.01)

SCHEDULES = (
    # Checks once per ``topics_interval_s`` whether a side is due for a refit (off when 0).
    Schedule(
        name="topics.refit",
        queue="analyze",
        make_handler=make_refit_handler,
        interval_s=lambda settings: settings.topics_interval_s,
    ),
)
