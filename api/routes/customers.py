"""Customer record endpoint."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from sqlmodel import Session

from api.auth import PrincipalDep
from api.deps import SessionDep
from api.routing import Route
from api.schemas.calls import ErrorBody
from api.schemas.customers import (
    CustomerCallPublic,
    CustomerInsightsPublic,
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
from insight.auth.policy import Principal
from insight.customers.profile import CustomerProfile, ProfileCall, customer_profile
from insight.customers.record import CustomerRecord, customer_record
from insight.errors import NotFound
from insight.repositories import customers as customers_repo

router = APIRouter(prefix="/api/customers", tags=["customers"], route_class=Route)


def to_public(record: CustomerRecord, profile: CustomerProfile | None = None) -> CustomerRecordPublic:
    """The API view of a customer record: profile, RFM of the newest run (None when not segmented), history,
    purchases, deals, the calls the reader may see and, given ``profile``, the insights from them.
    """
    by_call = {c.call_id: c for c in profile.calls} if profile is not None else {}
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
                insights=_call_insights(by_call.get(call.id or 0)),
                urls={"self": f"/api/calls/{call.id}", "page": f"/calls/{call.id}"},
            )
            for call in record.calls
        ],
        calls_total=record.calls_total,
        insights=None if profile is None else CustomerInsightsPublic.model_validate(asdict(profile)),
    )


def _call_insights(call: ProfileCall | None) -> dict[str, Any]:
    """A call's line of insight in the record: its deal's outcome, whether it has minutes, the customer's sentiment
    and how many needs, objections, next actions and competitors its minutes hold.
    """
    if call is None:
        return {}
    return {"outcome": call.outcome, "minutes": call.minutes, "sentiment": call.sentiment, **call.counts}


def _record(session: Session, customer_id: int, principal: Principal) -> CustomerRecordPublic:
    record = customer_record(session, customer_id, visibility=policy.call_visibility(principal))
    return to_public(record, customer_profile(session, customer_id, principal=principal))


@router.get("/{customer_id}", response_model=CustomerRecordPublic, responses={404: {"model": ErrorBody}})
def get_customer(customer_id: int, session: SessionDep, principal: PrincipalDep) -> CustomerRecordPublic:
    """A customer's record: profile, RFM scores, segment, decile, LTV, purchases, deals, the calls you may see and
    the insights from them (needs, objections, next actions, competitors, sentiment), each with its evidence.
    """
    return _record(session, customer_id, principal)


@router.get(
    "/by-external-id/{source}/{external_id}",
    response_model=CustomerRecordPublic,
    responses={404: {"model": ErrorBody}},
)
def get_customer_by_external_id(
    source: str, external_id: str, session: SessionDep, principal: PrincipalDep
) -> CustomerRecordPublic:
    """The record of the customer known as ``external_id`` in ``source`` (a CRM, or an import's customer source)."""
    customer = customers_repo.get_by_external_id(session, source=source, external_id=external_id)
    if customer is None or customer.id is None:
        raise NotFound(
            f"No customer is known as {external_id!r} in {source!r}.",
            hint="Check the source and id (GET /api/customers/{id} lists a customer's external ids).",
            object_type="customer",
            object_id=f"{source}:{external_id}",
        )
    return _record(session, customer.id, principal)
