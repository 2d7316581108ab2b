"""Trackers: their definitions (everyone who reads calls reads them; managers and admins change them) and a call's
tracker counts and hits.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette import status

from api.auth import ActorDep, VisibleCall
from api.deps import RuntimeDep, SessionDep
from api.routes.calls import ERRORS as CALL_ERRORS
from api.routing import Route
from api.schemas.calls import ErrorBody
from api.schemas.trackers import (
    CallTrackerPublic,
    CallTrackersPublic,
    TrackerCreate,
    TrackerHitPublic,
    TrackerPatch,
    TrackerPublic,
    TrackersPublic,
)
from insight import audit
from insight.db import session_scope
from insight.trackers import service
from insight.trackers.types import TrackerInput
from models import Tracker

router = APIRouter(prefix="/api/trackers", tags=["trackers"], route_class=Route)
call_router = APIRouter(prefix="/api/calls", tags=["trackers"], route_class=Route)

ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "No such tracker"},
    409: {"model": ErrorBody, "description": "Another tracker has that name"},
    422: {"model": ErrorBody, "description": "Invalid tracker"},
}


def tracker_public(tracker: Tracker) -> TrackerPublic:
    """The API view of a tracker."""
    return TrackerPublic.model_validate(tracker, from_attributes=True)


@router.get("", response_model=TrackersPublic)
def list_trackers(session: SessionDep) -> TrackersPublic:
    """Every tracker, enabled or not."""
    return TrackersPublic(data=[tracker_public(t) for t in service.list_trackers(session)])


@router.post("", response_model=TrackerPublic, status_code=status.HTTP_201_CREATED, responses=ERRORS)
def create_tracker(body: TrackerCreate, runtime: RuntimeDep, actor: ActorDep) -> TrackerPublic:
    """Add a tracker; every analysed call's hits are recomputed in the background."""
    data = TrackerInput(
        name=body.name,
        phrases=tuple(body.phrases),
        side=body.side,
        semantic=body.semantic,
        threshold=body.threshold,
        enabled=body.enabled,
    )
    with session_scope(runtime.engine) as session:
        tracker = service.create_tracker(session, data)
        audit.record(session, actor, "tracker.create", object_type="tracker", object_id=tracker.id)
        return tracker_public(tracker)


@router.get("/{tracker_id}", response_model=TrackerPublic, responses=ERRORS)
def get_tracker(tracker_id: int, session: SessionDep) -> TrackerPublic:
    """One tracker."""
    return tracker_public(service.get_tracker(session, tracker_id))


@router.patch("/{tracker_id}", response_model=TrackerPublic, responses=ERRORS)
def patch_tracker(tracker_id: int, body: TrackerPatch, runtime: RuntimeDep, actor: ActorDep) -> TrackerPublic:
    """Change a tracker's name, phrases, side, matching or state; hits are recomputed in the background."""
    given = body.model_fields_set
    data = TrackerInput(
        name=body.name,
        phrases=tuple(body.phrases) if body.phrases is not None else None,
        side=body.side,
        semantic=body.semantic,
        threshold=body.threshold,
        enabled=body.enabled,
        clear_threshold="threshold" in given and body.threshold is None,
    )
    with session_scope(runtime.engine) as session:
        tracker = service.update_tracker(session, tracker_id, data)
        audit.record(
            session,
            actor,
            "tracker.update",
            object_type="tracker",
            object_id=tracker_id,
            details={"fields": sorted(given)},
        )
        return tracker_public(tracker)


@router.delete("/{tracker_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def delete_tracker(tracker_id: int, runtime: RuntimeDep, actor: ActorDep) -> Response:
    """Delete a tracker and its hits."""
    with session_scope(runtime.engine) as session:
        service.delete_tracker(session, tracker_id)
        audit.record(session, actor, "tracker.delete", object_type="tracker", object_id=tracker_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@call_router.get("/{call_id}/trackers", response_model=CallTrackersPublic, responses=CALL_ERRORS)
def call_trackers(call_id: int, call: VisibleCall, session: SessionDep) -> CallTrackersPublic:
    """How often each tracker was heard in the call, and in which utterances."""
    trackers, hits, computed = service.call_hits(session, call_id)
    by_tracker: dict[int, list[TrackerHitPublic]] = {}
    for hit in hits:
        by_tracker.setdefault(hit.tracker_id, []).append(
            TrackerHitPublic(
                utterance_id=hit.utterance_id,
                phrase=hit.phrase,
                kind="semantic" if hit.kind == "semantic" else "exact",
                score=hit.score,
                side=hit.side,
            )
        )
    rows = []
    for tracker in trackers:
        assert tracker.id is not None
        found = by_tracker.get(tracker.id, [])
        rows.append(CallTrackerPublic(tracker_id=tracker.id, name=tracker.name, count=len(found), hits=found))
    return CallTrackersPublic(call_id=call_id, computed=computed, trackers=rows)
