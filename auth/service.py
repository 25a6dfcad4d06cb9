"""Sign-in and password changes: the policy around `data.accounts`.

Wrong password, unknown e-mail and inactive account are indistinguishable: the same
message, the same argon2 work, the same throttle. Failures count per e-mail hash;
after `settings.sign_in_free_failures` each further failure blocks that e-mail for a
doubling number of seconds, capped at `settings.sign_in_max_delay_seconds`. While
blocked, attempts are refused without checking the password.

With SUPABASE_URL and SUPABASE_ANON_KEY set, Supabase Auth checks the password and
the accounts table still decides the business and the role.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from auth.passwords import WeakPassword, hash_password, needs_rehash, verify_password
from auth.roles import Actor, Role
from data import accounts as store
from data import sign_in_throttle as throttle
from data.db import read_conn, write_tx
from data.types import utcnow
from settings import Settings, load_settings

GENERIC_FAILURE = "E-mail or password is incorrect."
#: Failures older than this are forgotten: an occasional typo never adds up to a delay.
FAILURE_MEMORY = timedelta(hours=24)


class SignInError(Exception):
    """Sign-in refused; the message is safe to show the user."""


class SignInThrottled(SignInError):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"Too many failed sign-ins. Try again in {retry_after_seconds} seconds.")
        self.retry_after_seconds = retry_after_seconds


class AuthProviderUnavailable(SignInError):
    """The external auth provider could not answer; not the user's fault."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"Supabase Auth is unreachable: {reason}; "
            "try again or ask the owner to switch to local accounts"
        )


@dataclass(frozen=True)
class ExternalIdentity:
    user_id: str
    email: str


class PasswordAuthenticator(Protocol):
    def authenticate(self, email: str, password: str) -> ExternalIdentity | None:
        """The identity, None for wrong credentials; AuthProviderUnavailable if down."""
        ...


@dataclass(frozen=True)
class SignedIn:
    account_id: int
    business_id: int
    role: Role
    email: str
    display_name: str
    auth_provider: str

    @property
    def actor(self) -> Actor:
        return Actor.for_account(
            account_id=self.account_id, business_id=self.business_id, role=self.role
        )


# --- pure policy ----------------------------------------------------------------------


def compute_block_seconds(failures: int, *, free_failures: int, max_delay_seconds: int) -> int:
    """Seconds to block after this many failures; 0 while still within the free ones."""
    if failures <= free_failures:
        return 0
    return min(2 ** min(failures - free_failures, 62), max_delay_seconds)


def compute_retry_after(blocked_until: datetime | None, *, now: datetime) -> int:
    """Whole seconds still to wait (at least 1), or 0 when not blocked."""
    if blocked_until is None or blocked_until <= now:
        return 0
    return max(1, math.ceil((blocked_until - now).total_seconds()))


# --- sign-in --------------------------------------------------------------------------


def sign_in(
    engine: Engine,
    *,
    settings: Settings,
    email: str,
    password: str,
    now: datetime | None = None,
    supabase: PasswordAuthenticator | None = None,
) -> SignedIn:
    """The signed-in account, or SignInError (SignInThrottled, AuthProviderUnavailable)."""
    now = now or utcnow()
    key = store.email_key(email)
    _refuse_while_blocked(engine, key=key, now=now)
    account: dict[str, Any] | None
    link_id: str | None = None
    if settings.supabase_auth_enabled:
        authenticator = supabase or _supabase_authenticator(settings)
        matched = _check_with_provider(engine, authenticator, email, password)
        account, link_id = matched if matched else (None, None)
    else:
        account = _check_locally(engine, email, password)
    if account is None:
        _count_failure(engine, settings=settings, key=key, now=now)
        raise SignInError(GENERIC_FAILURE)
    rehashed = _rehash_if_needed(account, password) if link_id is None else None
    with write_tx(engine) as conn:
        throttle.clear_sign_in_failures(conn, key=key)
        store.record_sign_in(
            conn, account=account, now=now, external_auth_id=link_id, password_hash=rehashed
        )
    return _signed_in(account)


