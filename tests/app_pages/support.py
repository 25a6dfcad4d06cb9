"""AppTest support: a migrated SQLite database with one business and a user per role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from auth.roles import Actor, Role
from auth.service import SignedIn
from data.accounts import create_account
from data.db import make_engine, write_tx
from data.migrate import upgrade_to_head
from tests.factories import make_business
from ui.session import USER_KEY

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PASSWORD = "correct horse battery"
TIMEOUT = 60


@dataclass(frozen=True)
class AppDb:
    url: str
    engine: sa.Engine
    business_id: int
    users: dict[Role, SignedIn]


def make_app_db(url: str) -> AppDb:
    engine = make_engine(url)
    upgrade_to_head(engine)
    users = {}
    with write_tx(engine) as conn:
        business_id = make_business(conn, name="Test Salon Mitte")
        operator = Actor.operator(business_id=business_id)
        for role in Role:
            email = f"{role.value}@example.com"
            account_id = create_account(
                conn, actor=operator, email=email, display_name=f"The {role.value}",
                role=role.value, password=PASSWORD,
            )  # fmt: skip
            users[role] = SignedIn(
                account_id, business_id, role, email, f"The {role.value}", "local"
            )
    return AppDb(url, engine, business_id, users)


def add_role_users(engine: sa.Engine, prefix: str, business_id: int = 1) -> dict[Role, SignedIn]:
    """One signed-in user per role for an existing business (a seeded demo, say):
    accounts "{prefix}-{role}@example.com" with PASSWORD."""
    users = {}
    with write_tx(engine) as conn:
        for role in Role:
            email = f"{prefix}-{role.value}@example.com"
            account = create_account(
                conn, actor=Actor.operator(business_id=business_id), email=email,
                display_name=role.value, role=role.value, password=PASSWORD,
            )  # fmt: skip
            users[role] = SignedIn(account, business_id, role, email, role.value, "local")
    return users


def open_app(user: SignedIn | None = None, *, page: str | None = None) -> AppTest:
    """The whole app (or one page file) as `user`, not yet run."""
    at = AppTest.from_file(str(ROOT / page) if page else APP, default_timeout=TIMEOUT)
    if user is not None:
        at.session_state[USER_KEY] = user
    return at
