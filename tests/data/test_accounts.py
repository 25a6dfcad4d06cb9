"""data.accounts on SQLite and PostgreSQL: validation, duplicates, owners, tenancy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from auth.passwords import WeakPassword, verify_password
from auth.roles import Actor
from data import accounts as store
from data import sign_in_throttle as throttle
from data.db import read_conn, write_tx
from data.schema import accounts, audit_log, sign_in_throttle
from tests.factories import TEST_PASSWORD, make_account, make_business

NEW_PASSWORD = "another long secret"


def _owner(conn: sa.Connection, business_id: int, **kwargs: object) -> Actor:
    account_id = make_account(conn, business_id, role="owner", **kwargs)  # type: ignore[arg-type]
    return Actor.for_account(account_id=account_id, business_id=business_id, role="owner")


def _counts(engine: sa.Engine) -> tuple[int, int]:
    with read_conn(engine) as conn:
        n_accounts = conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one()
        n_audit = conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one()
    return n_accounts, n_audit


def _raw_rows(engine: sa.Engine, business_id: int) -> list[dict]:
    with read_conn(engine) as conn:
        query = sa.select(accounts).where(accounts.c.business_id == business_id)
        return [dict(r) for r in conn.execute(query.order_by(accounts.c.id)).mappings()]


@pytest.fixture
def owner(engine: sa.Engine, business: int) -> Actor:
    with write_tx(engine) as conn:
        return _owner(conn, business, email="owner@example.com")


def test_create_normalises_hashes_and_audits(engine: sa.Engine, owner: Actor) -> None:
    with write_tx(engine) as conn:
        account_id = store.create_account(
            conn,
            actor=owner,
            email="  Ada.Lovelace@Example.COM ",
            display_name=" Ada ",
            role="staff",
            password=TEST_PASSWORD,
        )
    with read_conn(engine) as conn:
        loaded = store.load_account(conn, actor=owner, account_id=account_id)
        listed = store.list_accounts(conn, actor=owner)
        entry = (
            conn.execute(
                sa.select(audit_log).where(
                    audit_log.c.entity == "accounts", audit_log.c.entity_id == str(account_id)
                )
            )
            .mappings()
            .one()
        )
    assert loaded["email"] == "ada.lovelace@example.com"
    assert loaded["display_name"] == "Ada"
    assert loaded["role"] == "staff" and loaded["is_active"] and loaded["auth_provider"] == "local"
    assert "password_hash" not in loaded
    assert all("password_hash" not in row for row in listed)
    assert {row["id"] for row in listed} == {owner.account_id, account_id}
    stored = _raw_rows(engine, owner.business_id)[-1]["password_hash"]
    assert stored.startswith("$argon2id$") and verify_password(stored, TEST_PASSWORD)
    assert entry["action"] == "create" and entry["actor"] == owner.label
    assert "password_hash" not in entry["diff"] and stored not in str(entry["diff"])
    assert entry["diff"]["email"] == [None, "ada.lovelace@example.com"]


@pytest.mark.parametrize(
    ("field", "value", "error", "message"),
    [
        ("email", "not-an-email", store.InvalidAccount, "valid e-mail"),
        ("email", "ada@localhost", store.InvalidAccount, "valid e-mail"),
        ("role", "admin", store.InvalidAccount, "'admin' is not a role"),
        ("display_name", "   ", store.InvalidAccount, "display name"),
        ("password", "short", WeakPassword, "at least"),
        ("password", None, store.InvalidAccount, "needs a password"),
        ("auth_provider", "ldap", store.InvalidAccount, "not a sign-in provider"),
    ],
)
def test_invalid_input_is_refused_with_a_message(
    engine: sa.Engine, owner: Actor, field: str, value: object, error: type, message: str
) -> None:
    values: dict = {
        "email": "new@example.com",
        "display_name": "New",
        "role": "analyst",
        "password": TEST_PASSWORD,
        field: value,
    }
    before = _counts(engine)
    with pytest.raises(error, match=message), write_tx(engine) as conn:
        store.create_account(conn, actor=owner, **values)
    assert _counts(engine) == before


def test_supabase_accounts_have_no_password_hash(engine: sa.Engine, owner: Actor) -> None:
    with write_tx(engine) as conn:
        account_id = store.create_account(
            conn,
            actor=owner,
            email="cloud@example.com",
            display_name="Cloud",
            role="analyst",
            password=None,
            auth_provider="supabase",
        )
        with pytest.raises(store.InvalidAccount, match="Supabase"):
            store.create_account(
                conn,
                actor=owner,
                email="cloud2@example.com",
                display_name="Cloud 2",
                role="analyst",
                password=TEST_PASSWORD,
                auth_provider="supabase",
            )
    row = next(r for r in _raw_rows(engine, owner.business_id) if r["id"] == account_id)
    assert row["password_hash"] is None and row["auth_provider"] == "supabase"


def test_duplicate_email_in_another_case_or_business_writes_nothing(
    engine: sa.Engine, owner: Actor
) -> None:
    with write_tx(engine) as conn:
        other = _owner(conn, make_business(conn))
    before = _counts(engine)
    for actor in (owner, other):
        with (
            pytest.raises(store.DuplicateAccount, match="already exists"),
            write_tx(engine) as conn,
        ):
            store.create_account(
                conn,
                actor=actor,
                email="OWNER@example.COM",
                display_name="Impostor",
                role="staff",
                password=TEST_PASSWORD,
            )
    assert _counts(engine) == before


def test_update_changes_name_and_role_and_audits(engine: sa.Engine, owner: Actor) -> None:
    with write_tx(engine) as conn:
        staff_id = make_account(conn, owner.business_id, role="staff")
    with write_tx(engine) as conn:
        assert store.update_account(
            conn, actor=owner, account_id=staff_id, display_name="Bea", role="analyst"
        )
        assert not store.update_account(conn, actor=owner, account_id=staff_id, role="analyst")
    with read_conn(engine) as conn:
        loaded = store.load_account(conn, actor=owner, account_id=staff_id)
        diff = conn.execute(
            sa.select(audit_log.c.diff).where(audit_log.c.action == "update")
        ).scalar_one()
    assert (loaded["display_name"], loaded["role"]) == ("Bea", "analyst")
    assert diff["role"] == ["staff", "analyst"]


def test_update_refuses_an_invalid_role(engine: sa.Engine, owner: Actor) -> None:
    with pytest.raises(store.InvalidAccount, match="not a role"), write_tx(engine) as conn:
        store.update_account(conn, actor=owner, account_id=owner.account_id, role="root")


def test_last_active_owner_cannot_be_demoted_or_deactivated(
    engine: sa.Engine, owner: Actor
) -> None:
    operator = Actor.operator(business_id=owner.business_id)
    with write_tx(engine) as conn:
        inactive_owner = make_account(conn, owner.business_id, role="owner")
        store.update_account(conn, actor=operator, account_id=inactive_owner, is_active=False)
    for change in ({"role": "staff"}, {"is_active": False}):
        with pytest.raises(store.LastOwnerError, match="at least one active owner"):
            with write_tx(engine) as conn:
                store.update_account(conn, actor=operator, account_id=owner.account_id, **change)
    with read_conn(engine) as conn:
        still = store.load_account(conn, actor=owner, account_id=owner.account_id)
    assert still["role"] == "owner" and still["is_active"]


def test_with_two_owners_one_may_demote_the_other_but_not_the_last(
    engine: sa.Engine, owner: Actor
) -> None:
    with write_tx(engine) as conn:
        second = _owner(conn, owner.business_id)
    with write_tx(engine) as conn:
        assert store.update_account(conn, actor=owner, account_id=second.account_id, role="staff")
    with pytest.raises(store.LastOwnerError), write_tx(engine) as conn:
        store.update_account(conn, actor=owner, account_id=owner.account_id, role="analyst")


def test_an_owner_may_not_deactivate_themselves(engine: sa.Engine, owner: Actor) -> None:
    with write_tx(engine) as conn:
        _owner(conn, owner.business_id)
    with pytest.raises(store.InvalidAccount, match="your own account"), write_tx(engine) as conn:
        store.update_account(conn, actor=owner, account_id=owner.account_id, is_active=False)


def test_set_password_replaces_the_hash_and_audits_without_it(
    engine: sa.Engine, owner: Actor
) -> None:
    with write_tx(engine) as conn:
        staff_id = make_account(conn, owner.business_id, role="staff")
    with write_tx(engine) as conn:
        store.set_password(conn, actor=owner, account_id=staff_id, new_password=NEW_PASSWORD)
    row = next(r for r in _raw_rows(engine, owner.business_id) if r["id"] == staff_id)
    assert verify_password(row["password_hash"], NEW_PASSWORD)
    assert not verify_password(row["password_hash"], TEST_PASSWORD)
    with read_conn(engine) as conn:
        diff = conn.execute(
            sa.select(audit_log.c.diff).where(audit_log.c.action == "set_password")
        ).scalar_one()
    assert diff == {"password": ["***", "***"]}
    with pytest.raises(WeakPassword), write_tx(engine) as conn:
        store.set_password(conn, actor=owner, account_id=staff_id, new_password="tiny")


def test_staff_may_load_only_their_own_account(engine: sa.Engine, owner: Actor) -> None:
    with write_tx(engine) as conn:
        staff_id = make_account(conn, owner.business_id, role="staff")
    staff = Actor.for_account(account_id=staff_id, business_id=owner.business_id, role="staff")
    with read_conn(engine) as conn:
        assert store.load_account(conn, actor=staff, account_id=staff_id)["role"] == "staff"
        with pytest.raises(PermissionError):
            store.load_account(conn, actor=staff, account_id=owner.account_id)


def test_an_owner_cannot_reach_another_business(engine: sa.Engine, owner: Actor) -> None:
    with write_tx(engine) as conn:
        other_business = make_business(conn)
        theirs = make_account(conn, other_business, role="owner", email="them@example.com")
        make_account(conn, other_business, role="staff")
    untouched = _raw_rows(engine, other_business)
    with read_conn(engine) as conn:
        assert all(
            r["business_id"] == owner.business_id for r in store.list_accounts(conn, actor=owner)
        )
        with pytest.raises(store.AccountNotFound):
            store.load_account(conn, actor=owner, account_id=theirs)
    attempts = [
        lambda conn: store.update_account(conn, actor=owner, account_id=theirs, role="staff"),
        lambda conn: store.update_account(conn, actor=owner, account_id=theirs, is_active=False),
        lambda conn: store.set_password(
            conn, actor=owner, account_id=theirs, new_password=NEW_PASSWORD
        ),
    ]
    for attempt in attempts:
        with pytest.raises(store.AccountNotFound), write_tx(engine) as conn:
            attempt(conn)
    assert _raw_rows(engine, other_business) == untouched


def test_count_accounts_per_business(engine: sa.Engine, owner: Actor) -> None:
    with write_tx(engine) as conn:
        other = make_business(conn)
        assert store.count_accounts(conn, business_id=owner.business_id) == 1
        assert store.count_accounts(conn, business_id=other) == 0


def test_throttle_rows_count_forget_and_clear(engine: sa.Engine) -> None:
    key = store.email_key(" Someone@Example.com")
    assert key == store.email_key("someone@example.com") and len(key) == 64
    start = datetime(2030, 1, 1, tzinfo=UTC)
    with write_tx(engine) as conn:
        counts = [
            throttle.count_sign_in_failure(
                conn, key=key, now=start + timedelta(minutes=i), forget_before=start
            )
            for i in range(3)
        ]
        throttle.block_sign_in(conn, key=key, until=start + timedelta(seconds=8))
        assert throttle.load_blocked_until(conn, key=key) == start + timedelta(seconds=8)
        later = start + timedelta(days=2)
        fresh = throttle.count_sign_in_failure(
            conn, key=key, now=later, forget_before=later - timedelta(days=1)
        )
    assert counts == [1, 2, 3] and fresh == 1
    with write_tx(engine) as conn:
        stored_keys = list(conn.execute(sa.select(sign_in_throttle.c.key)).scalars())
        throttle.clear_sign_in_failures(conn, key=key)
        assert throttle.load_blocked_until(conn, key=key) is None
    assert stored_keys == [key]  # only the hash: no e-mail stored
