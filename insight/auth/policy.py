"""The access policy: who may reach which part of the API, and which calls and originals they may see.

Every decision about access is made here; the API applies it in one dependency per router (``api/auth.py``) and
one call-access function for call-scoped routes. Summary:

=========  ==========================================================  ============================================
role       scopes a token or session of the role may hold             calls
=========  ==========================================================  ============================================
rep        calls:read, calls:write                                     their own
manager    calls:read, calls:write, insights:read, sync, metrics        their own and their team members'
admin      every scope (also admin)                                    all, including calls without an owner
=========  ==========================================================  ============================================

Originals (the audio and the unredacted transcript and minutes) are for the call's owner and admins only; a
manager reads the redacted text. A token's scopes are fixed at creation (a subset of its user's role); a later
role change narrows them at once, because the effective scopes are ``token scopes ∩ role scopes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from insight.repositories.calls import CallVisibility
from models import Call, User, UserRole


class Scope(StrEnum):
    """What a token or session may do; each API area needs one of a few scopes (see the module's table)."""

    calls_read = "calls:read"  # list and read calls, transcripts, speakers, metrics, minutes
    calls_write = "calls:write"  # upload, retry, correct speakers
    insights_read = "insights:read"  # segments, deciles, customer records (team-wide insight)
    sync = "sync"  # CRM/SFA sync jobs: customers, imports, segment recomputation
    metrics = "metrics"  # Prometheus scraping
    admin = "admin"  # users, roles, audit log, retention, customer erasure


ALL_SCOPES: frozenset[str] = frozenset(s.value for s in Scope)

ROLE_SCOPES: dict[str, frozenset[str]] = {
    UserRole.rep: frozenset({Scope.calls_read, Scope.calls_write}),
    UserRole.manager: frozenset({Scope.calls_read, Scope.calls_write, Scope.insights_read, Scope.sync, Scope.metrics}),
    UserRole.admin: ALL_SCOPES,
}


@dataclass(frozen=True)
class Principal:
    """Who is making a request, with the scopes in force for it."""

    user_id: int
    email: str
    role: str
    team_id: int | None
    scopes: frozenset[str]
    token_id: int | None = None
    session_id: int | None = None
    expires_at: datetime | None = None  # of the token or session

    @property
    def is_admin(self) -> bool:
        """True for the admin role, which sees every call and holds every scope."""
        return self.role == UserRole.admin

    @property
    def rate_key(self) -> str:
        """What request rate limits count against: the token, else the browser session."""
        if self.token_id is not None:
            return f"token:{self.token_id}"
        return f"session:{self.session_id}"

    def has_any(self, scopes: frozenset[str]) -> bool:
        """True when one of ``scopes`` is in force, or when ``scopes`` is empty (any signed-in principal)."""
        return not scopes or bool(self.scopes & scopes)


def effective_scopes(role: str, requested: list[str] | None) -> frozenset[str]:
    """Scopes in force: those requested (all of the role's when None), limited to what the role allows."""
    allowed = ROLE_SCOPES.get(role, frozenset())
    return allowed if requested is None else allowed & frozenset(requested)


def invalid_scopes(role: str, requested: list[str]) -> list[str]:
    """Requested scopes that do not exist or that the role may not hold."""
    allowed = ROLE_SCOPES.get(role, frozenset())
    return sorted(s for s in requested if s not in allowed)


@dataclass(frozen=True)
class Area:
    """A part of the API and the scopes that reach it: any one of ``read`` for GET/HEAD/OPTIONS, of ``write`` otherwise.

    An empty set means "any signed-in principal".
    """

    name: str
    read: frozenset[str]
    write: frozenset[str]

    def required(self, method: str) -> frozenset[str]:
        """The scopes of which any one reaches this area: ``read`` for GET, HEAD and OPTIONS, else ``write``."""
        return self.read if method.upper() in {"GET", "HEAD", "OPTIONS"} else self.write


def _area(name: str, read: set[Scope], write: set[Scope]) -> Area:
    return Area(name, frozenset(s.value for s in read), frozenset(s.value for s in write))


# Routers are attached to one of these in api/main.py; a router added later picks the area it belongs to.
CALLS = _area("calls", {Scope.calls_read}, {Scope.calls_write})
INSIGHTS = _area("insights", {Scope.insights_read, Scope.sync}, {Scope.sync, Scope.admin})
CUSTOMERS = _area("customers", {Scope.insights_read, Scope.sync}, {Scope.sync})
IMPORTS = _area("imports", {Scope.sync}, {Scope.sync})
# Deals: reps read the deals of the calls they may see; managers and admins (sync) import and edit them.
DEALS = _area("deals", {Scope.calls_read, Scope.insights_read, Scope.sync}, {Scope.sync})
ADMIN = _area("admin", {Scope.admin}, {Scope.admin})
# Trackers: whoever reads calls reads the trackers; managers and admins (sync, admin) add, change and delete them.
TRACKERS = _area("trackers", {Scope.calls_read}, {Scope.sync, Scope.admin})
METRICS = _area("metrics", {Scope.metrics}, {Scope.metrics})
# Topics: whoever reads calls reads topics, counted over the calls they may see; managers and admins name and refit.
TOPICS = _area("topics", {Scope.calls_read, Scope.insights_read}, {Scope.sync, Scope.admin})
ACCOUNT = _area("account", set(), set())  # one's own account and tokens
PAGES = _area("pages", {Scope.calls_read}, {Scope.calls_write})  # the web UI (lists calls)


def call_visibility(principal: Principal) -> CallVisibility:
    """Which calls ``principal`` may see, as the filter the call queries apply (the list-side twin of
    :func:`can_see_call`).
    """
    if principal.is_admin:
        return CallVisibility(everything=True)
    if principal.role == UserRole.manager and principal.team_id is not None:
        return CallVisibility(owner_id=principal.user_id, team_id=principal.team_id)
    return CallVisibility(owner_id=principal.user_id)


def sees_every_deal(principal: Principal) -> bool:
    """Does ``principal`` read every deal (team-wide insight or sync, as for customer records)? Otherwise only the
    deals reached through the calls they may see: a call's deal and the deals of a call's customer.
    """
    return principal.is_admin or principal.has_any(frozenset({Scope.insights_read.value, Scope.sync.value}))


def can_see_call(principal: Principal, call: Call, owner_team_id: int | None) -> bool:
    """May ``principal`` see this call at all (metadata, redacted transcript, speakers, metrics, minutes)?

    Args:
        principal: who asks.
        call: the call.
        owner_team_id: the team of the call's owner (None when the owner has none or the call has no owner).
    """
    if principal.is_admin:
        return True
    if call.owner_id is not None and call.owner_id == principal.user_id:
        return True
    return (
        principal.role == UserRole.manager
        and principal.team_id is not None
        and call.owner_id is not None
        and owner_team_id == principal.team_id
    )


def can_change_call(principal: Principal, call: Call, owner_team_id: int | None) -> bool:
    """May ``principal`` retry the call or correct its speakers? The owner, their manager, and admins."""
    return can_see_call(principal, call, owner_team_id)


def can_read_original(principal: Principal, call: Call) -> bool:
    """May ``principal`` hear the audio and read the unredacted transcript and minutes? Owner and admins only."""
    return principal.is_admin or (call.owner_id is not None and call.owner_id == principal.user_id)


def can_enrol_voice(role: str, user_id: int | None, team_id: int | None, rep: User | None) -> bool:
    """May a user (by role, id and team) enrol a voice into ``rep``'s voice profile?

    The profile decides who the rep is in that rep's later calls, so only the rep themself, a manager of the rep's
    team, or an admin may feed it: naming a rep at upload, confirming roles that enrol a voice, and which calls a
    profile is rebuilt from all follow this. ``rep`` None (a rep key that names no user): admins only.
    """
    if role == UserRole.admin:
        return True
    if rep is None or user_id is None:
        return False
    if rep.id == user_id:
        return True
    return role == UserRole.manager and team_id is not None and rep.team_id == team_id


def shown_text(text: str, redacted: str | None, *, original: bool) -> str:
    """The text a reader gets: the original when allowed and asked for, else the redacted text.

    Text not redacted yet (the analyze stage has not run, or redaction is off) is withheld from the redacted view
    rather than shown unredacted.
    """
    if original:
        return text
    return redacted if redacted is not None else ""
