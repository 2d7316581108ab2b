"""Request ids, access log lines and HTTP metrics, as a plain ASGI middleware (no body buffering)."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from insight import telemetry
from insight.logs import request_id

log = logging.getLogger("insight.access")
errors_log = logging.getLogger("insight.errors")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def internal_error_body(rid: str) -> bytes:
    """The body of an unexpected-error answer: the project's error shape with the id to quote."""
    return json.dumps(
        error_body("internal_error", "Something went wrong on the server.", f"Report request id {rid}.")
    ).encode()


class RequestContext:
    """Gives each request an id (the caller's ``X-Request-ID`` when it is sane), echoes it, logs and counts.

    An exception no handler took is answered here, as a 500 in the error shape that carries the request id. Left to
    Starlette's outermost handler it would be answered after this context had ended (no id to report), and then
    re-raised to the server, which closes the connection under the client.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request under its id (echoed as ``X-Request-ID``), then log it and count it in the metrics."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        rid = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        # Also on the request's state: handlers outside this middleware run after the context variable is reset.
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                if response_started:
                    raise  # part of an answer is out: the connection cannot carry a clean error any more
                errors_log.error("unhandled error", exc_info=exc)
                body = internal_error_body(rid)
                await send_with_id(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
        finally:
            elapsed = time.perf_counter() - started
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            telemetry.HTTP_REQUESTS.labels(method=method, route=template, status=str(status)).inc()
            telemetry.HTTP_LATENCY.labels(method=method, route=template).observe(elapsed)
            log.info(
                "%s %s %s %.1f ms",
                method,
                scope["path"],
                status,
                elapsed * 1000,
                extra={"method": method, "path": scope["path"], "status": status, "ms": round(elapsed * 1000, 1)},
            )
            request_id.reset(token)
