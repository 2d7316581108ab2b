"""An in-process cache of checked credentials, valid only while the database's auth generation stays the same.

Every change to users, tokens or sessions adds one to ``auth_state.generation`` in its own transaction
(:func:`insight.repositories.auth_state.bump_generation`). A request reads that single row and passes the value
here: an entry cached under another generation is never returned, so a change committed by any process (this one,
another API replica, the CLI) takes effect on the next request, and nothing read before the commit outlives it.
What the cache saves is the token, session and user lookups: one primary-key read instead of three.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from insight.auth.policy import Principal
from models.base import utcnow


class PrincipalCache:
    """Principals by credential hash, tagged with the generation they were read under.

    ``ttl_s`` bounds an entry's life as well, as a backstop for changes made to the database by hand.
    """

    def __init__(self, ttl_s: float = 60.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Principal, float, datetime | None]] = {}
        self._generation: int | None = None
        self._lock = threading.Lock()

    def _sync(self, generation: int) -> None:
        # Called with the lock held. A generation from a read that raced a newer one (an older snapshot) must not
        # let entries cached under the newer one through, so any difference empties the cache.
        if generation != self._generation:
            self._entries.clear()
            self._generation = generation

    def get(self, key: str, generation: int) -> Principal | None:
        """The principal cached for ``key`` under ``generation``, if it has not expired."""
        if self.ttl_s <= 0:
            return None
        with self._lock:
            self._sync(generation)
            entry = self._entries.get(key)
            if entry is None:
                return None
            principal, until, expires_at = entry
            if time.monotonic() > until or (expires_at is not None and expires_at <= utcnow()):
                self._entries.pop(key, None)
                return None
            return principal

    def put(self, key: str, principal: Principal, expires_at: datetime | None, generation: int) -> None:
        """Keep ``principal``, read under ``generation`` (read before the principal itself, in the same session)."""
        if self.ttl_s <= 0:
            return
        with self._lock:
            self._sync(generation)
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (principal, time.monotonic() + self.ttl_s, expires_at)
