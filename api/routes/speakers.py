"""Speakers of a call (with user corrections) and its conversation metrics."""

from __future__ import annotations

from fastapi import APIRouter
from sqlmodel import Session

from api.auth import PrincipalDep, VisibleCall
from api.deps import RuntimeDep, SessionDep
from api.routes.calls import ERRORS
from api.routing import Route
from api.schemas.speakers import MetricsPublic, SpeakerPublic, SpeakersPatch, SpeakersPublic
from insight import pipeline
from insight.auth.policy import Principal
from insight.calls import view as call_view
from insight.errors import NotFound
from insight.repositories import speakers as speakers_repo
from insight.settings import Settings
from insight.transcribe.speakers import SpeakerChange, update_speakers
from models import Call

router = APIRouter(prefix="/api/calls", tags=["speakers"], route_class=Route)


def _speakers(session: Session, call: Call, principal: Principal, settings: Settings) -> SpeakersPublic:
    """The call's speakers; names masked for readers of the redacted text, as in the transcript and minutes."""
    shown = call_view.decide_view(principal, call)
    speakers = shown.speakers(session, settings)
    return SpeakersPublic(
        call_id=shown.call_id,
        speakers=[
            SpeakerPublic(
                label=s.label,
                name=speakers.names[label],
                role=s.role,
                role_source=s.role_source,
                channel=s.channel,
                talk_s=s.talk_s,
            )
            for label, s in speakers.rows.items()
        ],
    )


@router.get("/{call_id}/speakers", response_model=SpeakersPublic, responses=ERRORS)
def get_speakers(
    call_id: int, call: VisibleCall, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> SpeakersPublic:
    """The call's speakers with their roles (empty until the speaker stage has run); names are masked for readers
    of the redacted text.
    """
    return _speakers(session, call, principal, runtime.settings)


@router.patch("/{call_id}/speakers", response_model=SpeakersPublic, responses=ERRORS)
def patch_speakers(
    call_id: int,
    call: VisibleCall,
    body: SpeakersPatch,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> SpeakersPublic:
    """Rename speakers and fix their roles; the call's metrics are recomputed at once and its minutes in the
    background, and a confirmed rep's voice is enrolled into their voice profile when the call names its rep (role
    changes then need the right to enrol for that rep: the rep, their manager or an admin).
    """
    changes = [SpeakerChange(label=c.label, name=c.name, role=c.role) for c in body.speakers]
    wake = update_speakers(
        runtime.engine,
        call_id,
        changes,
        on_stale=pipeline.redo_hook(runtime.settings.job_max_attempts),
        actor=principal,
    )
    for queue in wake:
        runtime.queues.wake(queue)
    session.rollback()  # end the read snapshot taken before the update
    return _speakers(session, call, principal, runtime.settings)


@router.get("/{call_id}/metrics", response_model=MetricsPublic, responses=ERRORS)
def get_metrics(call_id: int, _call: VisibleCall, session: SessionDep) -> MetricsPublic:
    """Conversation metrics: talk ratio, monologues, questions, interactivity, interruptions, pace, silence."""
    row = speakers_repo.get_metrics(session, call_id)
    if row is None:
        raise NotFound(
            f"Call {call_id} has no metrics yet.",
            hint="They are computed after transcription and speaker separation; check GET /api/calls/{id}.",
            object_type="call",
            object_id=call_id,
        )
    return MetricsPublic(call_id=call_id, computed_at=row.computed_at, metrics=row.metrics, speakers=row.speakers)
