"""auth.service on SQLite and PostgreSQL: sign-in, the growing delay, role gates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from auth.passwords import WeakPassword, hash_password, needs_rehash, verify_password
from auth.roles import Actor, PermissionDenied, Role
from auth.service import (
    GENERIC_FAILURE,
    SignedIn,
    SignInError,
    SignInThrottled,
    change_own_password,
    compute_block_seconds,
    compute_retry_after,
    sign_in,
)
from data import accounts as store
from data import sign_in_throttle as throttle
from data.db import read_conn, write_tx
from data.schema import accounts, audit_log
from settings import Settings
from tests.factories import TEST_PASSWORD, make_account

T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
EMAIL = "ada@example.com"


@pytest.fixture
def settings(engine: sa.Engine) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        sign_in_free_failures=3,
        sign_in_max_delay_seconds=10,
    )


@pytest.fixture
def account_id(engine: sa.Engine, business: int) -> int:
    with write_tx(engine) as conn:
        return make_account(conn, business, role="staff", email=EMAIL, display_name="Ada")


def _refusal(engine: sa.Engine, settings: Settings, email: str, password: str, now: datetime):
    with pytest.raises(SignInError) as caught:
        sign_in(engine, settings=settings, email=email, password=password, now=now)
    return caught.value


def test_success_returns_the_account_and_stamps_it(
    engine: sa.Engine, settings: Settings, business: int, account_id: int
) -> None:
    who = sign_in(
        engine, settings=settings, email=" ADA@example.com", password=TEST_PASSWORD, now=T0
    )
    assert who == SignedIn(
        account_id=account_id,
        business_id=business,
        role=Role.STAFF,
        email=EMAIL,
        display_name="Ada",
        auth_provider="local",
    )
    assert who.actor.label == f"account:{account_id}"
    with read_conn(engine) as conn:
        stamped = conn.execute(
            sa.select(accounts.c.last_sign_in_at).where(accounts.c.id == account_id)
        ).scalar_one()
        actions = set(conn.execute(sa.select(audit_log.c.action)).scalars())
    assert stamped == T0
    assert "sign_in" in actions


def test_rows_seeded_outside_create_account_can_sign_in(
    engine: sa.Engine, settings: Settings, business: int
) -> None:
    """The demo seeds its accounts directly, on the reserved .test domain."""
    now = datetime.now(UTC)
    with write_tx(engine) as conn:
        conn.execute(
            accounts.insert().values(
                business_id=business,
                email="owner@demo.slotboard.test",
                display_name="Demo owner",
                role="owner",
                password_hash=hash_password(TEST_PASSWORD),
                created_at=now,
                updated_at=now,
            )
        )
    who = sign_in(
        engine, settings=settings, email="Owner@Demo.Slotboard.test", password=TEST_PASSWORD
    )
    assert who.role is Role.OWNER


def test_wrong_password_unknown_email_and_inactive_look_the_same(
    engine: sa.Engine, settings: Settings, business: int, account_id: int
) -> None:
    with write_tx(engine) as conn:
        gone = make_account(conn, business, role="analyst", email="gone@example.com")
        store.update_account(
            conn, actor=Actor.operator(business_id=business), account_id=gone, is_active=False
        )
    refusals = [
        _refusal(engine, settings, EMAIL, "wrong password!", T0),
        _refusal(engine, settings, "nobody@example.com", TEST_PASSWORD, T0),
        _refusal(engine, settings, "gone@example.com", TEST_PASSWORD, T0),
        _refusal(engine, settings, "not an e-mail", TEST_PASSWORD, T0),
    ]
    assert {type(r) for r in refusals} == {SignInError}
    assert {str(r) for r in refusals} == {GENERIC_FAILURE}
    assert all(TEST_PASSWORD not in str(r) for r in refusals)


def test_delay_grows_blocks_even_the_right_password_then_success_resets(
    engine: sa.Engine, settings: Settings, account_id: int
) -> None:
    now = T0
    for _ in range(3):  # the free failures
        assert type(_refusal(engine, settings, EMAIL, "wrong password!", now)) is SignInError
        now += timedelta(seconds=1)
    assert type(_refusal(engine, settings, EMAIL, "wrong password!", now)) is SignInError
    blocked = _refusal(engine, settings, EMAIL, TEST_PASSWORD, now + timedelta(seconds=1))
    assert isinstance(blocked, SignInThrottled) and blocked.retry_after_seconds == 1
    assert str(blocked) == "Too many failed sign-ins. Try again in 1 seconds."
    # a blocked attempt does not extend the block
    now += timedelta(seconds=2)
    assert type(_refusal(engine, settings, EMAIL, "wrong password!", now)) is SignInError
    blocked = _refusal(engine, settings, EMAIL, TEST_PASSWORD, now)
    assert isinstance(blocked, SignInThrottled) and blocked.retry_after_seconds == 4
    now += timedelta(seconds=4)
    assert sign_in(engine, settings=settings, email=EMAIL, password=TEST_PASSWORD, now=now)
    for _ in range(2):  # reset: without it the first failure would block the second try
        assert type(_refusal(engine, settings, EMAIL, "wrong password!", now)) is SignInError


def test_delay_is_capped(engine: sa.Engine, settings: Settings, account_id: int) -> None:
    settings = settings.model_copy(
        update={"sign_in_free_failures": 1, "sign_in_max_delay_seconds": 5}
    )
    now, retries = T0, []
    for _ in range(5):
        assert type(_refusal(engine, settings, EMAIL, "wrong password!", now)) is SignInError
        with read_conn(engine) as conn:
            blocked_until = throttle.load_blocked_until(conn, key=store.email_key(EMAIL))
        retries.append(compute_retry_after(blocked_until, now=now))
        now += timedelta(seconds=settings.sign_in_max_delay_seconds)
    assert retries == [0, 2, 4, 5, 5]


def test_throttle_applies_to_unknown_emails(engine: sa.Engine, settings: Settings) -> None:
    for _ in range(4):
        assert (
            type(_refusal(engine, settings, "ghost@example.com", "guess-guess", T0)) is SignInError
        )
    blocked = _refusal(engine, settings, "GHOST@example.com", "guess-guess", T0)
    assert isinstance(blocked, SignInThrottled)
    other = _refusal(engine, settings, "someone-else@example.com", "guess-guess", T0)
    assert type(other) is SignInError  # the block is per e-mail


def test_old_hash_parameters_are_upgraded_on_sign_in(
    engine: sa.Engine, settings: Settings, account_id: int
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(TEST_PASSWORD)
    with write_tx(engine) as conn:
        conn.execute(
            accounts.update().where(accounts.c.id == account_id).values(password_hash=weak)
        )
    sign_in(engine, settings=settings, email=EMAIL, password=TEST_PASSWORD, now=T0)
    with read_conn(engine) as conn:
        stored = conn.execute(
            sa.select(accounts.c.password_hash).where(accounts.c.id == account_id)
        ).scalar_one()
    assert stored != weak and not needs_rehash(stored)
    assert verify_password(stored, TEST_PASSWORD)


def test_change_own_password(
    engine: sa.Engine, settings: Settings, business: int, account_id: int
) -> None:
    me = Actor.for_account(account_id=account_id, business_id=business, role="staff")
    with pytest.raises(SignInError, match="current password is incorrect"):
        change_own_password(
            engine,
            actor=me,
            current_password="wrong password!",
            new_password="brand new secret",
            settings=settings,
            now=T0,
        )
    with pytest.raises(WeakPassword):
        change_own_password(
            engine,
            actor=me,
            current_password=TEST_PASSWORD,
            new_password="short",
            settings=settings,
            now=T0,
        )
    change_own_password(
        engine,
        actor=me,
        current_password=TEST_PASSWORD,
        new_password="brand new secret",
        settings=settings,
        now=T0,
    )
    assert sign_in(engine, settings=settings, email=EMAIL, password="brand new secret", now=T0)
    assert type(_refusal(engine, settings, EMAIL, TEST_PASSWORD, T0)) is SignInError
    with read_conn(engine) as conn:
        diff = conn.execute(
            sa.select(audit_log.c.diff).where(audit_log.c.action == "change_password")
        ).scalar_one()
    assert diff == {"password": ["***", "***"]}


def test_block_and_retry_arithmetic() -> None:
    delays = [
        compute_block_seconds(n, free_failures=3, max_delay_seconds=900) for n in range(1, 16)
    ]
    assert delays == [0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
    assert compute_block_seconds(10_000, free_failures=3, max_delay_seconds=900) == 900
    assert compute_retry_after(None, now=T0) == 0
    assert compute_retry_after(T0, now=T0) == 0
    assert compute_retry_after(T0 + timedelta(milliseconds=1), now=T0) == 1
    assert compute_retry_after(T0 + timedelta(seconds=7.2), now=T0) == 8


@pytest.mark.parametrize("role", ["staff", "analyst"])
def test_only_owners_manage_accounts(
    engine: sa.Engine, business: int, account_id: int, role: str
) -> None:
    actor = Actor.for_account(account_id=account_id, business_id=business, role=role)
    calls = [
        lambda conn: store.create_account(
            conn,
            actor=actor,
            email="x@example.com",
            display_name="X",
            role="owner",
            password=TEST_PASSWORD,
        ),
        lambda conn: store.update_account(conn, actor=actor, account_id=account_id, role="owner"),
        lambda conn: store.set_password(
            conn, actor=actor, account_id=account_id, new_password="brand new secret"
        ),
        lambda conn: store.list_accounts(conn, actor=actor),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied), write_tx(engine) as conn:
            call(conn)
    with read_conn(engine) as conn:
        assert conn.execute(sa.select(accounts.c.role)).scalars().all() == ["staff"]
