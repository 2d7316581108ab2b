"""Security headers on every answer (pages, API, errors, static files, docs), as one plain ASGI middleware.

Registered outside ``RequestContext`` in ``api/main.py`` so that it also covers the answers that middleware makes
itself (unexpected errors). A header a route already set is kept: stored audio carries a stricter policy of its own
(``api/routes/calls.py``).

The pages allow scripts and styles from this server only: no inline ``<script>``, event handler or ``style``
attribute runs, so markup that slipped into a page through user content is inert. The interactive API docs are the
one exception (see ``docs_policy``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["PAGE_POLICY", "SecurityHeaders", "docs_policy"]

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# Swagger UI and ReDoc (FastAPI's /docs and /redoc) load their bundles, styles and fonts from these hosts; they
# insert <style> elements at run time, and ReDoc searches in a blob: worker.
_DOCS_SCRIPT_HOSTS = "https://cdn.jsdelivr.net"
_DOCS_POLICY = (
    "default-src 'none'; script-src {scripts}; "
    "style-src 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "connect-src 'self'; worker-src blob:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_FIXED = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
_INLINE_SCRIPT = re.compile(rb"<script(\s[^>]*)?>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC_ATTRIBUTE = re.compile(rb"\ssrc\s*=", re.IGNORECASE)


def docs_policy(html: bytes) -> str:
    """The policy for a docs page: its CDN, plus the sha256 of each inline script in exactly this page.

    The docs pages are FastAPI's own (no user content), and their bootstrap script is inline with no nonce hook;
    hashing the scripts of the page being sent allows those and nothing else, where 'unsafe-inline' would allow
    any. Never use this for pages that render user content: an injected script would be hashed too.
    """
    hashes = [
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(2)).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(html)
        if not _SRC_ATTRIBUTE.search(m.group(1) or b"")
    ]
    return _DOCS_POLICY.format(scripts=" ".join([*hashes, _DOCS_SCRIPT_HOSTS]))


def _secured(headers: Iterable[tuple[bytes, bytes]], policy: str) -> list[tuple[bytes, bytes]]:
    """``headers`` plus each security header it does not already carry (a new list: responses may be reused)."""
    out = list(headers)
    present = {name.lower() for name, _ in out}
    for name, value in ((b"content-security-policy", policy.encode()), *_FIXED):
        if name not in present:
            out.append((name, value))
    return out


class SecurityHeaders:
    """Adds CSP, ``X-Frame-Options``, ``X-Content-Type-Options`` and ``Referrer-Policy`` to every HTTP answer.

    Args:
        app: the application to wrap.
        docs_paths: paths of the interactive API docs; their HTML is buffered (a few kB) to hash its inline scripts.
    """

    def __init__(self, app: ASGIApp, *, docs_paths: Iterable[str | None] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(p for p in docs_paths if p)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, adding the security headers to its answer (a docs page gets its own policy)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_paths:
            await self._docs(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _secured(message.get("headers", ()), PAGE_POLICY)}
            await send(message)

        await self.app(scope, receive, send_secured)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            await send({**start, "headers": _secured(start.get("headers", ()), docs_policy(body))})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_buffered)
