"""The audit log: one function to record an action, called in the transaction of the action it records.

Recorded: sign-ins (and failed attempts) and sign-outs, reads of audio and of original (unredacted) transcripts and
minutes, exports, user and role changes, token creation and revocation, imports, retention purges, customer
erasures, and every CRM write (:func:`record_crm_write`, for the connectors that push to a CRM).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from insight.db import session_scope
from insight.repositories import audit as audit_repo
from models import AuditEvent


class Action(StrEnum):
    """Audited actions; the value is the ``action`` string stored in the audit log."""

    login = "auth.login"
    login_failed = "auth.login_failed"
    login_unlock = "auth.login_unlock"
    logout = "auth.logout"
    token_create = "auth.token_create"
    token_revoke = "auth.token_revoke"
    user_create = "user.create"
    user_update = "user.update"
    role_change = "user.role_change"
    audio_read = "call.audio_read"
    original_read = "call.original_read"  # unredacted transcript or minutes
    call_assign = "call.assign"
    export = "export"
    import_file = "import.transactions"
    deal_import = "import.deals"
    deal_create = "deal.create"
    deal_update = "deal.update"
    crm_write = "crm.write"
    retention_purge = "retention.purge"
    customer_erase = "customer.erase"


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (through a session or a token), or the system itself (periodic jobs, the CLI)."""

    label: str
    user_id: int | None = None
    token_id: int | None = None
    request_id: str | None = None
    ip: str | None = None


SYSTEM = Actor(label="system")


def record(
    session: Session,
    actor: Actor,
    action: Action | str,
    *,
    object_type: str | None = None,
    object_id: object = None,
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in ``session``'s transaction (it commits or rolls back with the action)."""
    return audit_repo.add(
        session,
        AuditEvent(
            actor_user_id=actor.user_id,
            actor_token_id=actor.token_id,
            actor=actor.label[:255],
            action=str(action),
            object_type=object_type,
            object_id=None if object_id is None else str(object_id)[:255],
            outcome=outcome,
            request_id=actor.request_id,
            ip=actor.ip,
            details=details or {},
        ),
    )


def record_now(engine: Engine, actor: Actor, action: Action | str, **kwargs: Any) -> None:
    """Record an event in its own transaction (for reads, which have no write transaction of their own)."""
    with session_scope(engine) as session:
        record(session, actor, action, **kwargs)


def payload_hash(payload: object) -> str:
    """A stable sha256 of a JSON payload (what a CRM write sent, without storing what it said)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


def record_crm_write(
    session: Session,
    actor: Actor,
    *,
    connector: str,
    object_type: str,
    external_id: str,
    operation: str,
    payload: object,
    outcome: str = "ok",
    status: int | None = None,
) -> AuditEvent:
    """Record one write to a CRM/SFA (a created or updated record, a note, an association).

    Only the payload's hash is kept: the log proves what was sent without holding customer data itself.
    """
    return record(
        session,
        actor,
        Action.crm_write,
        object_type=object_type,
        object_id=external_id,
        outcome=outcome,
        details={
            "connector": connector,
            "operation": operation,
            "payload_sha256": payload_hash(payload),
            "status": status,
        },
    )


class RecentReads:
    """Remembers which reads were recorded in the last ``window_s`` seconds, so a page that reloads (or a player
    that fetches a file in ranges) makes one audit event per user, object and kind of read per window.
    """

    def __init__(self, window_s: float = 60.0, max_entries: int = 50_000) -> None:
        self.window_s = window_s
        self.max_entries = max_entries
        self._seen: dict[tuple[object, ...], float] = {}
        self._lock = threading.Lock()

    def first(self, key: tuple[object, ...]) -> bool:
        """True when ``key`` was not recorded within the window (and remember it now)."""
        now = time.monotonic()
        with self._lock:
            last = self._seen.get(key)
            if last is not None and now - last < self.window_s:
                return False
            if len(self._seen) >= self.max_entries:
                self._seen = {k: t for k, t in self._seen.items() if now - t < self.window_s}
            self._seen[key] = now
            return True
