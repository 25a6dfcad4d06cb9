"""argon2id hashing and the password policy (pure, no database)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from auth.passwords import (
    MIN_PASSWORD_LENGTH,
    WeakPassword,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)

GOOD = "correct horse battery"


def test_hash_is_argon2id_and_salted() -> None:
    first, second = hash_password(GOOD), hash_password(GOOD)
    assert first.startswith("$argon2id$")
    assert first != second
    assert GOOD not in first


def test_verify_right_and_wrong() -> None:
    stored = hash_password(GOOD)
    assert verify_password(stored, GOOD)
    assert not verify_password(stored, GOOD + "!")
    assert not verify_password(stored, "")


def test_dummy_hash_path_is_always_false() -> None:
    """No account: verification still runs (against a dummy hash) and fails."""
    assert verify_password(None, GOOD) is False
    assert verify_password(None, "slotboard-timing-equaliser-not-a-password") is False


def test_garbage_hash_is_false_not_an_error() -> None:
    assert verify_password("not-a-hash", GOOD) is False


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", f"at least {MIN_PASSWORD_LENGTH} characters"),
        ("x" * (MIN_PASSWORD_LENGTH - 1), f"at least {MIN_PASSWORD_LENGTH} characters"),
        (" leading-space-pw", "spaces"),
        ("trailing-space-pw ", "spaces"),
        (" " * 20, "spaces"),
    ],
)
def test_policy_refuses_with_a_reason(password: str, reason: str) -> None:
    with pytest.raises(WeakPassword, match=reason):
        check_password_policy(password)
    with pytest.raises(WeakPassword):
        hash_password(password)


def test_needs_rehash_for_weaker_parameters() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(GOOD)
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password(GOOD))
