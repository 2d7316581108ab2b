"""Call endpoints: upload, status, transcript, list, retry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.auth import ActorDep, PrincipalDep, VisibleCall, audit_read
from api.deps import RuntimeDep, SessionDep
from api.routing import Route
from api.schemas.calls import (
    CallPublic,
    CallsPublic,
    CallUpdate,
    CallUploadPublic,
    ErrorBody,
    ErrorPublic,
    JobPublic,
    TranscriptPublic,
    UtterancePublic,
    WordPublic,
)
from insight import audit, pipeline
from insight.auth import policy
from insight.calls import retry as retry_service
from insight.calls import view as call_view
from insight.calls.service import CallChanges, UploadMeta, duplicate_notice, ingest, kept_on_duplicate
from insight.calls.service import update_call as update_call_details
from insight.errors import InvalidUpload, NotFound, UploadTooLarge
from insight.repositories import calls as calls_repo
from insight.repositories import jobs as jobs_repo
from insight.transcribe.formats import media_kind, with_extension
from models import Call, Job

router = APIRouter(prefix="/api/calls", tags=["calls"], route_class=Route)

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "Bad request (empty file, bad file name, bad field)"},
    401: {"model": ErrorBody, "description": "No valid token or session"},
    403: {
        "model": ErrorBody,
        "description": "Missing scope, originals of a call that is not yours, or a rep you may not name",
    },
    404: {"model": ErrorBody, "description": "No such call, or not one you may see"},
    409: {"model": ErrorBody, "description": "Not possible in the call's current state"},
    413: {"model": ErrorBody, "description": "File over the size cap"},
    415: {"model": ErrorBody, "description": "Not an audio/video file"},
    422: {"model": ErrorBody, "description": "Audio unusable (truncated, no audio track, too long)"},
    429: {"model": ErrorBody, "description": "Too many requests for this token or session"},
}


def _rep_channel(call: Call) -> str | None:
    return None if call.rep_channel is None else ("left", "right")[call.rep_channel]


def to_public(call: Call, jobs: list[Job]) -> CallPublic:
    """The API view of ``call`` and its jobs: progress in percent, the rep's channel as left/right, and links."""
    assert call.id is not None
    return CallPublic(
        id=call.id,
        status=call.status,
        stage=call.stage,
        progress=round(call.progress * 100.0, 1),
        error=ErrorPublic(code=call.error_code or "error", message=call.error) if call.error else None,
        filename=call.filename,
        sha256=call.audio_sha256,
        bytes=call.audio_bytes,
        media_format=call.media_format,
        codec=call.codec,
        duration_s=call.duration_s,
        sample_rate=call.sample_rate,
        channels=call.channels,
        dual_mono=call.dual_mono,
        language=call.language,
        language_hint=call.language_hint,
        rep_channel=_rep_channel(call),
        rep=call.rep_key,
        owner_id=call.owner_id,
        purged=call.purged_at is not None,
        speakers_hint=call.num_speakers,
        customer_external_id=call.customer_external_id,
        deal_external_id=call.deal_external_id,
        processing_s=call.processing_s,
        recorded_at=call.recorded_at,
        created_at=call.created_at,
        updated_at=call.updated_at,
        jobs=[JobPublic.model_validate(j, from_attributes=True) for j in jobs],
        urls={
            "self": f"/api/calls/{call.id}",
            "transcript": f"/api/calls/{call.id}/transcript",
            "page": f"/calls/{call.id}",
        },
    )


def _get_call(session: Session, call_id: int) -> Call:
    # Only an existence check: the router's guard (api/auth.py) has already refused calls the caller may not see.
    return call_view.get_call(session, call_id, hint="List your calls with `insight calls list` or GET /api/calls.")


