"""Test factories: real rows through the real data layer where it exists."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from auth.roles import Actor
from data.accounts import create_account
from data.business import create_business
from data.schema import customers, services, staff
from scheduling.business import BusinessSettings

_counter = itertools.count(1)


def _now() -> datetime:
    return datetime.now(UTC)


def make_business(conn: Connection, *, name: str | None = None, tz: str = "Europe/Berlin") -> int:
    n = next(_counter)
    settings = BusinessSettings(
        name=name or f"Test Salon {n}", timezone=tz, country="DE", currency="EUR"
    )
    return create_business(conn, settings=settings, slug=f"test-salon-{n}")


def make_staff(conn: Connection, business_id: int, *, name: str | None = None) -> int:
    values = {
        "business_id": business_id,
        "display_name": name or f"Stylist {next(_counter)}",
        "created_at": _now(),
        "updated_at": _now(),
    }
    return int(conn.execute(staff.insert().values(**values)).inserted_primary_key[0])


def make_service(conn: Connection, business_id: int, *, name: str | None = None) -> int:
    values = {
        "business_id": business_id,
        "name": name or f"Cut {next(_counter)}",
        "duration_min": 45,
        "buffer_min": 15,
        "price_cents": 4500,
        "created_at": _now(),
        "updated_at": _now(),
    }
    return int(conn.execute(services.insert().values(**values)).inserted_primary_key[0])


def make_customer(conn: Connection, business_id: int, *, first_name: str = "Ada") -> int:
    values = {
        "business_id": business_id,
        "first_name": first_name,
        "last_name": f"Test{next(_counter)}",
        "created_at": _now(),
        "updated_at": _now(),
    }
    return int(conn.execute(customers.insert().values(**values)).inserted_primary_key[0])


# --- accounts (appended by the accounts/sign-in work) -----------------------------------

TEST_PASSWORD = "correct horse battery"


def make_account(
    conn: Connection,
    business_id: int,
    *,
    role: str = "owner",
    email: str | None = None,
    password: str | None = TEST_PASSWORD,
    auth_provider: str = "local",
    display_name: str | None = None,
) -> int:
    """An account created through the real data layer, by an operator."""
    n = next(_counter)
    return create_account(
        conn,
        actor=Actor.operator(business_id=business_id),
        email=email or f"user{n}@example.com",
        display_name=display_name or f"User {n}",
        role=role,
        password=None if auth_provider == "supabase" else password,
        auth_provider=auth_provider,
    )
