"""Backoff after failed sign-ins, per (client address, e-mail), stored in the database.

Keying by the pair makes the wait fall on whoever guesses, not on the account: a correct password from an address
with no recent failures for that e-mail signs in even while another address is made to wait. After ``free``
failures in a row, each further failure makes that pair wait ``base_s`` seconds, doubling up to ``max_s``. While it
waits, attempts are refused without checking the password (so the wait cannot be used to test passwords). A
successful sign-in from the address clears its record; an admin can clear all of an e-mail's records. Being in the
database, the records hold across API processes and restarts, and the CLI can clear them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from insight.repositories import auth_state as auth_state_repo
from models import LoginFailure
from models.base import utcnow

# Failures older than this are forgotten: a typo a week ago is no reason to wait today.
FORGET_AFTER = timedelta(hours=24)
UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class LockoutPolicy:
    """``free`` failures, then a wait of ``base_s`` doubling with each further failure, at most ``max_s``."""

    free: int = 5
    base_s: float = 2.0
    max_s: float = 900.0

    def wait_after(self, failures: int) -> float:
        """The wait imposed after the ``failures``-th failure in a row (0 while within the free ones)."""
        if failures < self.free:
            return 0.0
        exponent = min(failures - self.free, 60)  # 2**60 s is past any max_s; bounds the float
        return float(min(self.max_s, self.base_s * 2.0**exponent))


def _key(address: str | None, email: str) -> tuple[str, str]:
    return (address or UNKNOWN_ADDRESS)[:64], email.strip().lower()[:255]


def seconds_locked(session: Session, address: str | None, email: str, *, now: datetime | None = None) -> float:
    """How long ``address`` must still wait before it may try a password for ``email`` (0: it may now)."""
    now = now or utcnow()
    row = auth_state_repo.login_failure(session, *_key(address, email))
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0.0
    return (row.locked_until - now).total_seconds()


def record_failure(
    session: Session, policy: LockoutPolicy, address: str | None, email: str, *, now: datetime | None = None
) -> float:
    """Count a failed sign-in; returns the wait it imposes on this (address, e-mail) from now on."""
    now = now or utcnow()
    addr, mail = _key(address, email)
    auth_state_repo.delete_stale_login_failures(session, failed_before=now - FORGET_AFTER, now=now)
    row = auth_state_repo.login_failure(session, addr, mail)
    if row is None:
        row = LoginFailure(address=addr, email=mail, failures=0, last_failure_at=now)
    elif now - row.last_failure_at > FORGET_AFTER:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    wait = policy.wait_after(row.failures)
    row.locked_until = now + timedelta(seconds=wait) if wait > 0 else None
    auth_state_repo.save_login_failure(session, row)
    return wait


def record_success(session: Session, address: str | None, email: str) -> None:
    """A correct password from ``address``: its failures for ``email`` are forgiven."""
    addr, mail = _key(address, email)
    auth_state_repo.delete_login_failures(session, mail, addr)


def unlock(session: Session, email: str, *, address: str | None = None) -> int:
    """Clear the failed sign-ins for ``email`` (from ``address`` only, when given). Returns the records cleared."""
    mail = email.strip().lower()[:255]
    return auth_state_repo.delete_login_failures(session, mail, address[:64] if address else None)