@router.post("", status_code=201, response_model=CallUploadPublic, responses=ERRORS)
async def upload_call(
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="The recording (wav, mp3, m4a, flac, ogg, webm, mp4 …)")],
    customer_external_id: Annotated[str | None, Form(max_length=255)] = None,
    deal_external_id: Annotated[str | None, Form(max_length=255)] = None,
    language: Annotated[str | None, Form(max_length=8, description="ja, en … or empty to detect")] = None,
    rep_channel: Annotated[str | None, Form(max_length=8, description="Stereo: left or right = rep")] = None,
    rep: Annotated[
        str | None,
        Form(
            max_length=255,
            description="Who the rep is (e-mail or user id), for voice matching; default: you. Only yourself, a "
            "member of your team (managers) or anyone (admins)",
        ),
    ] = None,
    speakers: Annotated[int | None, Form(description="Number of speakers, if known (mono recordings)")] = None,
    recorded_at: Annotated[
        datetime | None,
        Form(
            description="When the call took place, ISO 8601 with offset; the minutes resolve relative dates "
            "against it (default: the upload time)"
        ),
    ] = None,
) -> CallUploadPublic:
    """Upload a recording; it is transcribed in the background. The same bytes twice from you return the same call.

    ``rep`` may name only yourself, a rep of your team (managers) or anyone (admins): their voice profile learns
    from the call.
    """
    declared = request.headers.get("content-length")
    cap = runtime.settings.max_upload_bytes
    if declared and declared.isdigit() and int(declared) > cap + 64 * 1024:
        raise UploadTooLarge(
            f"The request is larger than the upload limit of {cap // (1024 * 1024)} MiB.",
            hint="Split the recording or compress it (e.g. to mp3/opus), then upload again.",
        )
    if file.filename is None:
        raise InvalidUpload("The upload has no file name.", hint="Send the file as multipart field 'file'.")
    meta = UploadMeta(
        filename=file.filename,
        customer_external_id=customer_external_id,
        deal_external_id=deal_external_id,
        language=language,
        rep_channel=rep_channel,
        rep=rep or principal.email,
        speakers=speakers,
        owner_id=principal.user_id,
        recorded_at=recorded_at,
    )
    result = await run_in_threadpool(ingest, runtime, file.file, meta)
    assert result.call.id is not None
    # The reads run in the thread pool too: a blocking database call on the event loop would stall every other
    # request (and the connections they hold) whenever the pool runs short, e.g. right after a database restart.
    public = await run_in_threadpool(_upload_answer, runtime, result.call.id)
    if result.created:
        return CallUploadPublic(**public.model_dump(), duplicate=False)
    # The uploader's own earlier call of these bytes (calls are per owner: another user's upload of the same
    # recording is neither returned nor mentioned). It keeps its details; the answer says which and how to change them.
    response.status_code = 200
    kept = kept_on_duplicate(result.call, meta)
    return CallUploadPublic(
        **public.model_dump(), duplicate=True, not_applied=list(kept), notice=duplicate_notice(result.call, kept)
    )


def _upload_answer(runtime: RuntimeDep, call_id: int) -> CallPublic:
    with Session(runtime.engine) as session:
        return to_public(_get_call(session, call_id), jobs_repo.for_call(session, call_id))


@router.get("", response_model=CallsPublic)
def list_calls(
    session: SessionDep,
    principal: PrincipalDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    status: Annotated[str | None, Query(pattern="^(queued|processing|done|failed)$")] = None,
    customer: Annotated[str | None, Query(max_length=255, description="Customer external id")] = None,
    rep: Annotated[str | None, Query(max_length=255, description="The rep named at upload (e-mail or user id)")] = None,
    language: Annotated[str | None, Query(max_length=8, description="ja, en … (detected, else the hint)")] = None,
    since: Annotated[
        datetime | None,
        Query(
            description="Calls that took place (recorded_at, else uploaded) at or after this; date or ISO 8601, UTC "
            "when without offset"
        ),
    ] = None,
    until: Annotated[datetime | None, Query(description="… and before this")] = None,
) -> CallsPublic:
    """List the calls you may see (yours; a manager's team's; all for admins), newest first, with filters."""
    filters = calls_repo.CallFilters(
        customer_external_id=customer,
        rep=rep,
        language=language,
        since=_utc(since),
        until=_utc(until),
    )
    rows, count = calls_repo.list_page(
        session,
        offset=offset,
        limit=limit,
        status=status,
        visibility=policy.call_visibility(principal),
        filters=filters,
    )
    return CallsPublic(data=[to_public(c, []) for c in rows], count=count, offset=offset, limit=limit)


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


@router.get("/{call_id}", response_model=CallPublic, responses=ERRORS)
def get_call(call_id: int, call: VisibleCall, session: SessionDep) -> CallPublic:
    """A call's status, stage, progress and error, with its jobs."""
    return to_public(call, jobs_repo.for_call(session, call_id))


