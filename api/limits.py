"""Request body size caps per route, enforced before the body is read, as a plain ASGI middleware.

A body is refused with 413 as soon as its ``Content-Length`` says it is over its route's cap, without reading a
byte of it; a body without a length (chunked) is counted as it streams in and refused the moment it passes the cap.
Either way nothing past the cap is ever taken in, whoever sends it: the cap applies before authentication, and the
routes that take large bodies (uploads, imports) authenticate before they read theirs (``api.auth``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from insight.settings import Settings

# Room for a multipart upload's boundaries and small fields around the file itself.
MULTIPART_SLACK = 64 * 1024


@dataclass(frozen=True)
class BodyCap:
    """A route's cap: the most bytes its body may have, and what to tell a client that sends more."""

    max_bytes: int
    message: str
    hint: str
    code: str = "body_too_large"


def caps(settings: Settings) -> tuple[BodyCap, dict[tuple[str, str], BodyCap]]:
    """The default cap (JSON bodies, the sign-in form) and the caps of the routes that take files."""
    upload = settings.max_upload_bytes + MULTIPART_SLACK
    # In MiB, as every other message about the upload cap.
    too_big = f"The upload is larger than the limit of {round(settings.max_upload_bytes / (1024 * 1024), 2):g} MiB."
    routes = {
        ("POST", "/api/calls"): BodyCap(
            upload,
            too_big,
            "Split the recording or compress it (e.g. to mp3/opus), then upload again.",
            code="upload_too_large",
        ),
        ("POST", "/api/imports/transactions"): BodyCap(
            upload, too_big, "Split the file, or send it compressed (CSV.gz) or as Parquet.", code="upload_too_large"
        ),
    }
    default = BodyCap(
        settings.max_body_bytes,
        f"The request body is larger than this route's limit of {_size(settings.max_body_bytes)}.",
        "Send a smaller request; files go to POST /api/calls (recordings) or POST /api/imports/transactions.",
    )
    return default, routes


class _TooLarge(Exception):
    """The streamed body passed its cap (raised from ``receive`` to stop whoever is reading it)."""


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} bytes"


def _declared_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            # A malformed length is the HTTP server's to refuse (it cannot frame the body); treat it as unknown here.
            return int(text) if text.isdigit() else None
    return None


class BodyLimits:
    """Answers 413 for request bodies over their route's cap (``routes`` by method and path, else ``default``)."""

    def __init__(self, app: ASGIApp, *, default: BodyCap, routes: Mapping[tuple[str, str], BodyCap]) -> None:
        self.app = app
        self.default = default
        self.routes = dict(routes)

    def cap_for(self, method: str, path: str) -> BodyCap:
        """The cap of the route at ``method`` and ``path`` (a trailing slash ignored), else the default."""
        return self.routes.get((method, path.rstrip("/") or "/"), self.default)

    async def _refuse(self, send: Send, cap: BodyCap) -> None:
        body = json.dumps(error_body(cap.code, cap.message, cap.hint)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    # The rest of the body is never read: the connection cannot carry another request.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, answering 413 instead once its declared or streamed body is over the cap."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope["method"], scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > cap.max_bytes:
            await self._refuse(send, cap)
            return

        received = 0
        exceeded = False
        started = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap.max_bytes:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started, refused
            if exceeded and not started:
                # Whatever the app made of the interrupted read (FastAPI answers 400 "error parsing the body") is
                # replaced by the 413 that says what happened.
                if not refused:
                    refused = True
                    await self._refuse(send, cap)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            if not started and not refused:
                refused = True
                await self._refuse(send, cap)
