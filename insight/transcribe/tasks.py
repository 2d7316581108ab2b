"""Queue handlers of the transcription and speaker stages: ids in, one service call, advance the pipeline."""

from __future__ import annotations

from sqlmodel import Session

from insight import pipeline
from insight.queue import Apply, Handler, JobContext
from insight.runtime import Runtime
from insight.transcribe.service import transcribe_call
from insight.transcribe.speakers import diarize_call
from models import Job

NAME = "transcribe.call"


def make_handler(runtime: Runtime) -> Handler:
    def handle(job: Job, ctx: JobContext) -> Apply:
        assert job.call_id is not None
        call_id = job.call_id
        write = transcribe_call(
            engine=runtime.engine,
            store=runtime.store,
            transcriber=runtime.transcriber(),
            call_id=call_id,
            options=runtime.transcribe_options(),
            on_progress=ctx.report,
        )

        def apply(session: Session) -> list[str]:
            write(session)
            return pipeline.advance(session, call_id, NAME, max_attempts=runtime.settings.job_max_attempts)

        return apply

    return handle


DIARIZE = "diarize.call"


def make_diarize_handler(runtime: Runtime) -> Handler:
    """Speakers, roles and conversation metrics of a transcribed call."""

    def handle(job: Job, ctx: JobContext) -> Apply:
        assert job.call_id is not None
        call_id = job.call_id
        write = diarize_call(
            engine=runtime.engine,
            store=runtime.store,
            call_id=call_id,
            window_s=runtime.settings.window_s,
            on_progress=ctx.report,
        )

        def apply(session: Session) -> list[str]:
            write(session)
            return pipeline.advance(session, call_id, DIARIZE, max_attempts=runtime.settings.job_max_attempts)

        return apply

    return handle
