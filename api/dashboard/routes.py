"""Server-rendered pages for reps: the call list with an upload form, and one call's transcript."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from api.auth import ActorDep, PrincipalDep, VisibleCall, audit_read, cookie_name
from api.dashboard.i18n import STRINGS, pick_language
from api.dashboard.minutes import minutes_card
from api.deps import RuntimeDep, SessionDep
from api.routing import Route
from api.sessions import end_session, set_session_cookie, sign_in
from insight import audit
from insight.auth import policy
from insight.auth import service as auth_service
from insight.calls import view as call_view
from insight.errors import Forbidden, RateLimited, Unauthorized
from insight.repositories import calls as calls_repo
from insight.repositories import jobs as jobs_repo
from insight.repositories import speakers as speakers_repo
from insight.repositories import users as users_repo

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False, route_class=Route)  # signed-in pages (guarded in api/main.py)
public = APIRouter(include_in_schema=False, route_class=Route)  # sign-in page and static files


def clock(seconds: float) -> str:
    """Seconds as ``m:ss``, or ``h:mm:ss`` from an hour up (the templates' ``clock`` filter)."""
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


@router.get("/", response_class=HTMLResponse)
def index(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The call list page with the upload form: the calls the user may see, newest first, 50 a page."""
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
    """One call's page: jobs, transcript, speakers, metrics and minutes, original or redacted by who reads.

    A read of the original transcript is audited (once a minute per user and call).
    """
    shown = call_view.decide_view(principal, call)
    utterances = shown.utterances(session)
    if shown.original and utterances:
        audit_read(request, runtime, actor, audit.Action.original_read, call_id)
    # Speaker names as the redacted transcript and minutes show them (masked unless the reader sees originals).
    speakers = shown.speakers(session, runtime.settings)
    return templates.TemplateResponse(
        request,
        "call.html",
        {
            **_context(request, runtime, principal),
            "call": call,
            "original": shown.original,
            "jobs": jobs_repo.for_call(session, call_id),
            "utterances": utterances,
            "texts": {u.id: shown.text(u) for u in utterances},
            "speakers": speakers.rows,
            "names": speakers.names,
            "metrics": metrics.metrics if (metrics := speakers_repo.get_metrics(session, call_id)) else None,
            "minutes": minutes_card(session, shown, lang=pick_language(request)),
        },
    )


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
    """The sign-in page; with no users yet it says how to create the first admin."""
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
    """Sign in from the form: set the session cookie and redirect to ``next`` (a local path, else /).

    Wrong credentials or too many attempts redirect back to the sign-in page with an error code.

    Raises:
        Forbidden: The form was posted from another origin.
    """
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
    """Sign out from the form: end the session, clear its cookie and redirect to the sign-in page.

    Raises:
        Forbidden: The form's CSRF token does not match the session cookie.
    """
    cookie = request.cookies.get(cookie_name(runtime))
    secret = runtime.settings.secret_key.get_secret_value()
    if cookie and not auth_service.csrf_ok(secret, cookie, csrf_token):
        raise Forbidden("The sign-out form is stale.", hint="Reload the page and sign out again.", code="csrf_failed")
    response = RedirectResponse("/login", status_code=303)
    end_session(request, runtime, response)
    return response


@public.get("/static/app.css")
def css() -> FileResponse:
    """The pages' stylesheet."""
    return FileResponse(HERE / "static" / "app.css", media_type="text/css")


@public.get("/static/app.js")
def js() -> FileResponse:
    """The pages' script."""
    # The pages' only script: the Content-Security-Policy (api/security.py) allows no inline code.
    return FileResponse(HERE / "static" / "app.js", media_type="text/javascript")
