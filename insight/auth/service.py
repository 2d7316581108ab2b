"""Accounts: create users and teams, change roles, sign in, issue and check API tokens and web sessions.

Services flush but never commit: the caller owns the transaction (and the audit event recorded in it).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from insight import audit
from insight.auth import passwords
from insight.auth.policy import Principal, effective_scopes, invalid_scopes
from insight.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthorized
from insight.repositories import auth_state as auth_state_repo
from insight.repositories import users as users_repo
from models import ApiToken, Team, User, UserRole, WebSession
from models.base import utcnow

TOKEN_PREFIX = "ins_"
EMAIL = re.compile(r"^[^@\s]{1,128}@[^@\s]{1,126}$")
# A token's last use is written at most this often: a write per request would serialise reads on SQLite.
TOUCH_EVERY = timedelta(minutes=5)
DEFAULT_TOKEN_DAYS = 90.0


@dataclass(frozen=True)
class TokenPolicy:
    """How long API tokens may live.

    Attributes:
        max_days: the longest lifetime any token may be given.
        allow_no_expiry: whether an admin may issue tokens that never expire, and then only to service accounts
            (users without a password, who cannot sign in and so cannot replace a token themselves).
    """

    max_days: float = 365.0
    allow_no_expiry: bool = False


def _check_expiry(policy: TokenPolicy, user: User, expires_days: float | None, *, by_admin: bool) -> None:
    if expires_days is None:
        if not policy.allow_no_expiry:
            raise InvalidRequest(
                "Tokens that never expire are not allowed here.",
                hint=f"Give a lifetime of at most {policy.max_days:g} days (expires_days / --days); an operator can "
                "allow non-expiring service-account tokens with INSIGHT_TOKEN_ALLOW_NO_EXPIRY=true.",
                code="invalid_expiry",
            )
        if not by_admin or user.password_hash is not None:
            raise InvalidRequest(
                "Only an admin may issue a token that never expires, and only to a service account.",
                hint=f"Give a lifetime of at most {policy.max_days:g} days, or have an admin issue the token to a "
                "user without a password.",
                code="invalid_expiry",
            )
        return
    if not 0 < expires_days <= policy.max_days:
        raise InvalidRequest(
            f"A token's lifetime must be more than 0 and at most {policy.max_days:g} days.",
            hint=f"e.g. expires_days {min(DEFAULT_TOKEN_DAYS, policy.max_days):g} (--days on the command line).",
            code="invalid_expiry",
        )


def sha256_hex(value: str) -> str:
    """The hex sha256 of ``value``: API tokens and session cookies are stored and looked up by it."""
    return hashlib.sha256(value.encode()).hexdigest()


def _check_role(role: str) -> str:
    if role not in {r.value for r in UserRole}:
        raise InvalidRequest(f"Unknown role {role!r}.", hint="Use rep, manager or admin.", code="invalid_role")
    return role


def get_or_create_team(session: Session, name: str) -> Team:
    """The team called ``name`` (surrounding spaces stripped), created if absent.

    Raises:
        InvalidRequest: the name is empty or longer than 128 characters (code ``invalid_team``).
    """
    name = name.strip()
    if not name or len(name) > 128:
        raise InvalidRequest("A team name needs 1-128 characters.", hint="e.g. --team tokyo-sales", code="invalid_team")
    return users_repo.get_team_by_name(session, name) or users_repo.add_team(session, name)


def create_user(
    session: Session,
    actor: audit.Actor,
    *,
    email: str,
    role: str = UserRole.rep,
    team: str | None = None,
    password: str | None = None,
    name: str | None = None,
) -> User:
    """Create an account. Without a password the user can only use API tokens.

    Raises:
        InsightError: invalid e-mail, role or weak password. Conflict: the e-mail is taken.
    """
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise InvalidRequest(f"{email!r} is not an e-mail address.", hint="e.g. sato@example.jp", code="invalid_email")
    _check_role(role)
    if users_repo.get_by_email(session, email) is not None:
        raise Conflict(f"A user with e-mail {email} exists.", hint="Change that user instead (insight users set).")
    user = users_repo.add(
        session,
        User(
            email=email,
            name=name,
            role=role,
            team_id=get_or_create_team(session, team).id if team else None,
            password_hash=passwords.hash_password(password) if password is not None else None,
        ),
    )
    audit.record(
        session, actor, audit.Action.user_create, object_type="user", object_id=user.id, details={"role": role}
    )
    return user


def update_user(
    session: Session,
    actor: audit.Actor,
    user_id: int,
    *,
    role: str | None = None,
    team: str | None = None,
    clear_team: bool = False,
    active: bool | None = None,
    password: str | None = None,
    name: str | None = None,
    keep_tokens: bool = False,
) -> User:
    """Change a user's role, team, status, password or name; a role change is audited with old and new role.

    Deactivating a user or changing their password ends their web sessions; a new password also revokes their API
    tokens unless ``keep_tokens`` (a reset after a leak must not leave the leaked tokens working). Every change
    reaches the credential caches of all processes when the caller commits.
    """
    user = users_repo.get(session, user_id)
    if user is None:
        raise NotFound(
            f"User {user_id} does not exist.",
            hint="List users with GET /api/admin/users.",
            object_type="user",
            object_id=user_id,
        )
    assert user.id is not None
    changes: dict[str, object] = {}
    if role is not None and role != user.role:
        _check_role(role)
        audit.record(
            session,
            actor,
            audit.Action.role_change,
            object_type="user",
            object_id=user.id,
            details={"from": user.role, "to": role},
        )
        user.role = role
    if clear_team:
        changes["team"] = None
        user.team_id = None
    elif team is not None:
        new_team = get_or_create_team(session, team)
        if new_team.id != user.team_id:
            changes["team"] = new_team.name
            user.team_id = new_team.id
    if active is not None and active != user.active:
        changes["active"] = active
        user.active = active
        if not active:
            users_repo.delete_sessions_of(session, user.id)
    if password is not None:
        user.password_hash = passwords.hash_password(password)
        changes["password"] = "changed"
        users_repo.delete_sessions_of(session, user.id)
        if not keep_tokens:
            revoked = users_repo.revoke_tokens_of(session, user.id, utcnow())
            for token_id in revoked:
                audit.record(
                    session,
                    actor,
                    audit.Action.token_revoke,
                    object_type="token",
                    object_id=token_id,
                    details={"reason": "password_reset"},
                )
            changes["tokens_revoked"] = len(revoked)
    if name is not None:
        user.name = name
        changes["name"] = "changed"
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    auth_state_repo.bump_generation(session)
    if changes:
        audit.record(session, actor, audit.Action.user_update, object_type="user", object_id=user.id, details=changes)
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (same time either way)."""
    user = users_repo.get_by_email(session, email)
    ok = passwords.verify_password(user.password_hash if user is not None else None, password)
    if not ok or user is None or not user.active:
        return None
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        session.add(user)
    return user


