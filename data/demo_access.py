"""Which demo sign-ins still work: shown on the sign-in page only while the demo is the data."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from auth.passwords import verify_password
from data.demo import DEMO_ACCOUNTS, DEMO_SLUG, DemoAccount
from data.schema import accounts, businesses


def load_demo_sign_ins(conn: Connection) -> list[DemoAccount]:
    """Demo accounts whose published password still works, if only the demo business exists.

    As soon as a real business is added, or a demo password is changed, the page stops
    showing it: published credentials must never point at real data.
    """
    real = conn.execute(
        sa.select(sa.func.count()).select_from(businesses).where(businesses.c.is_demo.is_(False))
    ).scalar_one()
    demo_id = conn.execute(
        sa.select(businesses.c.id).where(businesses.c.slug == DEMO_SLUG, businesses.c.is_demo)
    ).scalar_one_or_none()
    if real or demo_id is None:
        return []
    rows = conn.execute(
        sa.select(accounts.c.email, accounts.c.password_hash).where(
            accounts.c.business_id == demo_id,
            accounts.c.is_active,
            accounts.c.email.in_([a.email for a in DEMO_ACCOUNTS]),
        )
    )
    hashes = {row.email: row.password_hash for row in rows}
    return [a for a in DEMO_ACCOUNTS if verify_password(hashes.get(a.email), a.password)]