def _refuse_while_blocked(engine: Engine, *, key: str, now: datetime) -> None:
    with read_conn(engine) as conn:
        blocked_until = throttle.load_blocked_until(conn, key=key)
    retry_after = compute_retry_after(blocked_until, now=now)
    if retry_after:
        raise SignInThrottled(retry_after)


def _count_failure(engine: Engine, *, settings: Settings, key: str, now: datetime) -> None:
    with write_tx(engine) as conn:
        failures = throttle.count_sign_in_failure(
            conn, key=key, now=now, forget_before=now - FAILURE_MEMORY
        )
        seconds = compute_block_seconds(
            failures,
            free_failures=settings.sign_in_free_failures,
            max_delay_seconds=settings.sign_in_max_delay_seconds,
        )
        if seconds:
            throttle.block_sign_in(conn, key=key, until=now + timedelta(seconds=seconds))


def _check_locally(engine: Engine, email: str, password: str) -> dict[str, Any] | None:
    """The account when the password matches. Always one argon2 verification."""
    with read_conn(engine) as conn:
        account = store.load_account_for_sign_in(conn, email=email)
    local_hash = (
        account["password_hash"] if account and account["auth_provider"] == "local" else None
    )
    return account if verify_password(local_hash, password) else None


def _rehash_if_needed(account: dict[str, Any], password: str) -> str | None:
    if not needs_rehash(account["password_hash"]):
        return None
    try:
        return hash_password(password)
    except WeakPassword:  # set under an older policy: keep the old hash
        return None


def _supabase_authenticator(settings: Settings) -> PasswordAuthenticator:
    from auth.supabase_auth import SupabaseAuthenticator  # the SDK loads only when used

    assert settings.supabase_url and settings.supabase_anon_key
    return SupabaseAuthenticator(
        settings.supabase_url, settings.supabase_anon_key.get_secret_value()
    )


def _check_with_provider(
    engine: Engine, authenticator: PasswordAuthenticator, email: str, password: str
) -> tuple[dict[str, Any], str] | None:
    """(account, Supabase user id) when the provider accepts and an account matches."""
    identity = authenticator.authenticate(email, password)
    if identity is None:
        return None
    with read_conn(engine) as conn:
        account = store.load_account_for_sign_in(conn, external_auth_id=identity.user_id)
        if account is None:
            account = store.load_account_for_sign_in(conn, email=identity.email or email)
    if account is None or account["external_auth_id"] not in (None, identity.user_id):
        return None
    return account, identity.user_id


def _signed_in(account: dict[str, Any]) -> SignedIn:
    return SignedIn(
        account_id=int(account["id"]),
        business_id=int(account["business_id"]),
        role=Role(account["role"]),
        email=account["email"],
        display_name=account["display_name"],
        auth_provider=account["auth_provider"],
    )


# --- own password ---------------------------------------------------------------------


def change_own_password(
    engine: Engine,
    *,
    actor: Actor,
    current_password: str,
    new_password: str,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> None:
    """A signed-in local user changes their password. A wrong current password is a
    failed sign-in as far as the throttle is concerned."""
    settings = settings or load_settings()
    now = now or utcnow()
    with read_conn(engine) as conn:
        account = store.load_own_credentials(conn, actor=actor)
    if account["auth_provider"] != "local":
        raise store.InvalidAccount("This account signs in with Supabase; change it there.")
    key = store.email_key(account["email"])
    _refuse_while_blocked(engine, key=key, now=now)
    if not verify_password(account["password_hash"], current_password):
        _count_failure(engine, settings=settings, key=key, now=now)
        raise SignInError("The current password is incorrect.")
    if new_password == current_password:
        raise WeakPassword("The new password must differ from the current one.")
    new_hash = hash_password(new_password)
    with write_tx(engine) as conn:
        throttle.clear_sign_in_failures(conn, key=key)
        store.save_own_password(conn, actor=actor, password_hash=new_hash)
