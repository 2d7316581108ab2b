"""Customer record endpoint."""

from __future__ import annotations

from dataclasses import asdict

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
    """The API view of a customer record: profile, RFM of the newest run (None when not segmented), history,
    purchases, deals and the calls the reader may see.
    """
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
            else SegmentLabelPublic.model_validate(record.segment, from_attributes=True),
            decile=snap.decile,
            ltv=round(snap.ltv, 2),
        )
    return CustomerRecordPublic(
        profile=CustomerPublic(
            id=c.id,
            name=c.name,
            company=c.company,
            email=c.email,
            phone=c.phone,
            country=c.country,
            properties=c.properties,
            external_ids=[ExternalIdPublic.model_validate(x, from_attributes=True) for x in record.external_ids],
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
        transactions=TransactionsSummaryPublic.model_validate(
            asdict(record.summary)
            | {"recent": [TransactionPublic.model_validate(t, from_attributes=True) for t in record.recent]}
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
