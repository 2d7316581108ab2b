"""Queue handler of the analyze stage: ids in, redaction and minutes, advance the pipeline."""

from __future__ import annotations

from sqlmodel import Session

from insight import pipeline
from insight.nlp.service import AnalyzeConfig, analyze_call
from insight.queue import Apply, Handler, JobContext
from insight.runtime import Runtime
from models import Job

NAME = "analyze.call"


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
            return pipeline.advance(session, call_id, NAME, max_attempts=runtime.settings.job_max_attempts)

        return apply

    return handle
