"""Queue handler of the analyze stage: ids in, redaction and minutes, the writer out."""

from __future__ import annotations

from sqlmodel import Session

from insight.nlp.service import AnalyzeConfig, analyze_call
from insight.queue import Apply, Handler, JobContext
from insight.runtime import Runtime
from insight.stages import Change, Stage
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
