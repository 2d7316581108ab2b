"""Retention and per-customer erasure leave no trace: every table is read back whole, and the audio store listed
(SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, SQLModel, col, select

from insight.calls.service import UploadMeta, ingest
from insight.customers.service import erase_customer
from insight.db import session_scope
from insight.pipeline import periodic_job
from insight.repositories import customers as customers_repo
from insight.repositories import transcripts as transcripts_repo
from insight.retention import tasks as retention_tasks
from insight.retention.service import purge_expired
from insight.runtime import Runtime
from insight.transcribe.speakers import rebuild_profile
from insight.worker import build_runner
from models import (
    AuditEvent,
    Call,
    CallMetrics,
    CustomerSegment,
    Job,
    JobState,
    Minutes,
    Speaker,
    Transaction,
    Utterance,
    VoiceProfile,
)
from tests.fixtures import auth, bad_audio

(PURGE,) = retention_tasks.SCHEDULES


@dataclass
class Seeded:
    call_id: int
    sha256: str
    markers: tuple[str, ...]  # strings that exist only in this customer's / call's data


def dump_everything(runtime: Runtime) -> str:
    """Every row of every table, as text."""
    parts: list[str] = []
    with runtime.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(sa_select(table)).all():
                parts.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(parts)


def stored_hashes(runtime: Runtime) -> set[str]:
    return {p.name for p in runtime.store.iter_files()}


def seed_call(
    runtime: Runtime, tmp_path: Path, tag: str, *, seconds: float, customer: str | None, deal: str | None, owner: int
) -> Seeded:
    """A processed-looking call: audio, transcript (original + redacted), named speakers with voice prints,
    a confirmed rep voice in a profile, metrics, minutes and finished jobs."""
    wav = bad_audio.good_wav(tmp_path / f"{tag}-recording.wav", seconds=seconds, channels=1)
    with wav.open("rb") as fh:
        call = ingest(
            runtime,
            fh,
            UploadMeta(
                filename=f"{tag}-recording.wav",
                customer_external_id=customer,
                deal_external_id=deal,
                rep=f"{tag}-rep@example.com",
                owner_id=owner,
            ),
        ).call
    assert call.id is not None
    said = f"{tag}-said-my-phone-is-090"
    with session_scope(runtime.engine) as s:
        transcripts_repo.replace_for_call(
            s,
            call.id,
            [
                Utterance(
                    call_id=call.id,
                    idx=0,
                    start=0.0,
                    end=1.0,
                    speaker="S1",
                    text=said,
                    text_redacted=f"{tag}-redacted",
                    words=[{"start": 0, "end": 1, "text": said, "probability": 1}],
                )
            ],
        )
        s.add(
            Speaker(
                call_id=call.id,
                label="S1",
                name=f"{tag}-speaker-name",
                role="rep",
                role_source="user",
                embedding=[0.5] * 8,
                talk_s=1.0,
            )
        )
        s.add(
            CallMetrics(
                call_id=call.id,
                metrics={"talk_ratio": 0.5, "questions": {"rep": 1}},
                speakers=[],
                computed_at=datetime.now(UTC),
            )
        )
        s.add(
            Minutes(
                call_id=call.id,
                language="ja",
                backend="offline",
                content={"summary": f"{tag}-minutes-summary"},
                generated_at=datetime.now(UTC),
            )
        )
        s.flush()
        rebuild_profile(s, f"{tag}-rep@example.com")
        s.execute(update(Call).where(col(Call.id) == call.id).values(status="done"))
        s.execute(
            update(Call.__table__.c.keys().__class__)
            if False
            else update(Call).where(col(Call.id) == call.id).values(progress=1.0)
        )  # noqa: E501
    return Seeded(
        call.id, call.audio_sha256, (said, f"{tag}-speaker-name", f"{tag}-minutes-summary", f"{tag}-recording")
    )


def test_erasing_a_customer_leaves_no_trace(runtime: Runtime, tmp_path: Path) -> None:
    owner = auth.make_user(runtime, "rep@example.com", role="admin")  # may name any rep (voice profiles)
    with session_scope(runtime.engine) as s:
        gone, _ = customers_repo.upsert(
            s,
            source="crm",
            external_id="CUST-GONE",
            values={"name": "Yamada Hanako", "email": "hanako@gone.example", "properties": {"note": "gone-note"}},
        )
        kept, _ = customers_repo.upsert(s, source="crm", external_id="CUST-KEPT", values={"name": "Suzuki Ichiro"})
        assert gone.id is not None
        assert kept.id is not None
        gone_id, kept_id = gone.id, kept.id
        customers_repo.upsert_deal(
            s, source="crm", external_id="DEAL-GONE", values={"customer_id": gone_id, "name": "gone-deal"}
        )
        for i, cid in enumerate((gone_id, gone_id, kept_id)):
            s.add(
                Transaction(
                    customer_id=cid,
                    source="shop",
                    external_id=f"T{i}",
                    order_id=f"gone-order-{i}" if cid == gone_id else f"O{i}",
                    occurred_at=datetime(2026, 1, 1 + i, tzinfo=UTC),
                    amount=100.0 + i,
                )
            )
    a = seed_call(runtime, tmp_path, "gone1", seconds=1.0, customer="CUST-GONE", deal=None, owner=owner.user_id)
    b = seed_call(runtime, tmp_path, "gone2", seconds=1.2, customer=None, deal="DEAL-GONE", owner=owner.user_id)
    c = seed_call(runtime, tmp_path, "kept", seconds=1.4, customer="CUST-KEPT", deal=None, owner=owner.user_id)
    from insight.segments.service import compute_segments

    compute_segments(runtime.engine, trigger="test")
    before = dump_everything(runtime)
    for marker in (
        *a.markers,
        *b.markers,
        "Yamada Hanako",
        "hanako@gone.example",
        "gone-note",
        "gone-deal",
        "gone-order-0",
    ):
        assert marker in before, marker

    report = erase_customer(runtime.engine, runtime.store, gone_id, actor=auth_actor(owner))
    assert report.audio_files_deleted == 2
    assert report.rows_deleted["call"] == 2
    assert report.rows_deleted["customer"] == 1

    after = dump_everything(runtime)
    for marker in (
        *a.markers,
        *b.markers,
        "Yamada Hanako",
        "hanako@gone.example",
        "gone-note",
        "gone-deal",
        "gone-order-0",
        "gone-order-1",
        "CUST-GONE",
        "DEAL-GONE",
        a.sha256,
        b.sha256,
        "gone1-rep@example.com",
        "gone2-rep@example.com",
    ):
        assert marker not in after, marker
    for marker in (*c.markers, "Suzuki Ichiro", "CUST-KEPT", c.sha256):
        assert marker in after, marker
    assert stored_hashes(runtime) == {c.sha256}
    with runtime.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for column in ("customer_id", "call_id"):
                if column in table.c:
                    ids = {gone_id} if column == "customer_id" else {a.call_id, b.call_id}
                    rows = conn.execute(sa_select(table).where(table.c[column].in_(ids))).all()
                    assert rows == [], (table.name, rows)
        assert conn.execute(sa_select(CustomerSegment).where(col(CustomerSegment.customer_id) == kept_id)).all()
    with Session(runtime.engine) as s:
        assert {p.rep_key for p in s.exec(select(VoiceProfile)).all()} == {"kept-rep@example.com"}
        assert [x.id for x in s.exec(select(Call)).all()] == [c.call_id]
        erased = s.exec(select(AuditEvent).where(AuditEvent.action == "customer.erase")).one()
    assert erased.object_id == str(gone_id)
    assert sorted(erased.details["calls"]) == sorted([a.call_id, b.call_id])


def auth_actor(account: auth.Account):  # type: ignore[no-untyped-def]
    from insight.audit import Actor

    return Actor(label=account.email, user_id=account.user_id)


def test_retention_keeps_only_anonymous_figures(runtime: Runtime, tmp_path: Path) -> None:
    owner = auth.make_user(runtime, "rep@example.com", role="admin")  # may name any rep (voice profiles)
    old = seed_call(runtime, tmp_path, "old", seconds=1.0, customer=None, deal=None, owner=owner.user_id)
    new = seed_call(runtime, tmp_path, "new", seconds=1.3, customer=None, deal=None, owner=owner.user_id)
    with session_scope(runtime.engine) as s:
        s.execute(
            update(Call).where(col(Call.id) == old.call_id).values(created_at=datetime.now(UTC) - timedelta(days=40))
        )
    assert purge_expired(runtime.engine, runtime.store, days=90).calls_purged == 0
    report = purge_expired(runtime.engine, runtime.store, days=30)
    assert report.calls_purged == 1
    assert report.audio_files_deleted == 1

    after = dump_everything(runtime)
    for marker in (*old.markers, old.sha256, "old-redacted"):
        assert marker not in after, marker
    for marker in (*new.markers, new.sha256):
        assert marker in after, marker
    assert stored_hashes(runtime) == {new.sha256}
    with Session(runtime.engine) as s:
        call = s.get(Call, old.call_id)
        assert call is not None
        assert call.purged_at is not None
        assert call.filename == ""
        assert call.duration_s == 1.0  # the anonymous figures stay
        assert call.owner_id == owner.user_id
        assert call.audio_sha256 == hashlib.sha256(f"purged:{old.call_id}".encode()).hexdigest()
        metrics = s.get(CallMetrics, old.call_id)
        assert metrics is not None
        assert metrics.metrics["talk_ratio"] == 0.5
        assert s.exec(select(Utterance).where(Utterance.call_id == old.call_id)).all() == []
        assert {p.rep_key for p in s.exec(select(VoiceProfile)).all()} == {"new-rep@example.com"}
    # A second run finds nothing more; the same recording uploaded again is a new call.
    assert purge_expired(runtime.engine, runtime.store, days=30).calls_purged == 0
    with (tmp_path / "old-recording.wav").open("rb") as fh:
        again = ingest(runtime, fh, UploadMeta(filename="old-recording.wav", owner_id=owner.user_id))
    assert again.created
    assert again.call.id != old.call_id


def test_the_retention_schedule_purges_through_the_queue(runtime: Runtime, tmp_path: Path) -> None:
    """The schedule submits one purge job per period (however many workers tick) and a worker runs it."""
    owner = auth.make_user(runtime, "rep@example.com", role="admin")  # may name any rep (voice profiles)
    old = seed_call(runtime, tmp_path, "old", seconds=1.0, customer=None, deal=None, owner=owner.user_id)
    with session_scope(runtime.engine) as s:
        s.execute(
            update(Call).where(col(Call.id) == old.call_id).values(created_at=datetime.now(UTC) - timedelta(days=40))
        )
    rt = Runtime.build(runtime.settings.model_copy(update={"retention_days": 30, "retention_interval_s": 3600.0}))
    try:
        schedule = periodic_job(rt, PURGE)
        now = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
        assert schedule.tick(now)
        assert not schedule.tick(now + timedelta(minutes=50))  # same hour: another worker's tick adds nothing
        runner = build_runner(rt)
        assert runner.run_next("analyze")
        assert not runner.run_next("analyze")
        with Session(rt.engine) as s:
            call = s.get(Call, old.call_id)
            assert call is not None
            assert call.purged_at is not None
            jobs = s.exec(select(Job).where(Job.name == PURGE.name)).all()
        assert [(j.state, j.key) for j in jobs] == [(JobState.done, f"{PURGE.name}:periodic:{498778}")]
        assert schedule.tick(now + timedelta(hours=1))  # the next hour gets its own job
        off = periodic_job(Runtime.build(runtime.settings.model_copy(update={"retention_days": 0})), PURGE)
        assert off.interval_s == 0  # no retention configured: the schedule never starts
    finally:
        rt.close()
