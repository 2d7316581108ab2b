"""Server-rendered pages for reps: the call list with an upload form, and one call's transcript."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from api.auth import (
    ActorDep,
    PrincipalDep,
    VisibleCall,
    actor_of,
    audit_read,
    client_ip,
    cookie_name,
    require_original,
)
from api.dashboard.i18n import STRINGS, pick_language
from api.dashboard.minutes import minutes_card
from api.deps import RuntimeDep, SessionDep
from api.routing import Route
from insight import audit
from insight.auth import lockout, policy
from insight.auth import service as auth_service
from insight.auth.ratelimit import RateLimiter
from insight.db import session_scope
from insight.errors import Forbidden, NotFound, RateLimited, Unauthorized
from insight.nlp.minutes.redaction import redactor_from_settings, shown_speaker_name
from insight.repositories import calls as calls_repo
from insight.repositories import jobs as jobs_repo
from insight.repositories import speakers as speakers_repo
from insight.repositories import transcripts as transcripts_repo
from insight.repositories import users as users_repo
from insight.transcribe.formats import media_kind, with_extension

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False, route_class=Route)  # signed-in pages (guarded in api/main.py)
public = APIRouter(include_in_schema=False, route_class=Route)  # sign-in page and static files


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:d}:{s % 60:02d}"


templates.env.filters["clock"] = clock


def _context(request: Request, runtime: RuntimeDep, principal: policy.Principal | None) -> dict[str, object]:
    """What every page needs: strings, language, the signed-in user and the session's CSRF token."""
    lang = pick_language(request)
    cookie = request.cookies.get(cookie_name(runtime))
    csrf = auth_service.csrf_token(runtime.settings.secret_key.get_secret_value(), cookie) if cookie else ""
    return {"t": STRINGS[lang], "lang": lang, "me": principal, "csrf": csrf}


PAGE_SIZE = 50
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


