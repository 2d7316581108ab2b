"""Authentication and authorization for every router: one dependency per area, applied in ``api/main.py``.

A request is authenticated by ``Authorization: Bearer <API token>`` or by the web session cookie (then unsafe
methods need the ``X-CSRF-Token`` header). The area dependency checks the scopes (``insight.auth.policy``) and,
for any route with a ``{call_id}`` path parameter, whether the principal may see that call: a call they may not
see is answered 404, exactly like a call that does not exist, so ids reveal nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

import fastapi.routing
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.deps import RuntimeDep, get_runtime
from insight import audit
from insight.auth import policy
from insight.auth import service as auth_service
from insight.auth.cache import PrincipalCache
from insight.auth.policy import Area, Principal
from insight.auth.ratelimit import RateLimiter
from insight.calls import view as call_view
from insight.db import session_scope
from insight.errors import Forbidden, RateLimited, Unauthorized
from insight.logs import request_id
from insight.repositories import auth_state as auth_state_repo
from insight.repositories import users as users_repo
from insight.runtime import Runtime
from models import Call
from models.base import utcnow

CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def cookie_name(runtime: Runtime) -> str:
    """The session cookie's name: ``__Host-insight_session`` when cookies are secure, else ``insight_session``."""
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only and Path=/.
    return "__Host-insight_session" if runtime.settings.secure_cookies else "insight_session"


def limiter(request: Request, runtime: Runtime) -> RateLimiter:
    """The app's per-principal request rate limiter, created on first use (INSIGHT_RATE_LIMIT_PER_MINUTE)."""
    state = request.app.state
    if getattr(state, "rate_limiter", None) is None:
        state.rate_limiter = RateLimiter(runtime.settings.rate_limit_per_minute)
    rl: RateLimiter = state.rate_limiter
    return rl


def principal_cache(request: Request) -> PrincipalCache:
    """The app's cache of resolved principals (by token or session hash), created on first use."""
    state = request.app.state
    if getattr(state, "principal_cache", None) is None:
        state.principal_cache = PrincipalCache()
    pc: PrincipalCache = state.principal_cache
    return pc


def client_ip(request: Request) -> str | None:
    """The client's address: the peer, or what a trusted proxy reported for it (see ``api.proxies``)."""
    return request.client.host if request.client else None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized(
            "The Authorization header must be 'Bearer <token>'.", hint="Create a token with `insight tokens create`."
        )
    return value.strip()


def _lookup(
    runtime: Runtime, cache: PrincipalCache, key: str, load: Callable[[Session], tuple[Principal, bool]]
) -> Principal:
    """The principal for ``key``: cached, if cached under the database's current auth generation, else loaded.

    The generation is read first, in the session that loads the principal: what is cached is never older than the
    generation it is filed under, and a change committed by any process is seen by the next request.
    """
    touch = False
    with Session(runtime.engine) as session:
        generation = auth_state_repo.generation(session)
        principal = cache.get(key, generation)
        if principal is None:
            principal, touch = load(session)
            cache.put(key, principal, principal.expires_at, generation)
    if touch and principal.token_id is not None:
        with session_scope(runtime.engine) as session:
            users_repo.touch_token(session, principal.token_id, utcnow())
    return principal


def resolve_principal(request: Request, runtime: Runtime) -> Principal | None:
    """The principal of this request (kept on the request), or None when it carries no credentials.

    Blocking (one database read even when cached): call it from a worker thread.
    """
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    principal: Principal | None = None
    cache = principal_cache(request)
    token = _bearer(request)
    if token is not None:
        principal = _lookup(
            runtime,
            cache,
            "t:" + auth_service.sha256_hex(token),
            lambda session: auth_service.principal_from_token(session, token),
        )
    else:
        cookie = request.cookies.get(cookie_name(runtime))
        if cookie:
            principal = _lookup(
                runtime,
                cache,
                "s:" + auth_service.sha256_hex(cookie),
                lambda session: (auth_service.principal_from_session(session, cookie), False),
            )
            if request.method not in SAFE_METHODS and not auth_service.csrf_ok(
                runtime.settings.secret_key.get_secret_value(), cookie, request.headers.get(CSRF_HEADER)
            ):
                raise Forbidden(
                    "The request lacks a valid CSRF token.",
                    hint="Reload the page and try again (the X-CSRF-Token header must match your session).",
                    code="csrf_failed",
                )
    if principal is not None:
        wait = limiter(request, runtime).hit(principal.rate_key)
        if wait > 0:
            raise RateLimited(
                f"Too many requests for this {'token' if principal.token_id else 'session'}.",
                hint=f"Slow down; retry in {wait:.1f} s.",
                retry_after_s=wait,
            )
    request.state.principal = principal
    return principal


