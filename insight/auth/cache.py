"""A short-lived, in-process cache of checked credentials, so a request does not cost two queries to authenticate.

Entries live ``ttl_s`` seconds at most and never past the token's own expiry. Any account change made through this
process (role, team, deactivation, password, token revocation, sign-out) empties the cache at once via
:func:`bump`; a change made by another process (the CLI, another API replica) takes effect within ``ttl_s``.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from insight.auth.policy import Principal
from models.base import utcnow

_generation = 0
_lock = threading.Lock()


def bump() -> None:
    """Invalidate every cached principal (called by the account services on any change)."""
    global _generation
    with _lock:
        _generation += 1


def generation() -> int:
    return _generation


class PrincipalCache:
    def __init__(self, ttl_s: float = 15.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Principal, float, datetime | None, int]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Principal | None:
        if self.ttl_s <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        principal, until, expires_at, gen = entry
        if gen != _generation or time.monotonic() > until or (expires_at is not None and expires_at <= utcnow()):
            with self._lock:
                self._entries.pop(key, None)
            return None
        return principal

    def put(self, key: str, principal: Principal, expires_at: datetime | None) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (principal, time.monotonic() + self.ttl_s, expires_at, _generation)
