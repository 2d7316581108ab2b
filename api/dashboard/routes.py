"""Server-rendered pages for reps: the call list with an upload form, and one call's transcript."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from api.dashboard.i18n import STRINGS, pick_language
from api.deps import RuntimeDep, SessionDep
from insight.errors import NotFound
from insight.repositories import calls as calls_repo
from insight.repositories import jobs as jobs_repo
from insight.repositories import speakers as speakers_repo
from insight.repositories import transcripts as transcripts_repo

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:d}:{s % 60:02d}"


templates.env.filters["clock"] = clock


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep) -> HTMLResponse:
    lang = pick_language(request)
    calls, count = calls_repo.list_page(session, offset=0, limit=200)
    return templates.TemplateResponse(
        request, "index.html", {"t": STRINGS[lang], "lang": lang, "calls": calls, "count": count}
    )


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(call_id: int, request: Request, session: SessionDep) -> HTMLResponse:
    lang = pick_language(request)
    call = calls_repo.get(session, call_id)
    if call is None:
        raise NotFound(f"Call {call_id} does not exist.", hint="Go back to the list of calls.")
    return templates.TemplateResponse(
        request,
        "call.html",
        {
            "t": STRINGS[lang],
            "lang": lang,
            "call": call,
            "jobs": jobs_repo.for_call(session, call_id),
            "utterances": transcripts_repo.for_call(session, call_id),
            "speakers": {sp.label: sp for sp in speakers_repo.for_call(session, call_id)},
            "metrics": metrics.metrics if (metrics := speakers_repo.get_metrics(session, call_id)) else None,
        },
    )


@router.get("/api/calls/{call_id}/audio", include_in_schema=True, tags=["calls"])
def call_audio(call_id: int, runtime: RuntimeDep, session: SessionDep) -> FileResponse:
    """The call's original audio (supports range requests for seeking)."""
    call = calls_repo.get(session, call_id)
    if call is None:
        raise NotFound(f"Call {call_id} does not exist.")
    path = runtime.store.path_for(call.audio_sha256)
    if not path.is_file():
        raise NotFound(f"The audio of call {call_id} is no longer stored.")
    return FileResponse(path, filename=call.filename, content_disposition_type="inline")


@router.get("/static/app.css")
def css() -> FileResponse:
    return FileResponse(HERE / "static" / "app.css", media_type="text/css")
