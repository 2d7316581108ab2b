"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from insight.errors import InvalidRequest

MIN_LENGTH = 10


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the e-mail is unknown, so a sign-in takes as long whether or not the account exists.
    return _hasher().hash("not-a-real-password-only-for-timing")


def check_strength(password: str) -> None:
    """Refuse passwords too short to resist guessing.

    Raises:
        InsightError: with code ``weak_password``.
    """
    if len(password) < MIN_LENGTH:
        raise InvalidRequest(
            f"The password must have at least {MIN_LENGTH} characters.",
            hint="Choose a longer passphrase.",
            code="weak_password",
        )


def hash_password(password: str) -> str:
    """Hash a new password with argon2id, after checking its strength.

    Raises:
        InvalidRequest: the password is shorter than ``MIN_LENGTH`` (code ``weak_password``).
    """
    check_strength(password)
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; takes the same time when ``stored`` is None."""
    try:
        return _hasher().verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when ``stored`` was hashed with other parameters than today's, so it should be hashed again."""
    return _hasher().check_needs_rehash(stored)
