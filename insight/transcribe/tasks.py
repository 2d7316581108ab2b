"""Queue handlers of the transcription and speaker stages: ids in, one service call, the writer out."""

from __future__ import annotations

import time

from sqlmodel import Session

from insight import telemetry
from insight.queue import Apply, Handler, JobContext
from insight.repositories import calls as calls_repo
from insight.runtime import Runtime
from insight.stages import Stage
from insight.transcribe.service import transcribe_call
from insight.transcribe.speakers import diarize_call
from models import Job


def make_handler(runtime: Runtime) -> Handler:
    """The transcribe stage handler: transcribes the job's call and returns the write of the utterances.

    Also records the real-time factor (call length over processing time).
    """

    def handle(job: Job, ctx: JobContext) -> Apply:
        assert job.call_id is not None
        call_id = job.call_id
        started = time.monotonic()
        write = transcribe_call(
            engine=runtime.engine,
            store=runtime.store,
            transcriber=runtime.models.transcriber(),
            call_id=call_id,
            options=runtime.transcribe_options(),
            on_progress=ctx.report,
        )
        elapsed = time.monotonic() - started
        with Session(runtime.engine) as session:
            call = calls_repo.get(session, call_id)
        if call is not None and call.duration_s > 0 and elapsed > 0:
            telemetry.REAL_TIME_FACTOR.observe(call.duration_s / elapsed)

        def apply(session: Session) -> list[str]:
            write(session)
            return []

        return apply

    return handle


def make_diarize_handler(runtime: Runtime) -> Handler:
    """Speakers, roles and conversation metrics of a transcribed call."""

    def handle(job: Job, ctx: JobContext) -> Apply:
        assert job.call_id is not None
        call_id = job.call_id
        write = diarize_call(
            engine=runtime.engine,
            store=runtime.store,
            call_id=call_id,
            models=runtime.models,
            window_s=runtime.settings.window_s,
            on_progress=ctx.report,
        )

        def apply(session: Session) -> list[str]:
            write(session)
            return []

        return apply

    return handle


TRANSCRIBE = Stage(name="transcribe.call", queue="transcribe", make_handler=make_handler, weight=0.8)
# CPU work on the analysis queue, so GPU hosts consume only transcription.
DIARIZE = Stage(name="diarize.call", queue="analyze", make_handler=make_diarize_handler, weight=0.12)
