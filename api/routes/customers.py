"""Customer record endpoint."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import PrincipalDep
from api.deps import SessionDep
from api.routing import Route
from api.schemas.calls import ErrorBody
from api.schemas.customers import (
    CustomerCallPublic,
    CustomerPublic,
    CustomerRecordPublic,
    DealPublic,
    ExternalIdPublic,
    RFMPublic,
    SegmentHistoryPublic,
    SegmentLabelPublic,
    TransactionPublic,
    TransactionsSummaryPublic,
)
from insight.auth import policy
from insight.customers.record import CustomerRecord, customer_record

router = APIRouter(prefix="/api/customers", tags=["customers"], route_class=Route)


def to_public(record: CustomerRecord) -> CustomerRecordPublic:
    c = record.customer
    assert c.id is not None
    rfm = None
    snap, run = record.snapshot, record.run
    if snap is not None and run is not None:
        assert run.id is not None
        rfm = RFMPublic(
            run_id=run.id,
            as_of=run.as_of,
            recency_days=snap.recency_days,
            frequency=snap.frequency,
            monetary=round(snap.monetary, 2),
            r_score=snap.r_score,
            f_score=snap.f_score,
            m_score=snap.m_score,
            rfm_cell=f"{snap.r_score}{snap.f_score}{snap.m_score}",
            segment=None
            if record.segment is None
            else SegmentLabelPublic(
                key=record.segment.key, label_en=record.segment.label_en, label_ja=record.segment.label_ja
            ),
            decile=snap.decile,
            ltv=round(snap.ltv, 2),
        )
    s = record.summary
    return CustomerRecordPublic(
        profile=CustomerPublic(
            id=c.id,
            name=c.name,
            company=c.company,
            email=c.email,
            phone=c.phone,
            country=c.country,
            properties=c.properties,
            external_ids=[ExternalIdPublic(source=x.source, external_id=x.external_id) for x in record.external_ids],
            created_at=c.created_at,
            updated_at=c.updated_at,
        ),
        rfm=rfm,
        segment_history=[
            SegmentHistoryPublic(
                run_id=r.id or 0,
                as_of=r.as_of,
                segment_key=h.segment_key,
                decile=h.decile,
                r_score=h.r_score,
                f_score=h.f_score,
                m_score=h.m_score,
            )
            for h, r in record.history
        ],
        transactions=TransactionsSummaryPublic(
            transactions=s.transactions,
            sales=s.sales,
            returns=s.returns,
            orders=s.orders,
            gross_sales=s.gross_sales,
            returns_amount=s.returns_amount,
            net_revenue=s.net_revenue,
            first_purchase_at=s.first_purchase_at,
            last_purchase_at=s.last_purchase_at,
            currencies=s.currencies,
            recent=[TransactionPublic.model_validate(t, from_attributes=True) for t in record.recent],
        ),
        deals=[DealPublic.model_validate(d, from_attributes=True) for d in record.deals],
        calls=[
            CustomerCallPublic(
                id=call.id or 0,
                status=call.status,
                filename=call.filename,
                created_at=call.created_at,
                recorded_at=call.recorded_at,
                duration_s=call.duration_s,
                language=call.language,
                deal_id=call.deal_id,
                urls={"self": f"/api/calls/{call.id}", "page": f"/calls/{call.id}"},
            )
            for call in record.calls
        ],
        calls_total=record.calls_total,
    )


@router.get("/{customer_id}", response_model=CustomerRecordPublic, responses={404: {"model": ErrorBody}})
def get_customer(customer_id: int, session: SessionDep, principal: PrincipalDep) -> CustomerRecordPublic:
    """A customer's record: profile, RFM scores, segment, decile, LTV, purchases, deals and the calls you may see."""
    return to_public(customer_record(session, customer_id, visibility=policy.call_visibility(principal)))
