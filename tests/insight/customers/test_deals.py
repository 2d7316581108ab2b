"""Deals: import from CSV (Japanese headers, CP932, twice), Parquet (an IsWon column), mapped columns, bad rows;
deals created by naming them on a call; edits audited. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlmodel import Session, select

from insight import audit
from insight.calls.service import CallChanges, update_call
from insight.crm_sync.tabular import ImportOptions
from insight.customers.deals import DealChanges, import_deals, list_deals, parse_outcome, update_deal
from insight.db import session_scope
from insight.errors import InvalidImport, InvalidRequest
from insight.repositories import customers as customers_repo
from insight.runtime import Runtime
from models import AuditEvent, Call, Customer, Deal, DealOutcome
from tests.fixtures.rows import processed_call

JA_CSV = (
    "商談ID,顧客ID,商談名,フェーズ,金額,通貨,受注/失注,完了日\n"
    'D-1,C-1,基幹システム刷新,契約,"1,200,000",JPY,受注,2026/11/20\n'
    "D-2,C-1,追加ライセンス,失注,300000,JPY,失注,2026年11月25日\n"
    "D-3,C-2,PoC,提案,500000,JPY,商談中,\n"
    "D-4,C-2,保守契約,交渉,80000,JPY,たぶん,\n"
)


def deals(runtime: Runtime) -> dict[str, Deal]:
    with Session(runtime.engine) as s:
        return {d.external_id: d for d in s.exec(select(Deal)).all()}


@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig"])
def test_japanese_file_twice_no_duplicates(runtime: Runtime, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "商談一覧.csv"
    path.write_bytes(JA_CSV.encode(encoding))
    first = import_deals(runtime.engine, path, ImportOptions())
    assert first.encoding == encoding
    assert first.columns == {
        "deal": "商談ID",
        "customer": "顧客ID",
        "name": "商談名",
        "stage": "フェーズ",
        "amount": "金額",
        "currency": "通貨",
        "outcome": "受注/失注",
        "closed_at": "完了日",
    }
    assert (first.rows_read, first.inserted, first.updated, first.unchanged, first.rejected) == (4, 3, 0, 0, 1)
    assert first.customers_created == 2
    (bad,) = first.errors
    assert (bad.row, bad.column, bad.value) == (4, "受注/失注", "たぶん")
    assert "not an outcome" in bad.reason
    stored = deals(runtime)
    assert {k: d.outcome for k, d in stored.items()} == {"D-1": "won", "D-2": "lost", "D-3": "open"}
    assert stored["D-1"].amount == 1_200_000.0
    assert stored["D-1"].closed_at == datetime(2026, 11, 20, tzinfo=UTC)
    assert stored["D-2"].closed_at == datetime(2026, 11, 25, tzinfo=UTC)
    assert stored["D-3"].closed_at is None
    assert stored["D-1"].customer_id == stored["D-2"].customer_id != stored["D-3"].customer_id

    second = import_deals(runtime.engine, path, ImportOptions())
    assert (second.inserted, second.updated, second.unchanged, second.rejected) == (0, 0, 3, 1)
    assert second.customers_created == 0
    assert len(deals(runtime)) == 3
    with Session(runtime.engine) as s:
        assert len(s.exec(select(Customer)).all()) == 2

    # A corrected file updates in place.
    path.write_bytes(JA_CSV.replace("提案,500000,JPY,商談中,", "契約,550000,JPY,受注,2026-11-30").encode(encoding))
    third = import_deals(runtime.engine, path, ImportOptions())
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 2)
    assert deals(runtime)["D-3"].outcome == "won"
    assert deals(runtime)["D-3"].amount == 550000.0


def test_parquet_is_won_column_and_stage(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "opportunities.parquet"
    table = pa.table(
        {
            "Id": ["006A", "006B", "006C", "006D"],
            "AccountId": ["001X", "001X", "001Y", None],
            "Name": ["Renewal", "Upsell", "New", "Pilot"],
            "StageName": ["Closed Won", "Closed Lost", "Negotiation", "Prospecting"],
            "Amount": [12000.0, None, 5000.0, 100.0],
            "IsWon": [True, False, False, False],
            "CloseDate": [datetime(2026, 10, 1), datetime(2026, 10, 2), None, None],
            "Ignored": ["x", "y", "z", "w"],
        }
    )
    pq.write_table(table, path)
    # Salesforce's Id column is not a name deals are recognised by: it is named.
    with pytest.raises(InvalidImport) as caught:
        import_deals(runtime.engine, path, ImportOptions(source="salesforce"))
    assert caught.value.code == "missing_columns"
    report = import_deals(
        runtime.engine, path, ImportOptions.build(mapping={"deal": "Id", "outcome": "IsWon"}, source="salesforce")
    )
    assert report.columns["customer"] == "AccountId"
    assert report.columns["stage"] == "StageName"
    assert (report.inserted, report.rejected) == (4, 0)
    assert report.outcomes == {"won": 1, "lost": 1, "open": 2}
    stored = deals(runtime)
    assert stored["006B"].outcome == "lost"  # IsWon false and closed
    assert stored["006C"].outcome == "open"  # IsWon false, not closed
    assert stored["006D"].customer_id is None
    assert all(d.source == "salesforce" for d in stored.values())


def test_outcome_words() -> None:
    for text, outcome in [
        ("won", "won"),
        ("Closed Won", "won"),
        ("CLOSED_LOST", "lost"),
        ("受注", "won"),
        ("失注", "lost"),
        ("商談中", "open"),
        ("ｏｐｅｎ", "open"),
        ("TRUE", "won"),
    ]:
        assert parse_outcome(text) == outcome, text
    assert parse_outcome("false") == DealOutcome.open
    assert parse_outcome("false", closed=True) == DealOutcome.lost
    with pytest.raises(ValueError, match="not an outcome"):
        parse_outcome("maybe")


def test_call_names_a_new_deal_then_an_import_takes_it_over(runtime: Runtime, tmp_path: Path) -> None:
    with session_scope(runtime.engine) as s:
        customer, _ = customers_repo.upsert(s, source="crm", external_id="C-77")
        call = processed_call(7, "visit.m4a")
        call.customer_external_id = "C-77"
        call.customer_id = customer.id
        s.add(call)
        s.flush()
        call_id = call.id
    assert call_id is not None
    # `insight calls set 7 --deal D-900` / PATCH /api/calls/{id}: the deal does not exist yet and is created.
    update_call(runtime.engine, call_id, CallChanges(deal_external_id="D-900"), on_stale=lambda *a: [])
    (deal,) = deals(runtime).values()
    assert (deal.source, deal.external_id, deal.outcome, deal.customer_id) == ("import", "D-900", "open", customer.id)
    with Session(runtime.engine) as s:
        assert s.get(Call, call_id).deal_id == deal.id  # type: ignore[union-attr]
    # Naming it again finds it: no second deal.
    update_call(runtime.engine, call_id, CallChanges(deal_external_id="D-900"), on_stale=lambda *a: [])
    assert len(deals(runtime)) == 1
    # The CRM's file brings the same deal under its own source: it takes the call's deal over.
    path = tmp_path / "deals.csv"
    path.write_text("deal_id,customer_id,stage,outcome,close_date\nD-900,C-77,Closed Won,won,2026-11-28\n")
    report = import_deals(runtime.engine, path, ImportOptions(source="crm"))
    assert (report.inserted, report.updated) == (0, 1)
    (taken,) = deals(runtime).values()
    assert (taken.id, taken.source, taken.outcome) == (deal.id, "crm", "won")
    assert "created_from" not in taken.properties


def test_edit_is_audited_and_checked(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("deal_id,name\nD-5,Pilot\n")
    import_deals(runtime.engine, path, ImportOptions())
    (deal,) = deals(runtime).values()
    assert deal.id is not None
    assert deal.outcome == "open"
    actor = audit.Actor(label="boss@example.com")
    when = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    updated = update_deal(runtime.engine, deal.id, DealChanges(outcome="won", closed_at=when), actor=actor)
    assert (updated.outcome, updated.closed_at) == ("won", when)
    with Session(runtime.engine) as s:
        (event,) = s.exec(select(AuditEvent).where(AuditEvent.action == "deal.update")).all()
    assert event.object_id == str(deal.id)
    assert event.details["before"]["outcome"] == "open"
    assert event.details["after"]["outcome"] == "won"
    with pytest.raises(InvalidRequest):
        update_deal(runtime.engine, deal.id, DealChanges(outcome="perhaps"), actor=actor)
    with pytest.raises(InvalidRequest):
        update_deal(runtime.engine, deal.id, DealChanges(currency="円"), actor=actor)
    with Session(runtime.engine) as s:  # closed: an open transaction would hold up the table clean-up
        rows, total = list_deals(s, outcome="won")
    assert total == 1
    assert rows[0].id == deal.id
