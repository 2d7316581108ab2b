"""Browser sessions: signing in (rate-limited, locked out after failures, audited), the session cookie, signing out.

Shared by the sign-in page (``api/dashboard/routes.py``) and the JSON sign-in (``api/routes/account.py``).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request, Response
from sqlmodel import Session

from api.auth import actor_of, client_ip, cookie_name
from insight import audit
from insight.auth import lockout, policy
from insight.auth import service as auth_service
from insight.auth.ratelimit import RateLimiter
from insight.db import session_scope
from insight.errors import RateLimited, Unauthorized
from insight.runtime import Runtime


def login_limiter(request: Request, runtime: Runtime) -> RateLimiter:
    """The app's limiter of sign-in attempts per client address (created on first use)."""
    state = request.app.state
    if getattr(state, "login_limiter", None) is None:
        state.login_limiter = RateLimiter(runtime.settings.login_attempts_per_minute)
    rl: RateLimiter = state.login_limiter
    return rl


def lockout_policy(runtime: Runtime) -> lockout.LockoutPolicy:
    """The backoff after failed sign-ins, from the settings."""
    settings = runtime.settings
    return lockout.LockoutPolicy(
        free=settings.login_lockout_after, base_s=settings.login_lockout_base_s, max_s=settings.login_lockout_max_s
    )


def sign_in(request: Request, runtime: Runtime, email: str, password: str) -> tuple[str, policy.Principal]:
    """Check the credentials and open a session; audited either way.

    Two limits: attempts per client address (whatever the e-mail), and a backoff per (address, e-mail) after failed
    attempts (``insight.auth.lockout``), which slows whoever guesses without locking the owner out from elsewhere.

    Returns:
        The cookie value and the principal.

    Raises:
        Unauthorized: wrong e-mail or password.
        RateLimited: too many attempts from the address, or for this e-mail from it.
    """
    address = client_ip(request)
    wait = login_limiter(request, runtime).hit(f"ip:{address}")
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


def set_session_cookie(response: Response, runtime: Runtime, value: str) -> None:
    """Set the session cookie (HttpOnly, SameSite=Lax; Secure and ``__Host-`` when cookies are secure)."""
    response.set_cookie(
        cookie_name(runtime),
        value,
        max_age=int(runtime.settings.session_ttl_h * 3600),
        path="/",
        secure=runtime.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def end_session(request: Request, runtime: Runtime, response: Response) -> None:
    """End the request's browser session, if any (audited), and clear its cookie on ``response``."""
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
