"""Accounts: sign-in users with a role (the throttle is in data/sign_in_throttle.py).

Owner-facing functions take an `Actor` and stay inside `actor.business_id`. The
sign-in helpers at the bottom are pre-tenant by nature: sign-in is where we learn
the business. E-mails are stored normalised and lowercase, so equality is
case-insensitive. No function here returns or logs a password hash, except the
sign-in loaders, whose rows go straight to `auth.passwords.verify_password`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from auth.passwords import hash_password
from auth.roles import Actor, Permission, Role
from data.audit import record_audit
from data.schema import accounts
from data.types import utcnow

AUTH_PROVIDERS = ("local", "supabase")
MAX_DISPLAY_NAME = 200

#: Every column but the password hash: what owner-facing reads return.
PUBLIC_COLUMNS = tuple(c for c in accounts.c if c.name != "password_hash")


class DuplicateAccount(ValueError):
    """An account with this e-mail already exists (in any business)."""

    def __init__(self) -> None:
        super().__init__("An account with this e-mail already exists.")


class AccountNotFound(LookupError):
    """No such account in the actor's business."""

    def __init__(self) -> None:
        super().__init__("No such account in this business.")


class LastOwnerError(ValueError):
    """The change would leave the business without an active owner."""

    def __init__(self) -> None:
        super().__init__(
            "A business needs at least one active owner: make another account owner first."
        )


class InvalidAccount(ValueError):
    """An e-mail, display name, role or provider that cannot be stored."""


# --- validation (pure) ---------------------------------------------------------------


