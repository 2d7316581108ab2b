"""The customer record: profile, RFM snapshot and segment, decile, LTV, purchases, deals and calls in one read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from insight.errors import NotFound
from insight.repositories import customers as customers_repo
from insight.repositories import segments as segments_repo
from insight.repositories import transactions as transactions_repo
from insight.repositories.calls import CallVisibility
from insight.repositories.transactions import TransactionSummary
from models import (
    Call,
    Customer,
    CustomerExternalId,
    CustomerSegment,
    Deal,
    SegmentDefinition,
    SegmentRun,
    Transaction,
)


@dataclass(frozen=True)
class CustomerRecord:
    """One customer's record as :func:`customer_record` reads it.

    ``run`` is the newest completed segment run (None before the first); ``snapshot`` is None when that run left the
    customer out, ``segment`` also when no definition matched. ``calls_total`` counts every call the reader may see,
    ``calls`` lists the newest of them.
    """

    customer: Customer
    external_ids: list[CustomerExternalId]
    run: SegmentRun | None
    snapshot: CustomerSegment | None
    segment: SegmentDefinition | None
    history: list[tuple[CustomerSegment, SegmentRun]]
    summary: TransactionSummary
    recent: list[Transaction]
    deals: list[Deal]
    calls: list[Call]  # only the calls the reader may see
    calls_total: int


def customer_record(
    session: Session,
    customer_id: int,
    *,
    visibility: CallVisibility,
    recent_transactions: int = 10,
    calls: int = 50,
    history: int = 12,
) -> CustomerRecord:
    """Everything known about one customer. RFM values come from the newest completed segment run.

    The calls listed and counted are only those ``visibility`` allows (the reader's, by ``call_visibility``):
    a customer shared by two teams must not reveal one team's calls to the other.

    Raises:
        NotFound: no such customer.
    """
    customer = customers_repo.get(session, customer_id)
    if customer is None:
        raise NotFound(
            f"Customer {customer_id} does not exist.",
            hint="Find customers via GET /api/segments/{key}/customers.",
            object_type="customer",
            object_id=customer_id,
        )
    runs = segments_repo.latest_runs(session, limit=1)
    run = runs[0] if runs else None
    snapshot = None
    segment = None
    if run is not None and run.id is not None:
        snapshot = segments_repo.snapshot_for_customer(session, run_id=run.id, customer_id=customer_id)
        if snapshot is not None and snapshot.segment_key is not None:
            segment = segments_repo.get_definition(session, snapshot.segment_key)
    return CustomerRecord(
        customer=customer,
        external_ids=customers_repo.external_ids(session, customer_id),
        run=run,
        snapshot=snapshot,
        segment=segment,
        history=segments_repo.history_for_customer(session, customer_id, limit=history),
        summary=transactions_repo.summary_for_customer(session, customer_id),
        recent=transactions_repo.recent_for_customer(session, customer_id, limit=recent_transactions),
        deals=customers_repo.deals_for_customer(session, customer_id),
        calls=customers_repo.calls_for_customer(session, customer_id, limit=calls, visibility=visibility),
        calls_total=customers_repo.count_calls_for_customer(session, customer_id, visibility=visibility),
    )
