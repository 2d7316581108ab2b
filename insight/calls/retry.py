"""User-requested retry of a failed call."""

from __future__ import annotations

from insight.calls import view as call_view
from insight.db import session_scope
from insight.errors import Conflict
from insight.repositories import calls as calls_repo
from insight.repositories import jobs as jobs_repo
from insight.runtime import Runtime
from models import CallStatus, JobState


def retry_call(runtime: Runtime, call_id: int) -> None:
    """Requeue the failed job of a failed call (with a fresh set of attempts).

    Raises:
        NotFound: no such call.
        Conflict: the call has not failed.
    """
    with session_scope(runtime.engine) as session:
        call = call_view.get_call(session, call_id)
        failed = [j for j in jobs_repo.for_call(session, call_id) if j.state == JobState.failed]
        if call.status != CallStatus.failed or not failed:
            raise Conflict(
                f"Call {call_id} is {call.status}; only failed calls can be retried.",
                hint="Wait for it to finish, or check its error with GET /api/calls/{id}.",
            )
        queues = set()
        for job in failed:
            assert job.id is not None
            if jobs_repo.requeue_failed(session, job_id=job.id, extra_attempts=runtime.settings.job_max_attempts):
                queues.add(job.queue)
        calls_repo.update_fields(session, call_id, status=CallStatus.queued, error=None, error_code=None, progress=0.0)
    for queue in queues:
        runtime.queues.wake(queue)