def principal_for(
    user: User,
    scopes: frozenset[str],
    *,
    token_id: int | None = None,
    session_id: int | None = None,
    expires_at: datetime | None = None,
) -> Principal:
    """The principal of ``user`` with ``scopes`` in force.

    ``token_id`` or ``session_id`` names the credential the request came with, ``expires_at`` when it ends.
    """
    assert user.id is not None
    return Principal(
        user_id=user.id,
        email=user.email,
        role=user.role,
        team_id=user.team_id,
        scopes=scopes,
        token_id=token_id,
        session_id=session_id,
        expires_at=expires_at,
    )


def create_token(
    session: Session,
    actor: audit.Actor,
    user: User,
    *,
    name: str,
    scopes: list[str] | None = None,
    expires_days: float | None = DEFAULT_TOKEN_DAYS,
    policy: TokenPolicy | None = None,
    by_admin: bool = False,
) -> tuple[ApiToken, str]:
    """Issue an API token for ``user``. Returns the row and the token itself, which is never stored or shown again.

    Args:
        session: the write session.
        actor: who issues it (audited).
        user: whose token it is.
        name: a label ("hubspot sync", "laptop cli").
        scopes: what it may do (default: everything the user's role allows).
        expires_days: lifetime; None = no expiry (see ``policy``).
        policy: the limits on lifetimes (default: :class:`TokenPolicy`'s).
        by_admin: the issuer holds the admin scope (or is the operator's command line).

    Raises:
        Forbidden: a scope the user's role may not hold.
        InvalidRequest: a lifetime the policy does not allow.
    """
    assert user.id is not None
    wanted = sorted(set(scopes)) if scopes is not None else sorted(effective_scopes(user.role, None))
    bad = invalid_scopes(user.role, wanted)
    if bad or not wanted:
        raise Forbidden(
            f"A {user.role} cannot hold the scope(s) {', '.join(bad) or '(none given)'}.",
            hint="Choose from: " + ", ".join(sorted(effective_scopes(user.role, None))),
            code="invalid_scope",
        )
    _check_expiry(policy or TokenPolicy(), user, expires_days, by_admin=by_admin)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = users_repo.add_token(
        session,
        ApiToken(
            user_id=user.id,
            name=name.strip()[:128] or "token",
            prefix=plaintext[:12],
            token_hash=sha256_hex(plaintext),
            scopes=wanted,
            expires_at=utcnow() + timedelta(days=expires_days) if expires_days is not None else None,
        ),
    )
    audit.record(
        session,
        actor,
        audit.Action.token_create,
        object_type="token",
        object_id=token.id,
        details={"user_id": user.id, "scopes": wanted, "expires_at": str(token.expires_at)},
    )
    return token, plaintext