def normalize_email(email: str) -> str:
    """The stored form of an e-mail; raises InvalidAccount with the reason."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAccount(f"Enter a valid e-mail address. {exc}") from None
    return checked.normalized.lower()


def lookup_form(email: str) -> str:
    """The form to look an e-mail up by: normalised when valid, else trimmed and
    lowercased (sign-in never rejects input early, and rows seeded outside
    `create_account`, such as the demo's reserved `.test` domain, still match)."""
    try:
        return normalize_email(email)
    except InvalidAccount:
        return email.strip().lower()


def email_key(email: str) -> str:
    """sha256 hex of the normalised e-mail: the throttle's key (no PII stored)."""
    return hashlib.sha256(lookup_form(email).encode("utf-8")).hexdigest()


def _check_display_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_DISPLAY_NAME:
        raise InvalidAccount(f"A display name needs 1 to {MAX_DISPLAY_NAME} characters.")
    return name


def _check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise InvalidAccount(f"'{role}' is not a role; choose one of {choices}.") from None


def _password_hash_for(provider: str, password: str | None) -> str | None:
    if provider not in AUTH_PROVIDERS:
        raise InvalidAccount(f"'{provider}' is not a sign-in provider; use local or supabase.")
    if provider == "supabase":
        if password is not None:
            raise InvalidAccount("Supabase accounts sign in with their Supabase password.")
        return None
    if password is None:
        raise InvalidAccount("A local account needs a password.")
    return hash_password(password)  # raises WeakPassword with the policy's reason


# --- owner-facing ---------------------------------------------------------------------


def create_account(
    conn: Connection,
    *,
    actor: Actor,
    email: str,
    display_name: str,
    role: str,
    password: str | None,
    auth_provider: str = "local",
) -> int:
    """Create an account in the actor's business. Raises InvalidAccount, WeakPassword,
    DuplicateAccount; the caller's transaction rolls back on any of them."""
    actor.require(Permission.MANAGE_ACCOUNTS)
    values: dict[str, Any] = {
        "business_id": actor.business_id,
        "email": normalize_email(email),
        "display_name": _check_display_name(display_name),
        "role": _check_role(role).value,
        "auth_provider": auth_provider,
        "is_active": True,
    }
    password_hash = _password_hash_for(auth_provider, password)
    if _email_taken(conn, email=values["email"]):
        raise DuplicateAccount()
    now = utcnow()
    try:
        inserted = conn.execute(
            accounts.insert()
            .values(**values, password_hash=password_hash, created_at=now, updated_at=now)
            .returning(accounts.c.id)
        )
    except IntegrityError as exc:  # a concurrent insert won the race
        if "email" in str(exc.orig).lower():
            raise DuplicateAccount() from None
        raise
    account_id = int(inserted.scalar_one())
    record_audit(
        conn, actor=actor, action="create", entity="accounts", entity_id=account_id, after=values
    )
    return account_id


def _email_taken(conn: Connection, *, email: str) -> bool:
    query = sa.select(accounts.c.id).where(accounts.c.email == email)
    return conn.execute(query).first() is not None


def list_accounts(conn: Connection, *, actor: Actor) -> list[dict[str, Any]]:
    actor.require(Permission.MANAGE_ACCOUNTS)
    query = (
        sa.select(*PUBLIC_COLUMNS)
        .where(accounts.c.business_id == actor.business_id)
        .order_by(accounts.c.display_name, accounts.c.id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def count_accounts(conn: Connection, *, business_id: int) -> int:
    """Operators only (CLI): how many accounts a business has."""
    query = sa.select(sa.func.count()).where(accounts.c.business_id == business_id)
    return int(conn.execute(query).scalar_one())


def load_account(conn: Connection, *, actor: Actor, account_id: int) -> dict[str, Any]:
    """One account of the actor's business; anyone may load their own."""
    if account_id != actor.account_id:
        actor.require(Permission.MANAGE_ACCOUNTS)
    query = sa.select(*PUBLIC_COLUMNS).where(
        accounts.c.id == account_id, accounts.c.business_id == actor.business_id
    )
    row = conn.execute(query).mappings().first()
    if row is None:
        raise AccountNotFound()
    return dict(row)


def update_account(
    conn: Connection,
    *,
    actor: Actor,
    account_id: int,
    display_name: str | None = None,
    role: str | None = None,
    is_active: bool | None = None,
) -> bool:
    """Change name, role or active flag. Returns False when nothing changed."""
    actor.require(Permission.MANAGE_ACCOUNTS)
    before = load_account(conn, actor=actor, account_id=account_id)
    wanted: dict[str, Any] = {}
    if display_name is not None:
        wanted["display_name"] = _check_display_name(display_name)
    if role is not None:
        wanted["role"] = _check_role(role).value
    if is_active is not None:
        wanted["is_active"] = bool(is_active)
    changes = {k: v for k, v in wanted.items() if before[k] != v}
    if not changes:
        return False
    if changes.get("is_active") is False and account_id == actor.account_id:
        raise InvalidAccount("You cannot deactivate your own account; ask another owner.")
    after = {**before, **changes}
    if _is_active_owner(before) and not _is_active_owner(after):
        _require_another_active_owner(conn, business_id=actor.business_id, account_id=account_id)
    conn.execute(
        accounts.update().where(accounts.c.id == account_id).values(**changes, updated_at=utcnow())
    )
    record_audit(
        conn,
        actor=actor,
        action="update",
        entity="accounts",
        entity_id=account_id,
        before={k: before[k] for k in changes},
        after=changes,
    )
    return True


def _is_active_owner(account: Mapping[str, Any]) -> bool:
    return bool(account["is_active"]) and account["role"] == Role.OWNER.value


def _require_another_active_owner(conn: Connection, *, business_id: int, account_id: int) -> None:
    """Locks the business's active owners (PostgreSQL), so two owners demoting each
    other at once cannot both succeed; SQLite's BEGIN IMMEDIATE serialises anyway."""
    query = (
        sa.select(accounts.c.id)
        .where(
            accounts.c.business_id == business_id,
            accounts.c.role == Role.OWNER.value,
            accounts.c.is_active.is_(True),
        )
        .order_by(accounts.c.id)
        .with_for_update()
    )
    if not set(conn.execute(query).scalars()) - {account_id}:
        raise LastOwnerError()


def set_password(conn: Connection, *, actor: Actor, account_id: int, new_password: str) -> None:
    """An owner resets the password of a local account in their business."""
    actor.require(Permission.MANAGE_ACCOUNTS)
    account = load_account(conn, actor=actor, account_id=account_id)
    if account["auth_provider"] != "local":
        raise InvalidAccount("This account signs in with Supabase; reset its password there.")
    _write_password_hash(
        conn,
        actor=actor,
        account_id=account_id,
        password_hash=hash_password(new_password),
        action="set_password",
    )


def save_own_password(conn: Connection, *, actor: Actor, password_hash: str) -> None:
    """Store a new hash for the actor's own account (the caller checked the old one)."""
    if actor.account_id is None:
        raise AccountNotFound()
    _write_password_hash(
        conn,
        actor=actor,
        account_id=actor.account_id,
        password_hash=password_hash,
        action="change_password",
    )


def _write_password_hash(
    conn: Connection, *, actor: Actor, account_id: int, password_hash: str, action: str
) -> None:
    updated = conn.execute(
        accounts.update()
        .where(accounts.c.id == account_id, accounts.c.business_id == actor.business_id)
        .values(password_hash=password_hash, updated_at=utcnow())
    )
    if updated.rowcount != 1:
        raise AccountNotFound()
    record_audit(
        conn,
        actor=actor,
        action=action,
        entity="accounts",
        entity_id=account_id,
        before={"password": "old"},
        after={"password": "new"},  # the diff shows only that it changed
    )


# --- sign-in (pre-tenant) -------------------------------------------------------------


def load_account_for_sign_in(
    conn: Connection, *, email: str | None = None, external_auth_id: str | None = None
) -> dict[str, Any] | None:
    """The active account with this e-mail or Supabase user id, hash included."""
    if external_auth_id is not None:
        where = accounts.c.external_auth_id == external_auth_id
    elif email is not None:
        where = accounts.c.email == lookup_form(email)
    else:
        raise TypeError("pass email or external_auth_id")
    query = sa.select(accounts).where(where, accounts.c.is_active.is_(True))
    row = conn.execute(query).mappings().first()
    return None if row is None else dict(row)


def load_own_credentials(conn: Connection, *, actor: Actor) -> dict[str, Any]:
    """The actor's own active account, hash included (to check a current password)."""
    query = sa.select(accounts).where(
        accounts.c.id == actor.account_id,
        accounts.c.business_id == actor.business_id,
        accounts.c.is_active.is_(True),
    )
    row = conn.execute(query).mappings().first()
    if row is None:
        raise AccountNotFound()
    return dict(row)


def record_sign_in(
    conn: Connection,
    *,
    account: Mapping[str, Any],
    now: datetime,
    external_auth_id: str | None = None,
    password_hash: str | None = None,
) -> None:
    """Stamp last_sign_in_at; link a Supabase user id; store a rehashed password."""
    values: dict[str, Any] = {"last_sign_in_at": now}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if external_auth_id is not None and account["external_auth_id"] != external_auth_id:
        values["external_auth_id"] = external_auth_id
        before["external_auth_id"], after["external_auth_id"] = None, external_auth_id
    if password_hash is not None:
        values["password_hash"] = password_hash
        before["password"], after["password"] = "old", "rehashed"
    conn.execute(accounts.update().where(accounts.c.id == account["id"]).values(**values))
    actor = Actor.for_account(
        account_id=account["id"], business_id=account["business_id"], role=account["role"]
    )
    record_audit(
        conn,
        actor=actor,
        action="sign_in",
        entity="accounts",
        entity_id=account["id"],
        before=before,
        after=after,
    )