async def get_principal(request: Request, runtime: RuntimeDep) -> Principal:
    """The signed-in principal of the request (dependency), resolved once per request.

    Raises:
        Unauthorized: No credentials, or an unknown, expired or revoked token or session, or a deactivated user.
        Forbidden: A session request with an unsafe method lacks a valid CSRF token.
        RateLimited: The principal's token or session went over its requests per minute.
    """
    if hasattr(request.state, "principal"):
        principal: Principal | None = request.state.principal
    else:
        principal = await run_in_threadpool(resolve_principal, request, runtime)
    if principal is None:
        raise Unauthorized(
            "Sign in or send an API token.",
            hint="Send 'Authorization: Bearer <token>' (create one with `insight tokens create`) or sign in at /login.",
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _path_call_id(request: Request) -> int | None:
    raw = request.path_params.get("call_id")
    if raw is None:
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None  # the route's own validation answers 422


def check_call(request: Request, session: Session, principal: Principal, call_id: int) -> Call:
    """The call, if ``principal`` may see it; NotFound otherwise (whether or not it exists)."""
    cached: Call | None = getattr(request.state, "call", None)
    if cached is not None and cached.id == call_id:
        return cached
    call = call_view.get_visible_call(session, principal, call_id)
    request.state.call = call
    return call


def _check_call_in_own_session(request: Request, runtime: Runtime, principal: Principal, call_id: int) -> Call:
    # Its own session, closed before the thread hop ends: a pooled connection is never held while the request
    # waits for its next thread. (Holding one across hops deadlocks under load: every request thread waiting for
    # a connection that requests queued for a thread hold.) The call comes back detached, its columns loaded.
    with Session(runtime.engine, expire_on_commit=False) as session:
        return check_call(request, session, principal, call_id)


def authorize(area: Area) -> Callable[..., Awaitable[Principal]]:
    """The router-level dependency for ``area``: scopes for the method, and the call of a ``{call_id}`` route."""

    async def dependency(request: Request, principal: PrincipalDep, runtime: RuntimeDep) -> Principal:
        required = area.required(request.method)
        if not principal.has_any(required):
            raise Forbidden(
                f"This needs the scope {' or '.join(sorted(required))}.",
                hint="Use a token with that scope, or ask an admin for a role that allows it.",
                code="missing_scope",
            )
        call_id = _path_call_id(request)
        if call_id is not None:
            await run_in_threadpool(_check_call_in_own_session, request, runtime, principal, call_id)
        return principal

    dependency.__name__ = f"authorize_{area.name}"
    setattr(dependency, "area", area)  # noqa: B010 - read by the test that every route is guarded
    return dependency


async def visible_call(call_id: int, request: Request, runtime: RuntimeDep, principal: PrincipalDep) -> Call:
    """The route's ``{call_id}`` call (dependency); NotFound when the principal may not see it or it does not exist."""
    cached: Call | None = getattr(request.state, "call", None)
    if cached is not None and cached.id == call_id:  # checked by the router's guard already
        return cached
    return await run_in_threadpool(_check_call_in_own_session, request, runtime, principal, call_id)


VisibleCall = Annotated[Call, Depends(visible_call)]


def _effective_dependencies(route: APIRoute) -> list[Any]:
    """The route's dependencies including those its router was included with (the area guard, in api/main.py).

    Older FastAPI versions copied included routes with the router's dependencies added; later versions keep the route
    and build its handler under a context that holds them. (tests/api/test_body_limits.py fails if neither holds.)
    """
    context_var = getattr(fastapi.routing, "_effective_route_context_var", None)
    context = context_var.get() if context_var is not None else None
    if context is not None and getattr(context, "original_route", None) is route:
        return list(getattr(context, "dependencies", route.dependencies))
    return list(route.dependencies)


def guard_before_body(
    route: APIRoute, handler: Callable[[Request], Coroutine[Any, Any, Response]]
) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    """``handler`` running the route's area guard before the request body is read, for guarded routes with a body.

    FastAPI reads and parses the body (a multipart upload in full, to disk) before it solves any dependency, the
    router's guard included: an anonymous client could make the server take in a whole upload before its 401. Here
    the credentials and scopes are checked first; the guard's answer is kept on the request, so the dependency
    itself costs nothing when it runs again.
    """
    guards = [d.dependency for d in _effective_dependencies(route) if hasattr(d.dependency, "area")]
    if route.body_field is None or not guards:
        return handler

    async def checked(request: Request) -> Response:
        runtime = await get_runtime(request)
        principal = await get_principal(request, runtime)
        for guard in guards:
            assert guard is not None
            await guard(request, principal, runtime)
        return await handler(request)

    return checked


def require_scope(scope: policy.Scope) -> Callable[..., Awaitable[Principal]]:
    """A route-level extra requirement on top of its area (e.g. admin for segment definitions)."""

    async def dependency(principal: PrincipalDep) -> Principal:
        if scope not in principal.scopes:
            raise Forbidden(f"This needs the scope {scope}.", hint="Ask an admin.", code="missing_scope")
        return principal

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


def actor_of(request: Request, principal: Principal | None) -> audit.Actor:
    """Who acts, for the audit log: the principal (``anonymous`` when None), the request id and the client address."""
    return audit.Actor(
        label=principal.email if principal else "anonymous",
        user_id=principal.user_id if principal else None,
        token_id=principal.token_id if principal else None,
        request_id=request_id.get(),
        ip=client_ip(request),
    )


async def get_actor(request: Request, principal: PrincipalDep) -> audit.Actor:
    """The audit actor of the signed-in principal (dependency)."""
    return actor_of(request, principal)


ActorDep = Annotated[audit.Actor, Depends(get_actor)]


def audit_read(request: Request, runtime: Runtime, actor: audit.Actor, action: audit.Action, call_id: int) -> None:
    """Record a read of originals: once per user, call and kind of read per minute (reloads are not new reads)."""
    state = request.app.state
    if getattr(state, "recent_reads", None) is None:
        state.recent_reads = audit.RecentReads()
    recent: audit.RecentReads = state.recent_reads
    if recent.first((actor.user_id, actor.token_id, action, call_id)):
        audit.record_now(runtime.engine, actor, action, object_type="call", object_id=call_id)