@router.get("/", response_class=HTMLResponse)
def index(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    calls, count = calls_repo.list_page(
        session, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, visibility=policy.call_visibility(principal)
    )
    pages = max(1, -(-count // PAGE_SIZE))
    return templates.TemplateResponse(
        request,
        "index.html",
        {**_context(request, runtime, principal), "calls": calls, "count": count, "page": page, "pages": pages},
    )


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(
    call_id: int,
    call: VisibleCall,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
    actor: ActorDep,
) -> HTMLResponse:
    original = policy.can_read_original(principal, call)
    utterances = transcripts_repo.for_call(session, call_id)
    if original and utterances:
        audit_read(request, runtime, actor, audit.Action.original_read, call_id)
    speakers = {sp.label: sp for sp in speakers_repo.for_call(session, call_id)}
    # Speaker names as the redacted transcript and minutes show them (masked unless the reader sees originals).
    redactor = redactor_from_settings(runtime.settings, call.language or call.language_hint)
    names = {label: shown_speaker_name(sp.name, original=original, redactor=redactor) for label, sp in speakers.items()}
    return templates.TemplateResponse(
        request,
        "call.html",
        {
            **_context(request, runtime, principal),
            "call": call,
            "original": original,
            "jobs": jobs_repo.for_call(session, call_id),
            "utterances": utterances,
            "texts": {u.id: policy.shown_text(u.text, u.text_redacted, original=original) for u in utterances},
            "speakers": speakers,
            "names": names,
            "metrics": metrics.metrics if (metrics := speakers_repo.get_metrics(session, call_id)) else None,
            "minutes": minutes_card(session, call_id, original=original, lang=pick_language(request)),
        },
    )


@router.get("/api/calls/{call_id}/audio", include_in_schema=True, tags=["calls"])
def call_audio(
    call_id: int, call: VisibleCall, request: Request, runtime: RuntimeDep, principal: PrincipalDep, actor: ActorDep
) -> FileResponse:
    """The call's original audio (supports range requests for seeking); owner and admins only, audited."""
    require_original(principal, call)
    path = runtime.store.path_for(call.audio_sha256)
    if call.purged_at is not None or not path.is_file():
        raise NotFound(f"The audio of call {call_id} is no longer stored.", hint="Retention removed it.")
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


def _login_limiter(request: Request, runtime: RuntimeDep) -> RateLimiter:
    state = request.app.state
    if getattr(state, "login_limiter", None) is None:
        state.login_limiter = RateLimiter(runtime.settings.login_attempts_per_minute)
    rl: RateLimiter = state.login_limiter
    return rl


def _safe_next(value: str | None) -> str:
    # Only local paths: an open redirect after sign-in would help phishing.
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def lockout_policy(runtime: RuntimeDep) -> lockout.LockoutPolicy:
    settings = runtime.settings
    return lockout.LockoutPolicy(
        free=settings.login_lockout_after, base_s=settings.login_lockout_base_s, max_s=settings.login_lockout_max_s
    )


def sign_in(request: Request, runtime: RuntimeDep, email: str, password: str) -> tuple[str, policy.Principal]:
    """Check the credentials and open a session; audited either way.

    Two limits: attempts per client address (whatever the e-mail), and a backoff per (address, e-mail) after failed
    attempts (``insight.auth.lockout``), which slows whoever guesses without locking the owner out from elsewhere.
    Returns the cookie value and the principal. Raises Unauthorized or RateLimited.
    """
    address = client_ip(request)
    wait = _login_limiter(request, runtime).hit(f"ip:{address}")
    if wait > 0:
        raise RateLimited(
            "Too many sign-in attempts from your address.",
            hint=f"Wait {wait:.0f} s and try again.",
            retry_after_s=wait,
        )
    anonymous = audit.Actor(label=email.strip().lower()[:255], ip=address)
    user = None
    with session_scope(runtime.engine) as session:
        locked = lockout.seconds_locked(session, address, email)
        if locked > 0:
            # The password is not even checked: a wait that answered "right password" would not slow guessing.
            audit.record(session, anonymous, audit.Action.login_failed, object_type="user", outcome="locked")
        else:
            user = auth_service.authenticate(session, email, password)
            if user is None:
                lockout.record_failure(session, lockout_policy(runtime), address, email)
                audit.record(session, anonymous, audit.Action.login_failed, object_type="user", outcome="denied")
            else:
                lockout.record_success(session, address, email)
    if locked > 0:
        raise RateLimited(
            "Too many failed sign-ins for this e-mail from your address.",
            hint=f"Wait {locked:.0f} s and try again, or ask an admin to unlock the account.",
            retry_after_s=locked,
        )
    if user is None:
        raise Unauthorized("Wrong e-mail or password.", hint="Check both and try again.", code="login_failed")
    ttl = timedelta(hours=runtime.settings.session_ttl_h)
    with session_scope(runtime.engine) as session:
        value, web = auth_service.start_session(session, user, ttl=ttl)
        principal = auth_service.principal_for(user, policy.effective_scopes(user.role, None), session_id=web.id)
        audit.record(session, actor_of(request, principal), audit.Action.login, object_type="user", object_id=user.id)
    return value, principal


def set_session_cookie(response: Response, runtime: RuntimeDep, value: str) -> None:
    response.set_cookie(
        cookie_name(runtime),
        value,
        max_age=int(runtime.settings.session_ttl_h * 3600),
        path="/",
        secure=runtime.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def end_session(request: Request, runtime: RuntimeDep, response: Response) -> None:
    cookie = request.cookies.get(cookie_name(runtime))
    if cookie:
        principal = None
        try:
            with Session(runtime.engine) as session:
                principal = auth_service.principal_from_session(session, cookie)
        except Unauthorized:
            pass
        with session_scope(runtime.engine) as session:
            auth_service.end_session(session, cookie)
            if principal is not None:
                audit.record(
                    session,
                    actor_of(request, principal),
                    audit.Action.logout,
                    object_type="user",
                    object_id=principal.user_id,
                )
    response.delete_cookie(cookie_name(runtime), path="/", secure=runtime.settings.secure_cookies, httponly=True)


# Sign-in errors travel in the redirect as codes, each shown as a fixed message of the page's language: the page
# never shows text taken from its URL (a crafted link could otherwise make it say anything, on our own origin).
LOGIN_ERRORS = {"login_failed": "login_failed", "rate_limited": "login_rate_limited"}


def login_error_text(code: str, strings: dict[str, str]) -> str:
    """The message for a sign-in error code ("" for none; a general one for a code we did not send)."""
    if not code:
        return ""
    return strings[LOGIN_ERRORS.get(code, "login_error")]


@public.get("/login", response_class=HTMLResponse)
def login_page(request: Request, runtime: RuntimeDep, next: str = "/", error: str = "") -> HTMLResponse:
    with Session(runtime.engine) as session:
        no_users = users_repo.count(session) == 0
    context = _context(request, runtime, None)
    error_text = login_error_text(error, STRINGS[pick_language(request)])
    return templates.TemplateResponse(
        request,
        "login.html",
        {**context, "next": _safe_next(next), "error": error_text, "no_users": no_users},
    )


@public.post("/login")
def login_form(
    request: Request,
    runtime: RuntimeDep,
    email: Annotated[str, Form(max_length=255)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if not _same_origin(request):
        raise Forbidden("Sign-in from another site is refused.", hint="Open /login on this server.", code="csrf_failed")
    lang = pick_language(request)
    try:
        value, _ = sign_in(request, runtime, email, password)
    except (Unauthorized, RateLimited) as exc:
        return RedirectResponse(
            f"/login?lang={lang}&next={quote(_safe_next(next))}&error={quote(exc.code)}", status_code=303
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, runtime, value)
    return response


@public.post("/logout")
def logout_form(
    request: Request, runtime: RuntimeDep, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    cookie = request.cookies.get(cookie_name(runtime))
    secret = runtime.settings.secret_key.get_secret_value()
    if cookie and not auth_service.csrf_ok(secret, cookie, csrf_token):
        raise Forbidden("The sign-out form is stale.", hint="Reload the page and sign out again.", code="csrf_failed")
    response = RedirectResponse("/login", status_code=303)
    end_session(request, runtime, response)
    return response


@public.get("/static/app.css")
def css() -> FileResponse:
    return FileResponse(HERE / "static" / "app.css", media_type="text/css")


@public.get("/static/app.js")
def js() -> FileResponse:
    # The pages' only script: the Content-Security-Policy (api/security.py) allows no inline code.
    return FileResponse(HERE / "static" / "app.js", media_type="text/javascript")
