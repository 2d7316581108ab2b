"""Segment endpoints: the segment table, deciles, movement, a segment's customers, definitions, recomputation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from api.auth import require_scope
from api.deps import RuntimeDep, SessionDep
from api.routing import Route
from api.schemas.calls import ErrorBody
from api.schemas.customers import (
    ComputeRequest,
    DecilePublic,
    DecilesPublic,
    DefinitionPublic,
    DefinitionUpdate,
    MovementPublic,
    MovementsPublic,
    RunPublic,
    SegmentCustomerPublic,
    SegmentCustomersPublic,
    SegmentPublic,
    SegmentsPublic,
)
from insight.auth.policy import Scope
from insight.db import session_scope
from insight.errors import NotFound
from insight.repositories import segments as segments_repo
from insight.segments import service
from models import SegmentRun

router = APIRouter(prefix="/api/segments", tags=["segments"], route_class=Route)

ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "No such segment or run, or no segments computed yet"},
    422: {"model": ErrorBody, "description": "Invalid parameters"},
}
RunQuery = Annotated[int | None, Query(description="A segment run id; default the newest completed run")]


def run_public(run: SegmentRun) -> RunPublic:
    """The API view of a segment run, with its reference date (the UTC day of its last counted instant)."""
    return RunPublic.model_validate(run.model_dump() | {"as_of_date": service.reference_day(run.as_of)})


@router.get("", response_model=SegmentsPublic, responses=ERRORS)
def list_segments(session: SessionDep, run_id: RunQuery = None) -> SegmentsPublic:
    """Every segment with its customers, net revenue and shares."""
    table = service.segment_table(session, run_id)
    return SegmentsPublic(
        run=run_public(table.run),
        customers=table.customers,
        revenue=table.revenue,
        data=[SegmentPublic.model_validate(s, from_attributes=True) for s in table.segments],
    )


@router.get("/deciles", response_model=DecilesPublic, responses=ERRORS)
def deciles(session: SessionDep, run_id: RunQuery = None) -> DecilesPublic:
    """Decile analysis: each tenth of customers by monetary value and its share of revenue."""
    run, rows = service.decile_analysis(session, run_id)
    return DecilesPublic(run=run_public(run), data=[DecilePublic.model_validate(r, from_attributes=True) for r in rows])


@router.get("/movement", response_model=MovementsPublic, responses=ERRORS)
def movement(
    session: SessionDep,
    from_run: Annotated[int | None, Query()] = None,
    to_run: Annotated[int | None, Query()] = None,
) -> MovementsPublic:
    """Customers moving between segments from one run to another (default: the two newest runs)."""
    a, b, rows = service.segment_movement(session, from_run=from_run, to_run=to_run)
    return MovementsPublic(
        from_run=a, to_run=b, data=[MovementPublic(from_segment=x, to_segment=y, customers=n) for x, y, n in rows]
    )


@router.get("/runs", response_model=list[RunPublic])
def runs(session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[RunPublic]:
    """Segment runs, newest first."""
    return [run_public(r) for r in segments_repo.list_runs(session, limit=limit)]


@router.post("/compute", status_code=201, response_model=RunPublic, responses=ERRORS)
async def compute(runtime: RuntimeDep, body: ComputeRequest | None = None) -> RunPublic:
    """Recompute segments now (in the database) and return the finished run."""
    body = body or ComputeRequest()
    run = await run_in_threadpool(
        service.compute_segments, runtime.engine, as_of=body.as_of, window_days=body.window_days, trigger="api"
    )
    return run_public(run)


@router.get("/definitions", response_model=list[DefinitionPublic])
def definitions(session: SessionDep) -> list[DefinitionPublic]:
    """Segment definitions in priority order: the first whose score ranges hold a customer names its segment."""
    return [DefinitionPublic.model_validate(d, from_attributes=True) for d in segments_repo.definitions(session)]


@router.put(
    "/definitions/{key}",
    response_model=DefinitionPublic,
    responses=ERRORS,
    dependencies=[Depends(require_scope(Scope.admin))],  # definitions are configuration: admins only
)
def update_definition(key: str, body: DefinitionUpdate, runtime: RuntimeDep) -> DefinitionPublic:
    """Change a segment's labels, priority or score ranges; the next run uses them."""
    with session_scope(runtime.engine) as session:
        definition = service.update_definition(session, key, **body.model_dump(exclude_none=True))
        return DefinitionPublic.model_validate(definition, from_attributes=True)


@router.get("/{key}/customers", response_model=SegmentCustomersPublic, responses=ERRORS)
def segment_customers(
    key: str,
    session: SessionDep,
    run_id: RunQuery = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SegmentCustomersPublic:
    """A page of a segment's customers, highest monetary value first."""
    run = service.latest_run(session, run_id)
    assert run.id is not None
    if segments_repo.get_definition(session, key) is None:
        raise NotFound(f"Segment {key!r} is not defined.", hint="List segments with GET /api/segments.")
    rows, count = segments_repo.customers_in_segment(session, run_id=run.id, key=key, offset=offset, limit=limit)
    return SegmentCustomersPublic(
        run=run_public(run),
        segment=key,
        data=[
            SegmentCustomerPublic(
                id=c.id or 0,
                name=c.name,
                company=c.company,
                recency_days=s.recency_days,
                frequency=s.frequency,
                monetary=round(s.monetary, 2),
                r_score=s.r_score,
                f_score=s.f_score,
                m_score=s.m_score,
                decile=s.decile,
                ltv=round(s.ltv, 2),
                last_purchase_at=s.last_purchase_at,
                urls={"customer": f"/api/customers/{c.id}"},
            )
            for s, c in rows
        ],
        count=count,
        offset=offset,
        limit=limit,
    )