def revoke_token(session: Session, actor: audit.Actor, token: ApiToken) -> None:
    """Revoke ``token`` now and audit it; a token already revoked is left as it is.

    Every process's credential cache drops the token when the caller commits.
    """
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        session.flush()
        auth_state_repo.bump_generation(session)
        audit.record(session, actor, audit.Action.token_revoke, object_type="token", object_id=token.id)


def principal_from_token(session: Session, plaintext: str, *, now: datetime | None = None) -> tuple[Principal, bool]:
    """Check a bearer token. Returns the principal and whether its last use should be recorded now.

    Raises:
        Unauthorized: unknown, revoked or expired token, or an inactive user.
    """
    now = now or utcnow()
    token = users_repo.token_by_hash(session, sha256_hex(plaintext)) if plaintext.startswith(TOKEN_PREFIX) else None
    if token is None or token.revoked_at is not None:
        raise Unauthorized("The API token is not valid.", hint="Create a new one with `insight tokens create`.")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthorized("The API token has expired.", hint="Create a new one with `insight tokens create`.")
    user = users_repo.get(session, token.user_id)
    if user is None or not user.active:
        raise Unauthorized("The token's user is deactivated.", hint="Ask an admin to reactivate the account.")
    touch = token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY
    scopes = effective_scopes(user.role, token.scopes)
    return principal_for(user, scopes, token_id=token.id, expires_at=token.expires_at), touch


def start_session(session: Session, user: User, *, ttl: timedelta) -> tuple[str, WebSession]:
    """Open a web session. Returns the cookie value (stored only as its hash) and the row."""
    assert user.id is not None
    value = secrets.token_urlsafe(32)
    web = users_repo.add_session(
        session, WebSession(session_hash=sha256_hex(value), user_id=user.id, expires_at=utcnow() + ttl)
    )
    return value, web


def principal_from_session(session: Session, value: str, *, now: datetime | None = None) -> Principal:
    """The principal of a session cookie: every scope the user's role allows.

    Raises:
        Unauthorized: unknown or expired session, or an inactive user.
    """
    now = now or utcnow()
    web = users_repo.session_by_hash(session, sha256_hex(value))
    if web is None or web.expires_at <= now:
        raise Unauthorized("Your session has ended.", hint="Sign in again at /login.", code="session_expired")
    user = users_repo.get(session, web.user_id)
    if user is None or not user.active:
        raise Unauthorized("Your account is deactivated.", hint="Ask an admin to reactivate it.")
    return principal_for(user, effective_scopes(user.role, None), session_id=web.id, expires_at=web.expires_at)


def end_session(session: Session, value: str) -> None:
    """Sign a browser out: delete the session of this cookie value, and drop it from every process's cache on commit."""
    users_repo.delete_session(session, sha256_hex(value))
    auth_state_repo.bump_generation(session)


def csrf_token(secret: str, session_value: str) -> str:
    """The CSRF token of a session: an HMAC of the session id, so it needs no storage and dies with the session."""
    return hmac.new(secret.encode(), b"csrf:" + session_value.encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: str, session_value: str, given: str | None) -> bool:
    """True when ``given`` is the session's CSRF token (compared in constant time); False when it is missing."""
    return given is not None and hmac.compare_digest(csrf_token(secret, session_value), given)
