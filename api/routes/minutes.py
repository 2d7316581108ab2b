"""Minutes of a call: JSON, or Markdown in the call's language."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.auth import ActorDep, PrincipalDep, VisibleCall, audit_read
from api.deps import RuntimeDep, SessionDep
from api.routes.calls import ERRORS
from api.routing import Route
from api.schemas.minutes import MinutesPublic
from insight import audit
from insight.calls import view as call_view
from insight.errors import NotFound
from insight.nlp.minutes.render import render_markdown
from insight.nlp.minutes.schemas import MinutesDoc

router = APIRouter(prefix="/api/calls", tags=["minutes"], route_class=Route)

MARKDOWN = "text/markdown"


def wants_markdown(request: Request, fmt: str | None) -> bool:
    """``?format=markdown``, or an Accept header that prefers Markdown over JSON."""
    if fmt is not None:
        return fmt == "markdown"
    accept = request.headers.get("accept", "")
    return MARKDOWN in accept and "application/json" not in accept.split(MARKDOWN)[0]


@router.get(
    "/{call_id}/minutes",
    response_model=MinutesPublic,
    responses={**ERRORS, 200: {"content": {MARKDOWN: {"schema": {"type": "string"}}}}},
)
def get_minutes(
    call_id: int,
    call: VisibleCall,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
    actor: ActorDep,
    view: Annotated[
        Literal["redacted", "original"],
        Query(
            description="redacted (default): personal data replaced; original: unredacted (owner and admins, audited)"
        ),
    ] = "redacted",
    fmt: Annotated[
        Literal["json", "markdown"] | None,
        Query(alias="format", description="json (default) or markdown; Accept: text/markdown works too"),
    ] = None,
) -> Response | MinutesPublic:
    """The call's minutes: summary, needs, objections, questions, decisions, next actions, budget, timeline,
    decision makers, competitors, products and sentiment, each item citing its utterances.
    """
    shown = call_view.decide_view(principal, call, view)  # the one gate for unredacted text
    minutes = shown.minutes(session)
    if minutes is None:
        raise NotFound(
            f"Call {call_id} has no minutes yet.",
            hint=f"The call is {call.status}; minutes are written after transcription and speaker separation.",
            object_type="call",
            object_id=call_id,
        )
    row, content = minutes.row, minutes.content
    if content is None:  # never serve the original in place of a missing redacted copy
        raise NotFound(
            f"Call {call_id} has no redacted minutes.",
            hint="Ask an admin to re-run the call's analysis.",
            object_type="call",
            object_id=call_id,
        )
    if shown.original:
        audit_read(request, runtime, actor, audit.Action.original_read, call_id)
    doc = MinutesDoc.model_validate(content)
    if wants_markdown(request, fmt):
        text = render_markdown(doc, title=call.filename, link=lambda uid: f"/calls/{call_id}#u{uid}")
        return Response(text, media_type=f"{MARKDOWN}; charset=utf-8")
    return MinutesPublic(
        call_id=call_id,
        status=call.status,
        view=shown.name,
        backend=row.backend,
        model=row.model,
        generated_at=row.generated_at,
        minutes=doc,
    )
