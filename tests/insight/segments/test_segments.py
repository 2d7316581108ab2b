"""RFM scores, named segments, deciles, LTV, snapshots and movement on hand-checked data (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import Session, select

from insight.crm_sync.importer import import_transactions
from insight.crm_sync.tabular import ImportOptions
from insight.db import session_scope
from insight.queue import submit_periodic
from insight.repositories import segments as segments_repo
from insight.runtime import Runtime
from insight.segments import service
from insight.segments import tasks as segments_tasks
from insight.worker import build_runner
from models import Customer, CustomerExternalId, CustomerSegment, Job, SegmentRun
from tests.fixtures.transactions import MAPPING, write_small

(COMPUTE,) = segments_tasks.SCHEDULES

AS_OF = date(2024, 1, 31)


def load(runtime: Runtime, tmp_path: Path) -> None:
    options = ImportOptions(mapping=MAPPING, source="shop", return_prefix="C", currency="EUR")
    report = import_transactions(runtime.engine, write_small(tmp_path / "small.csv"), options)
    assert report.committed


def snapshot(runtime: Runtime, run_id: int) -> dict[str, CustomerSegment]:
    with Session(runtime.engine) as s:
        rows = s.exec(
            select(CustomerSegment, CustomerExternalId.external_id)
            .join(CustomerExternalId, CustomerExternalId.customer_id == CustomerSegment.customer_id)
            .where(CustomerSegment.run_id == run_id)
        ).all()
    return {ext: seg for seg, ext in rows}


def test_rfm_scores_segments_deciles_and_ltv(runtime: Runtime, tmp_path: Path) -> None:
    load(runtime, tmp_path)
    run = service.compute_segments(runtime.engine, as_of=AS_OF)
    assert run.id is not None
    assert run.status == "done"
    assert run.as_of == datetime(2024, 2, 1, tzinfo=UTC)
    snap = snapshot(runtime, run.id)
    # F never bought anything (only a return): not segmented, and the run says so with F's net amount.
    assert sorted(snap) == ["A", "B", "C", "D", "E"]
    assert run.customers == 5
    assert (run.left_out_customers, run.left_out_revenue) == (1, -20.0)
    assert service.as_of_label(run) == "2024-01-31"  # the date given, not the instant after it
    expected = {
        # recency: days from the last purchase's day to 01-31 (A and D bought on 01-30: 1 day)
        #     recency, freq, monetary, R, F, M, decile, segment,          ltv,  orders, returns
        "A": (1, 3, 650.0, 4, 5, 4, 2, "champions", 650.0, 3, 0),
        "B": (11, 1, 0.0, 3, 1, 1, 5, "about_to_sleep", 0.0, 1, 1),
        "C": (214, 2, 2000.0, 2, 4, 5, 1, "cant_lose", 2000.0, 2, 0),
        "D": (1, 1, 10.0, 4, 1, 3, 3, "promising", 10.0, 1, 0),
        "E": (760, 1, 5.0, 1, 1, 2, 4, "lost", 5.0, 1, 0),
    }
    for key, values in expected.items():
        s = snap[key]
        got = (
            s.recency_days,
            s.frequency,
            s.monetary,
            s.r_score,
            s.f_score,
            s.m_score,
            s.decile,
            s.segment_key,
            s.ltv,
            s.orders,
            s.returns,
        )
        assert got == values, key
    assert snap["A"].last_purchase_at == datetime(2024, 1, 30, 10, 0, tzinfo=UTC)  # not the 02-05 purchase
    assert snap["A"].first_purchase_at == datetime(2023, 12, 1, tzinfo=UTC)

    with Session(runtime.engine) as s:
        table = service.segment_table(s)
        by_key = {x.key: x for x in table.segments}
        assert table.customers == 5
        assert table.revenue == 2665.0
        assert by_key["cant_lose"].customers == 1
        assert by_key["cant_lose"].revenue_share == round(2000 / 2665, 6)
        assert by_key["loyal"].customers == 0  # every defined segment is listed, empty ones too
        assert by_key["champions"].label_ja == "優良顧客"
        run_, deciles = service.decile_analysis(s)
        assert [(d.decile, d.customers, d.revenue) for d in deciles] == [
            (1, 1, 2000.0),
            (2, 1, 650.0),
            (3, 1, 10.0),
            (4, 1, 5.0),
            (5, 1, 0.0),
        ]
        assert deciles[1].cumulative_share == round(2650 / 2665, 6)
        assert deciles[-1].cumulative_share == 1.0


def test_recency_is_days_from_the_last_purchase_to_the_as_of_date(runtime: Runtime, tmp_path: Path) -> None:
    """A purchase on the as-of day has recency 0 (the usual definition), whatever the time of day; an instant as-of
    counts to its own day; customers with only cancellations are counted as left out."""
    load(runtime, tmp_path)
    run = service.compute_segments(runtime.engine, as_of=date(2024, 1, 30))
    assert run.id is not None
    snap = snapshot(runtime, run.id)
    assert (snap["A"].recency_days, snap["D"].recency_days) == (0, 0)  # 01-30 10:00 and 01-30 00:00
    assert snap["A"].last_purchase_at == datetime(2024, 1, 30, 10, tzinfo=UTC)  # that whole day counts
    assert snap["C"].recency_days == (date(2024, 1, 30) - date(2023, 7, 1)).days == 213
    assert service.as_of_label(run) == "2024-01-30"
    assert (run.left_out_customers, run.left_out_revenue) == (1, -20.0)  # F
    at_noon = service.compute_segments(runtime.engine, as_of=datetime(2024, 1, 31, 12, tzinfo=UTC))
    assert at_noon.id is not None
    assert snapshot(runtime, at_noon.id)["A"].recency_days == 1
    assert service.as_of_label(at_noon) == "2024-01-31 12:00 UTC"
    # As of 01-20, F's return (01-05) and B's purchase (01-20) count; B's cancellation (01-21) does not yet.
    early = service.compute_segments(runtime.engine, as_of=date(2024, 1, 20))
    assert early.id is not None
    assert snapshot(runtime, early.id)["B"].recency_days == 0
    assert (early.left_out_customers, early.left_out_revenue) == (1, -20.0)


def test_window_limits_frequency_and_monetary_not_recency_or_ltv(runtime: Runtime, tmp_path: Path) -> None:
    load(runtime, tmp_path)
    run = service.compute_segments(runtime.engine, as_of=AS_OF, window_days=62)  # from 2023-12-01 00:00
    assert run.id is not None
    snap = snapshot(runtime, run.id)
    assert (snap["A"].frequency, snap["A"].monetary, snap["A"].ltv) == (3, 650.0, 650.0)
    run = service.compute_segments(runtime.engine, as_of=AS_OF, window_days=61)  # O3 on 12-01 falls out
    assert run.id is not None
    snap = snapshot(runtime, run.id)
    assert (snap["A"].frequency, snap["A"].monetary, snap["A"].ltv) == (2, 350.0, 650.0)
    assert (snap["C"].frequency, snap["C"].monetary, snap["C"].recency_days) == (0, 0.0, 214)


def test_definitions_are_data_and_runs_are_snapshots(runtime: Runtime, tmp_path: Path) -> None:
    load(runtime, tmp_path)
    first = service.compute_segments(runtime.engine, as_of=AS_OF)
    with session_scope(runtime.engine) as s:
        original = segments_repo.get_definition(s, "champions")
        assert original is not None
        saved = original.m_min
        service.update_definition(s, "champions", m_min=5, label_ja="最優良顧客")
    try:
        second = service.compute_segments(runtime.engine, as_of=AS_OF)
        assert first.id is not None
        assert second.id is not None
        # A (R4 F5 M4) no longer fits champions (M >= 5 now): the next box, loyal, takes it.
        assert snapshot(runtime, second.id)["A"].segment_key == "loyal"
        assert snapshot(runtime, first.id)["A"].segment_key == "champions"  # the old snapshot is kept
        with Session(runtime.engine) as s:
            a, b, moves = service.segment_movement(s)
            assert (a, b) == (first.id, second.id)
            assert ("champions", "loyal", 1) in moves
            assert sum(n for x, y, n in moves if x == y) == 4
            labels = {d.key: d.label_ja for d in segments_repo.definitions(s)}
            assert labels["champions"] == "最優良顧客"
    finally:
        with session_scope(runtime.engine) as s:
            service.update_definition(s, "champions", m_min=saved, label_ja="優良顧客")


def test_default_definitions_cover_every_score_combination(runtime: Runtime) -> None:
    with Session(runtime.engine) as s:
        definitions = segments_repo.definitions(s)
    assert len(definitions) == 11
    for r in range(1, 6):
        for f in range(1, 6):
            for m in range(1, 6):
                hits = [
                    d.key
                    for d in definitions
                    if d.r_min <= r <= d.r_max and d.f_min <= f <= d.f_max and d.m_min <= m <= d.m_max
                ]
                assert hits, (r, f, m)
    assert {d.key for d in definitions} >= {"champions", "hibernating", "at_risk", "lost", "new", "cant_lose"}


def test_periodic_job_runs_once_per_period(runtime: Runtime, tmp_path: Path) -> None:
    load(runtime, tmp_path)
    now = datetime(2024, 2, 1, 12, tzinfo=UTC)
    with session_scope(runtime.engine) as s:
        assert submit_periodic(
            s,
            name=COMPUTE.name,
            queue=COMPUTE.queue,
            now=now,
            interval_s=86400,
            max_attempts=3,
        )
    with session_scope(runtime.engine) as s:  # another worker, same day: no second job
        assert not submit_periodic(
            s,
            name=COMPUTE.name,
            queue=COMPUTE.queue,
            now=now.replace(hour=23),
            interval_s=86400,
            max_attempts=3,
        )
    runner = build_runner(runtime)
    assert runner.run_next("analyze")
    assert not runner.run_next("analyze")
    with Session(runtime.engine) as s:
        jobs = s.exec(select(Job).where(Job.name == COMPUTE.name)).all()
        assert [(j.state, j.queue) for j in jobs] == [("done", "analyze")]
        runs = s.exec(select(SegmentRun)).all()
        assert [(r.status, r.trigger, r.customers) for r in runs] == [("done", "periodic", 5)]
        assert len(s.exec(select(Customer)).all()) == 6  # F exists as a customer, it just has no snapshot row
