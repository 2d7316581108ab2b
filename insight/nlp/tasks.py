"""Queue handlers of the analyze stage (ids in, redaction, minutes, utterance vectors and tracker hits, the writer
out) and of the re-embedding job.
"""

from __future__ import annotations

from sqlmodel import Session

from insight.nlp.service import AnalyzeConfig, analyze_call, reembed_stale
from insight.queue import Apply, Handler, JobContext
from insight.runtime import Runtime
from insight.stages import Change, Schedule, Stage
from models import Job


def make_handler(runtime: Runtime) -> Handler:
    """PII redaction of the call's utterances, then its minutes."""
    config = AnalyzeConfig.from_settings(runtime.settings)

    def handle(job: Job, ctx: JobContext) -> Apply:
        assert job.call_id is not None
        call_id = job.call_id
        write = analyze_call(
            engine=runtime.engine, call_id=call_id, config=config, models=runtime.models, on_progress=ctx.report
        )

        def apply(session: Session) -> list[str]:
            write(session)
            return []

        return apply

    return handle


# The minutes read the speakers' roles and resolve relative dates against the recording time: a correction of
# either in a processed call writes them again.
STAGE = Stage(
    name="analyze.call",
    queue="analyze",
    make_handler=make_handler,
    weight=0.08,
    redo_on=frozenset({Change.speakers, Change.recorded_at}),
)


# Calls re-embedded per run of ``nlp.reembed`` (one commit each); the next run takes the rest.
REEMBED_CALLS_PER_RUN = 50


def make_reembed_handler(runtime: Runtime) -> Handler:
    """The ``nlp.reembed`` job: re-embed analysed calls that miss vectors of the configured model, per call.

    Each call commits on its own (its old vectors go in the transaction that writes the new ones), so the job has
    nothing to apply when it ends.
    """

    def handle(job: Job, ctx: JobContext) -> Apply:
        ctx.check()
        reembed_stale(runtime.engine, runtime.models.embedder(), limit=REEMBED_CALLS_PER_RUN, check=ctx.check)

        def apply(session: Session) -> list[str]:
            return []

        return apply

    return handle


SCHEDULES = (
    # A change of INSIGHT_EMBEDDING_MODEL leaves every call with vectors of the old model: re-embed them.
    Schedule(
        name="nlp.reembed",
        queue="analyze",
        make_handler=make_reembed_handler,
        interval_s=lambda settings: settings.reembed_interval_s,
    ),
)
