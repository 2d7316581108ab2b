"""Map core errors to HTTP responses with one error body shape: {"error": {code, message, hint}}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from insight import errors

log = logging.getLogger(__name__)

STATUS: dict[type[errors.InsightError], int] = {
    errors.InvalidUpload: 400,
    errors.UploadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.InvalidAudio: 422,
    errors.InvalidImport: 422,
    errors.InvalidSegmentDefinition: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.ModelNotAvailable: 503,
}


def status_for(exc: errors.InsightError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(code: str, message: str, hint: str = "") -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message, "hint": hint}}


def register(app: FastAPI) -> None:
    @app.exception_handler(errors.InsightError)
    async def _insight(_request: Request, exc: errors.InsightError) -> JSONResponse:
        status = status_for(exc)
        if status >= 500:
            log.error("request failed: %s", exc.message)
        return JSONResponse(error_body(exc.code, exc.message, exc.hint), status_code=status)

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
        return JSONResponse(
            error_body(code, str(exc.detail), "Check the URL and method against /docs."),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
