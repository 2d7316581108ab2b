"""Queries on the job table: create once per key, claim by conditional UPDATE, renew leases, reap."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import CursorResult, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import Call, Job, JobState
from models.base import utcnow


def get_or_create(
    session: Session, *, key: str, queue: str, name: str, call_id: int | None, max_attempts: int
) -> tuple[Job, bool]:
    """Return the job with ``key``, creating it if absent. ``created`` is False for a double submit."""
    existing = session.exec(select(Job).where(Job.key == key)).first()
    if existing is not None:
        return existing, False
    job = Job(key=key, queue=queue, name=name, call_id=call_id, max_attempts=max_attempts)
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        # Lost a race with a concurrent submit of the same key: theirs is the job.
        return session.exec(select(Job).where(Job.key == key)).one(), False
    return job, True


def get(session: Session, job_id: int) -> Job | None:
    """The job with this id, or None."""
    return session.get(Job, job_id)


def for_call(session: Session, call_id: int) -> list[Job]:
    """Every job of the call, in any state, oldest first."""
    return list(session.exec(select(Job).where(Job.call_id == call_id).order_by(col(Job.id))).all())


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def claim_next(
    session: Session,
    *,
    queue: str,
    worker_id: str,
    lease_s: float,
    now: datetime | None = None,
    max_running_per_owner: int = 0,
) -> Job | None:
    """Claim the oldest due job on ``queue``; None when there is nothing to do.

    The UPDATE only succeeds while the row is still ``queued``, so two workers never both win the same job. With
    ``max_running_per_owner`` > 0, jobs of a call whose owner already has that many jobs running are passed over,
    so one user's batch upload cannot occupy every worker (a soft cap: two workers claiming in the same instant
    on PostgreSQL may exceed it by one).
    """
    now = now or utcnow()
    candidates = (
        select(Job.id)
        .where(Job.queue == queue, Job.state == JobState.queued)
        .where(or_(col(Job.not_before).is_(None), col(Job.not_before) <= now))
    )
    if max_running_per_owner > 0:
        other_job, other_call = aliased(Job), aliased(Call)
        running = (
            select(func.count())
            .select_from(other_job)
            .join(other_call, col(other_call.id) == col(other_job.call_id))
            .where(col(other_job.state) == JobState.running, col(other_call.owner_id) == col(Call.owner_id))
            .scalar_subquery()
        )
        candidates = candidates.outerjoin(Call, col(Call.id) == col(Job.call_id)).where(
            or_(col(Call.owner_id).is_(None), running < max_running_per_owner)
        )
    for _ in range(5):
        job_id = session.exec(candidates.order_by(col(Job.id)).limit(1)).first()
        if job_id is None:
            return None
        result = session.execute(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.state) == JobState.queued)
            .values(
                state=JobState.running,
                attempt=Job.attempt + 1,
                worker_id=worker_id,
                lease_until=now + timedelta(seconds=lease_s),
                started_at=now,
                updated_at=now,
                error=None,
                error_code=None,
            )
        )
        if _rowcount(result) == 1:
            session.flush()
            job = session.get(Job, job_id, populate_existing=True)
            assert job is not None
            return job
    return None


def renew_lease(session: Session, *, job_id: int, attempt: int, lease_s: float, progress: float) -> bool:
    """Extend a running job's lease and record its progress. False means the attempt lost its lease."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(col(Job.id) == job_id, col(Job.attempt) == attempt, col(Job.state) == JobState.running)
        .values(lease_until=now + timedelta(seconds=lease_s), progress=progress, updated_at=now)
    )
    return _rowcount(result) == 1


def finish(session: Session, *, job_id: int, attempt: int) -> bool:
    """Mark the attempt done; False (write nothing else) when a newer attempt has taken over."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(col(Job.id) == job_id, col(Job.attempt) == attempt, col(Job.state) == JobState.running)
        .values(state=JobState.done, progress=1.0, finished_at=now, updated_at=now, lease_until=None)
    )
    return _rowcount(result) == 1


def fail(
    session: Session,
    *,
    job_id: int,
    attempt: int,
    error: str,
    error_code: str,
    retry_at: datetime | None,
) -> bool:
    """Record a failed attempt: back to ``queued`` (due at ``retry_at``) or ``failed`` for good."""
    now = utcnow()
    values: dict[str, object] = {
        "error": error,
        "error_code": error_code,
        "updated_at": now,
        "lease_until": None,
    }
    if retry_at is not None:
        values.update(state=JobState.queued, not_before=retry_at)
    else:
        values.update(state=JobState.failed, finished_at=now)
    result = session.execute(
        update(Job)
        .where(col(Job.id) == job_id, col(Job.attempt) == attempt, col(Job.state) == JobState.running)
        .values(**values)
    )
    return _rowcount(result) == 1


def requeue_failed(session: Session, *, job_id: int, extra_attempts: int) -> bool:
    """Put a failed job back on its queue with ``extra_attempts`` more tries (user-requested retry)."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(col(Job.id) == job_id, col(Job.state) == JobState.failed)
        .values(
            state=JobState.queued,
            max_attempts=Job.attempt + extra_attempts,
            not_before=None,
            finished_at=None,
            updated_at=now,
            progress=0.0,
        )
    )
    return _rowcount(result) == 1


def reap_expired(session: Session, *, now: datetime | None = None) -> list[Job]:
    """Send running jobs whose lease lapsed (their worker died) back to ``queued``; return them."""
    now = now or utcnow()
    expired = list(session.exec(select(Job).where(Job.state == JobState.running, col(Job.lease_until) < now)).all())
    reaped: list[Job] = []
    for job in expired:
        result = session.execute(
            update(Job)
            .where(col(Job.id) == job.id, col(Job.state) == JobState.running, col(Job.lease_until) < now)
            .values(state=JobState.queued, lease_until=None, worker_id=None, updated_at=now)
        )
        if _rowcount(result) == 1:
            reaped.append(job)
    return reaped


def count_due(session: Session, *, queue: str, now: datetime | None = None) -> int:
    """How many queued jobs on ``queue`` are due at ``now`` (default: the current time)."""
    now = now or utcnow()
    return int(
        session.exec(
            select(func.count())
            .select_from(Job)
            .where(Job.queue == queue, Job.state == JobState.queued)
            .where(or_(col(Job.not_before).is_(None), col(Job.not_before) <= now))
        ).one()
    )


def count_by_state(session: Session) -> dict[tuple[str, str], int]:
    """How many jobs there are per (queue, state)."""
    rows = session.exec(select(Job.queue, Job.state, func.count()).group_by(Job.queue, Job.state)).all()
    return {(q, s): int(n) for q, s, n in rows}
