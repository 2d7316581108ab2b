"""Insight endpoints across deals: the win patterns of a segmentation (managers and admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep
from api.routing import Route
from api.schemas.calls import ErrorBody
from api.schemas.insights import PatternRunPublic, WinPatternPublic, WinPatternsPublic
from insight.patterns import service

router = APIRouter(prefix="/api/insights", tags=["insights"], route_class=Route)

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "Unknown segmentation"},
    404: {"model": ErrorBody, "description": "No win patterns computed for the segmentation, or no such run"},
}


@router.get("/win-patterns", response_model=WinPatternsPublic, responses=ERRORS)
def win_patterns(
    session: SessionDep,
    segmentation: Annotated[
        str, Query(max_length=140, description="rfm, decile, all, customer.<attribute> or deal.<attribute>")
    ] = "rfm",
    segment: Annotated[str | None, Query(max_length=128, description="One segment; 'all' = every deal")] = None,
    run_id: Annotated[int | None, Query(description="A pattern run id; default the newest of the segmentation")] = None,
    significant_only: Annotated[bool, Query(description="Only the significant patterns")] = False,
    tested_only: Annotated[bool, Query(description="Only patterns with enough support to be tested")] = True,
) -> WinPatternsPublic:
    """The win patterns of the newest run of a segmentation (or of one run), strongest shrunk effect first."""
    run, rows = service.pattern_table(
        session, segmentation=segmentation, segment=segment, run_id=run_id, significant_only=significant_only
    )
    return WinPatternsPublic(
        run=PatternRunPublic.model_validate(run, from_attributes=True),
        data=[WinPatternPublic.model_validate(r, from_attributes=True) for r in rows if r.tested or not tested_only],
    )
