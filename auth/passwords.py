"""argon2id password hashing (argon2-cffi's defaults follow RFC 9106's recommendations)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # Type.ID by default

MIN_PASSWORD_LENGTH = 10

#: A real hash of a random throwaway secret, verified when no account matches so
#: that a sign-in for an unknown e-mail costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("slotboard-timing-equaliser-not-a-password")


class WeakPassword(ValueError):
    """The password does not meet the minimum policy."""


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip() != password or not password.strip():
        raise WeakPassword("a password may not start or end with spaces")


def hash_password(password: str) -> str:
    check_password_policy(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; always spends one argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