@router.patch("/{call_id}", response_model=CallPublic, responses=ERRORS)
def update_call(
    call_id: int, call: VisibleCall, body: CallUpdate, runtime: RuntimeDep, session: SessionDep
) -> CallPublic:
    """Change a call's customer, deal or recording time (a new recording time rewrites its minutes)."""
    if not body.model_fields_set - {name for name, value in body if value is None}:
        raise InvalidUpload(
            "Nothing to change.",
            hint="Send customer_external_id, deal_external_id (empty string: none) or recorded_at.",
            code="empty_update",
        )
    changes = CallChanges(
        customer_external_id=body.customer_external_id,
        deal_external_id=body.deal_external_id,
        recorded_at=body.recorded_at,
    )
    wake = update_call_details(
        runtime.engine, call_id, changes, on_stale=pipeline.redo_hook(runtime.settings.job_max_attempts)
    )
    for queue in wake:
        runtime.queues.wake(queue)
    session.rollback()  # end the read snapshot taken before the update, so the re-read sees it
    return to_public(_get_call(session, call_id), jobs_repo.for_call(session, call_id))


@router.get("/{call_id}/transcript", response_model=TranscriptPublic, responses=ERRORS)
def get_transcript(
    call_id: int,
    call: VisibleCall,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
    actor: ActorDep,
    view: Annotated[
        str,
        Query(
            pattern="^(auto|redacted|original)$",
            description="redacted: personal data replaced; original: unredacted (owner and admins, audited); "
            "auto: original for those allowed, else redacted",
        ),
    ] = "auto",
) -> TranscriptPublic:
    """The call's utterances with word timestamps (empty until transcription is done)."""
    shown = call_view.decide_view(principal, call, view)
    rows = shown.utterances(session)
    if shown.original and rows:
        audit_read(request, runtime, actor, audit.Action.original_read, call_id)
    speakers = shown.speakers(session, runtime.settings)
    return TranscriptPublic(
        call_id=call_id,
        status=call.status,
        language=call.language,
        duration_s=call.duration_s,
        view=shown.name,
        utterances=[
            UtterancePublic(
                id=u.id or 0,
                idx=u.idx,
                start=u.start,
                end=u.end,
                channel=u.channel,
                speaker=u.speaker,
                speaker_name=speakers.names.get(u.speaker),
                role=speakers.role_of(call, u),
                language=u.language,
                text=shown.text(u),
                words=[WordPublic(**w) for w in shown.words(u)],
            )
            for u in rows
        ],
    )


@router.post("/{call_id}/retry", status_code=202, response_model=CallPublic, responses=ERRORS)
def retry_call(call_id: int, call: VisibleCall, runtime: RuntimeDep, session: SessionDep) -> CallPublic:
    """Retry a failed call from the stage that failed."""
    retry_service.retry_call(runtime, call_id)
    session.rollback()  # end the read snapshot taken before the retry, so the re-read sees it
    return to_public(_get_call(session, call_id), jobs_repo.for_call(session, call_id))


# Stored audio is user content, with a policy of its own (api/security.py keeps a header a route set): whatever a
# browser makes of it runs no script (sandbox without allow-scripts, default-src 'none'). allow-same-origin lets
# Chromium's player load the audio it was opened on: under a bare sandbox the document's origin is opaque and the
# player's own request for the same URL fails as cross-origin.
AUDIO_HEADERS = {
    "Content-Security-Policy": (
        "sandbox allow-same-origin; default-src 'none'; media-src 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}


# Kept out of the OpenAPI document, as it has always been: the answer is the stored file, not JSON.
@router.get("/{call_id}/audio", include_in_schema=False)
def call_audio(
    call_id: int, call: VisibleCall, request: Request, runtime: RuntimeDep, principal: PrincipalDep, actor: ActorDep
) -> FileResponse:
    """The call's original audio (supports range requests for seeking); owner and admins only, audited."""
    call_view.require_original(principal, call)
    path = runtime.store.path_for(call.audio_sha256)
    if call.purged_at is not None or not path.is_file():
        raise NotFound(
            f"The audio of call {call_id} is no longer stored.",
            hint="Retention removed it.",
            object_type="call",
            object_id=call_id,
        )
    audit_read(request, runtime, actor, audit.Action.audio_read, call_id)
    # The type comes from the container probed at upload, never from the uploader's file name: a WAV named
    # x.html must not be rendered as a page. Only real audio types are shown inline (the player can seek); the
    # rest download. The sandbox keeps any document the browser might still make of it from running scripts.
    kind = media_kind(call.media_format, call.codec)
    return FileResponse(
        path,
        media_type=kind.media_type,
        filename=with_extension(call.filename or f"call-{call_id}", kind),
        content_disposition_type="inline" if kind.playable else "attachment",
        headers=AUDIO_HEADERS,
    )
