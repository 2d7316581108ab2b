"""Map core errors to HTTP responses with one error body shape: {"error": {code, message, hint}}."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from insight import errors
from insight.logs import request_id

log = logging.getLogger(__name__)

STATUS: dict[type[errors.InsightError], int] = {
    errors.InvalidUpload: 400,
    errors.UploadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.InvalidAudio: 422,
    errors.InvalidImport: 422,
    errors.InvalidSegmentDefinition: 422,
    errors.InvalidTracker: 422,
    errors.InsufficientData: 409,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.ModelNotAvailable: 503,
    errors.InvalidRequest: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}


# PostgreSQL's SQLSTATE for "numeric value out of range" (e.g. an OFFSET beyond bigint).
NUMERIC_OUT_OF_RANGE = "22003"


def _out_of_range() -> JSONResponse:
    return JSONResponse(
        error_body(
            "invalid_request",
            "A number in the request is out of range.",
            f"Use whole numbers between {-(2**63)} and {2**63 - 1}.",
        ),
        status_code=422,
    )


def status_for(exc: errors.InsightError) -> int:
    """The HTTP status of a core error: that of its nearest class in ``STATUS``, else 500."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(code: str, message: str, hint: str = "") -> dict[str, dict[str, str]]:
    """The project's error body: ``{"error": {"code": ..., "message": ..., "hint": ...}}``."""
    return {"error": {"code": code, "message": message, "hint": hint}}


def wants_html(request: Request) -> bool:
    """Whether a browser page asked (not under /api/, accepts HTML): its 401 redirects to the sign-in page."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def register(app: FastAPI) -> None:
    """Install the handlers that answer core errors, database outages, out-of-range numbers, validation and HTTP
    errors in the error body shape (a browser page's 401 redirects to /login instead).
    """

    @app.exception_handler(errors.InsightError)
    async def _insight(request: Request, exc: errors.InsightError) -> Response:
        status = status_for(exc)
        if status >= 500:
            log.error("request failed: %s", exc.message)
        if status == 401 and wants_html(request):
            # A browser on a page: send it to sign in, and back here afterwards.
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        headers: dict[str, str] = {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, errors.RateLimited):
            headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
        return JSONResponse(error_body(exc.code, exc.message, exc.hint), status_code=status, headers=headers)

    @app.exception_handler(OperationalError)
    async def _database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        # The database went away (restart, failover, a killed connection): nothing was committed; retrying is safe.
        log.warning("database unavailable: %s", str(exc).splitlines()[0])
        return JSONResponse(
            error_body("database_unavailable", "The database is briefly unavailable.", "Retry the request."),
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_request: Request, exc: PoolTimeout) -> JSONResponse:
        log.warning("no database connection free: %s", str(exc).splitlines()[0])
        return JSONResponse(
            error_body("busy", "The server is busy.", "Retry the request in a moment."),
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(OverflowError)
    async def _number_too_large(_request: Request, exc: OverflowError) -> JSONResponse:
        # A number in a JSON body that no database integer holds (SQLite refuses to bind it). Parameters in the
        # path and query are checked before this (api/routing.py); this covers every body without a bound.
        log.info("number out of range: %s", exc)
        return _out_of_range()

    @app.exception_handler(DataError)
    async def _data_error(_request: Request, exc: DataError) -> JSONResponse:
        if getattr(exc.orig, "sqlstate", None) != NUMERIC_OUT_OF_RANGE:
            raise exc  # another kind of bad data is a server bug: answered as one (api/middleware.py)
        log.info("number out of range: %s", str(exc).splitlines()[0])
        return _out_of_range()

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Reached only by errors raised outside the request context (api/middleware.py answers the rest), after
        # its context variable was reset: the id is on the request's state.
        log.error("unhandled error", exc_info=exc)
        rid = request_id.get() or getattr(request.state, "request_id", None) or ""
        return JSONResponse(
            error_body("internal_error", "Something went wrong on the server.", f"Report request id {rid}."),
            status_code=500,
            headers={"X-Request-ID": rid} if rid else None,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg', '')}" for e in exc.errors()
        )
        return JSONResponse(
            error_body("invalid_request", f"The request is invalid: {problems}", "Fix the fields named and retry."),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        hint = "Check the URL and method against /docs."
        if exc.status_code == 400 and "multipart" in str(exc.detail).lower():
            code = "invalid_multipart"
            hint = "Send multipart/form-data with the recording in field 'file' and a file name under 255 bytes."
        return JSONResponse(
            error_body(code, str(exc.detail), hint),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
