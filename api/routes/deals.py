"""Deal endpoints: list, read, create and change deals, and import a deal file."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import ActorDep, PrincipalDep
from api.deps import RuntimeDep, SessionDep
from api.errors import error_body
from api.routes.imports import _mapping as parse_mapping
from api.routing import Route
from api.schemas.calls import ErrorBody
from api.schemas.deals import DealCreate, DealDetailPublic, DealImportReportPublic, DealsPublic, DealUpdate
from insight import audit, telemetry
from insight.auth import policy
from insight.auth.policy import Principal
from insight.calls.service import check_filename
from insight.crm_sync.tabular import ImportOptions
from insight.customers import deals as deals_service
from insight.customers.deals import DealAccess, DealChanges, DealImportReport
from insight.errors import InvalidImport
from insight.repositories import customers as customers_repo
from models import Deal

router = APIRouter(prefix="/api/deals", tags=["deals"], route_class=Route)
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
}


def access_of(principal: Principal) -> DealAccess:
    """The deals ``principal`` reaches (``insight.auth.policy`` decides)."""
    return DealAccess(everything=policy.sees_every_deal(principal), calls=policy.call_visibility(principal))


def deal_public(session: Any, deal: Deal, principal: Principal) -> DealDetailPublic:
    """The API view of a deal, with the ids of its calls that ``principal`` may see."""
    assert deal.id is not None
    calls = customers_repo.calls_of_deals(session, [deal.id], visibility=policy.call_visibility(principal))
    return DealDetailPublic.model_validate(
        {
            **deal.model_dump(),
            "call_ids": calls.get(deal.id, []),
            "urls": {"self": f"/api/deals/{deal.id}"}
            | ({"customer": f"/api/customers/{deal.customer_id}"} if deal.customer_id is not None else {}),
        }
    )


def _changes(body: DealUpdate) -> DealChanges:
    return DealChanges(
        name=body.name,
        stage=body.stage,
        outcome=body.outcome,
        amount=body.amount,
        currency=body.currency,
        closed_at=body.closed_at,
        owner=body.owner,
        customer_external_id=body.customer_external_id,
    )


@router.get("", response_model=DealsPublic, responses=ERRORS)
def list_deals(
    session: SessionDep,
    principal: PrincipalDep,
    customer_id: Annotated[int | None, Query(description="Only this customer's deals")] = None,
    customer: Annotated[
        str | None, Query(max_length=255, description="Only the deals of the customer with this external id")
    ] = None,
    outcome: Annotated[str | None, Query(max_length=32, description="won, lost or open")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DealsPublic:
    """The deals you may see (managers and admins: all; reps: those of their calls and their calls' customers)."""
    if customer is not None:
        customer_id = customers_repo.resolve_external_id(session, customer)
        if customer_id is None:
            return DealsPublic(data=[], count=0, offset=offset, limit=limit)
    rows, total = deals_service.list_deals(
        session, access=access_of(principal), customer_id=customer_id, outcome=outcome, offset=offset, limit=limit
    )
    return DealsPublic(data=[deal_public(session, d, principal) for d in rows], count=total, offset=offset, limit=limit)


@router.get("/{deal_id}", response_model=DealDetailPublic, responses=ERRORS)
def get_deal(deal_id: int, session: SessionDep, principal: PrincipalDep) -> DealDetailPublic:
    """One deal, if you may see it."""
    return deal_public(session, deals_service.get_deal(session, deal_id, access=access_of(principal)), principal)


@router.patch("/{deal_id}", response_model=DealDetailPublic, responses=ERRORS)
def update_deal(
    deal_id: int, body: DealUpdate, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep, actor: ActorDep
) -> DealDetailPublic:
    """Change a deal (managers and admins): outcome, stage, amount, currency, close date, owner, name, customer.
    Audited with the values before and after.
    """
    deal = deals_service.update_deal(runtime.engine, deal_id, _changes(body), actor=actor, access=access_of(principal))
    return deal_public(session, deal, principal)


@router.post("", status_code=201, response_model=DealDetailPublic, responses=ERRORS)
def create_deal(
    body: DealCreate, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep, actor: ActorDep
) -> DealDetailPublic:
    """Create a deal (managers and admins); open unless an outcome is given. Audited."""
    deal = deals_service.create_deal(
        runtime.engine, external_id=body.external_id, source=body.source, changes=_changes(body), actor=actor
    )
    return deal_public(session, deal, principal)


def _report_public(report: Any) -> dict[str, Any]:
    assert isinstance(report, DealImportReport)
    return DealImportReportPublic.model_validate(report.to_dict()).model_dump(mode="json")


@router.post(
    "/import",
    status_code=201,
    response_model=DealImportReportPublic,
    responses={422: {"model": ErrorBody, "description": "Unreadable file or missing columns; the body has the report"}},
)
async def import_deals_file(
    runtime: RuntimeDep,
    actor: ActorDep,
    file: Annotated[UploadFile, File(description="CSV, CSV.gz or Parquet")],
    mapping: Annotated[
        str | None, Form(description='{"deal": "商談ID", "outcome": "IsWon"} or deal=商談ID,outcome=IsWon')
    ] = None,
    source: Annotated[str | None, Form(max_length=64, description="The deals' source system (default: import)")] = None,
    customer_source: Annotated[
        str | None, Form(max_length=64, description="Namespace of the customer ids (default: source)")
    ] = None,
    file_format: Annotated[str | None, Form(alias="format", pattern="^(csv|parquet)$")] = None,
    delimiter: Annotated[str | None, Form(max_length=1, description="default: detected")] = None,
    encoding: Annotated[
        str | None, Form(max_length=32, description="e.g. cp932; default: detected (UTF-8, UTF-16, CP932)")
    ] = None,
    timezone: Annotated[str | None, Form(max_length=64, description="Zone of close dates without one")] = None,
    currency: Annotated[str | None, Form(max_length=3, description="Currency of rows without one")] = None,
) -> Any:
    """Import deals: new deals are inserted, changed ones updated, the same file again changes nothing; bad rows
    are reported with their reasons and the others imported.
    """
    name = check_filename(file.filename or "")
    try:
        options = ImportOptions.build(
            mapping=parse_mapping(mapping),
            source=source,
            customer_source=customer_source,
            file_format=file_format,
            delimiter=delimiter,
            encoding=encoding,
            timezone=timezone,
            currency=currency,
        )
        runtime.settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=runtime.settings.tmp_dir) as tmp:
            path = Path(tmp) / name  # the format is told by the extension
            with path.open("wb") as out:
                await run_in_threadpool(shutil.copyfileobj, file.file, out, 1024 * 1024)
            report = await run_in_threadpool(deals_service.import_deals, runtime.engine, path, options, actor=actor)
    except InvalidImport as exc:
        telemetry.record_sync_error("deal_import", exc.code)
        audit.record_now(
            runtime.engine, actor, audit.Action.deal_import, object_type="import", object_id=name, outcome="rejected"
        )
        body: dict[str, Any] = error_body(exc.code, exc.message, exc.hint)
        if exc.report is not None:
            body["report"] = _report_public(exc.report)
        return JSONResponse(body, status_code=422)
    return _report_public(report)
