"""The job table: one job per key, conditional claims, leases, reaping, attempts (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlmodel import select

from insight.db import session_scope
from insight.queue import JobContext, JobRunner, LeaseLost
from insight.repositories import jobs as jobs_repo
from insight.runtime import Runtime
from models import Job, JobState
from models.base import utcnow


def _submit(runtime: Runtime, key: str = "demo:1", queue: str = "analyze") -> int:
    with session_scope(runtime.engine) as s:
        job, created = jobs_repo.get_or_create(s, key=key, queue=queue, name="demo.run", call_id=None, max_attempts=2)
        assert created
        assert job.id is not None
        return job.id


def test_double_submit_makes_one_job(runtime: Runtime) -> None:
    _submit(runtime)
    with session_scope(runtime.engine) as s:
        job, created = jobs_repo.get_or_create(
            s, key="demo:1", queue="analyze", name="demo.run", call_id=None, max_attempts=2
        )
        assert not created
    with session_scope(runtime.engine) as s:
        assert len(s.exec(select(Job)).all()) == 1


def test_claim_is_exclusive_under_concurrency(runtime: Runtime) -> None:
    for i in range(20):
        _submit(runtime, key=f"k{i}")
    claimed: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        while True:
            with session_scope(runtime.engine) as s:
                job = jobs_repo.claim_next(s, queue="analyze", worker_id=f"w{n}", lease_s=30)
            if job is None:
                return
            with lock:
                assert job.id is not None
                claimed.append(job.id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(set(claimed))
    assert len(claimed) == 20


def test_stale_attempt_cannot_finish_and_reaper_requeues(runtime: Runtime) -> None:
    job_id = _submit(runtime)
    with session_scope(runtime.engine) as s:
        first = jobs_repo.claim_next(s, queue="analyze", worker_id="a", lease_s=0.2)
        assert first is not None
        assert first.attempt == 1
    time.sleep(0.3)
    with session_scope(runtime.engine) as s:
        reaped = jobs_repo.reap_expired(s)
        assert [j.id for j in reaped] == [job_id]
    with session_scope(runtime.engine) as s:
        second = jobs_repo.claim_next(s, queue="analyze", worker_id="b", lease_s=30)
        assert second is not None
        assert second.attempt == 2
    with session_scope(runtime.engine) as s:
        assert not jobs_repo.finish(s, job_id=job_id, attempt=1)
        assert not jobs_repo.renew_lease(s, job_id=job_id, attempt=1, lease_s=30, progress=0.5)
        assert jobs_repo.finish(s, job_id=job_id, attempt=2)
    with session_scope(runtime.engine) as s:
        job = s.get(Job, job_id)
        assert job is not None
        assert job.state == JobState.done


def test_failure_retries_then_fails_for_good(runtime: Runtime) -> None:
    calls: list[int] = []

    def boom(job: Job, ctx: JobContext):  # type: ignore[no-untyped-def]
        calls.append(ctx.attempt)
        raise RuntimeError("transient")

    runner = JobRunner(
        engine=runtime.engine, settings=runtime.settings, queues=runtime.queues, handlers={"demo.run": boom}
    )
    job_id = _submit(runtime)
    assert runner.run_next("analyze")
    with session_scope(runtime.engine) as s:
        job = s.get(Job, job_id)
        assert job is not None
        assert job.state == JobState.queued
        assert job.error == "RuntimeError: transient"
        assert job.attempt == 1
    assert runner.run_next("analyze")
    with session_scope(runtime.engine) as s:
        job = s.get(Job, job_id)
        assert job is not None
        assert job.state == JobState.failed
        assert job.attempt == 2
    assert not runner.run_next("analyze")
    assert calls == [1, 2]


def test_backoff_delays_the_retry(runtime: Runtime) -> None:
    job_id = _submit(runtime)
    with session_scope(runtime.engine) as s:
        job = jobs_repo.claim_next(s, queue="analyze", worker_id="a", lease_s=30)
        assert job is not None
        jobs_repo.fail(s, job_id=job_id, attempt=1, error="x", error_code="x", retry_at=utcnow() + timedelta(hours=1))
    with session_scope(runtime.engine) as s:
        assert jobs_repo.claim_next(s, queue="analyze", worker_id="a", lease_s=30) is None
        assert jobs_repo.count_due(s, queue="analyze") == 0


def test_heartbeat_renews_lease_and_detects_loss(runtime: Runtime) -> None:
    seen: dict[str, float] = {}

    def slow(job: Job, ctx: JobContext):  # type: ignore[no-untyped-def]
        for i in range(8):
            time.sleep(0.25)
            ctx.report((i + 1) / 8)
        with session_scope(runtime.engine) as s:
            row = s.get(Job, job.id)
            assert row is not None
            assert row.lease_until is not None
            seen["lease_left"] = (row.lease_until - utcnow()).total_seconds()
            seen["progress"] = row.progress
        return lambda session: []

    runner = JobRunner(
        engine=runtime.engine, settings=runtime.settings, queues=runtime.queues, handlers={"demo.run": slow}
    )
    job_id = _submit(runtime)
    assert runner.run_next("analyze")
    # The job ran 2 s with a 5 s lease, heartbeats every 0.5 s: the lease was renewed and progress written.
    assert seen["lease_left"] > 3.5
    assert seen["progress"] > 0.5
    with session_scope(runtime.engine) as s:
        job = s.get(Job, job_id)
        assert job is not None
        assert job.state == JobState.done
        assert job.progress == 1.0

    ctx = JobContext(job_id=1, attempt=1, call_id=None, deadline=time.monotonic() + 60, time_limit_s=60)
    ctx.lost.set()
    try:
        ctx.report(0.1)
    except LeaseLost:
        pass
    else:
        raise AssertionError("a lost lease must stop the handler")


def test_time_limit_fails_the_job_with_a_clear_error(runtime: Runtime) -> None:
    def forever(job: Job, ctx: JobContext):  # type: ignore[no-untyped-def]
        while True:
            time.sleep(0.05)
            ctx.report(0.1)

    settings = runtime.settings.model_copy(update={"job_time_limit_s": 0.5})
    runner = JobRunner(engine=runtime.engine, settings=settings, queues=runtime.queues, handlers={"demo.run": forever})
    job_id = _submit(runtime)
    runner.run_next("analyze")
    with session_scope(runtime.engine) as s:
        job = s.get(Job, job_id)
        assert job is not None
        assert job.state == JobState.failed
        assert job.error_code == "job_timeout"
        assert "time limit" in (job.error or "")


def test_reaper_tops_up_lost_wakeups(runtime: Runtime) -> None:
    runner = JobRunner(engine=runtime.engine, settings=runtime.settings, queues=runtime.queues, handlers={})
    runtime.queues.flush()
    _submit(runtime, key="a")
    _submit(runtime, key="b")
    assert runtime.queues.pending("analyze") == 0  # the wake-ups were "lost"
    assert runner.reap_once() == 2
    assert runtime.queues.pending("analyze") == 2
    assert runner.reap_once() == 0  # no flood: pending already covers the due jobs
