"""The sign-in throttle: failed attempts per e-mail *hash*, for the growing delay.

Pre-tenant by nature (we must not reveal whether an account exists), so keyed by the
sha256 of the normalised e-mail (`data.accounts.email_key`), never the e-mail itself.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from data.schema import sign_in_throttle


def load_blocked_until(conn: Connection, *, key: str) -> datetime | None:
    query = sa.select(sign_in_throttle.c.blocked_until).where(sign_in_throttle.c.key == key)
    return conn.execute(query).scalar_one_or_none()


def count_sign_in_failure(
    conn: Connection, *, key: str, now: datetime, forget_before: datetime
) -> int:
    """Add one failure for this key and return the count. Failures last seen before
    `forget_before` are forgotten. One upsert, safe under concurrency on both engines."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    first = insert(sign_in_throttle).values(key=key, failures=1, last_failure_at=now)
    stale = sign_in_throttle.c.last_failure_at < forget_before
    upsert = first.on_conflict_do_update(
        index_elements=[sign_in_throttle.c.key],
        set_={
            "failures": sa.case((stale, 1), else_=sign_in_throttle.c.failures + 1),
            "last_failure_at": first.excluded.last_failure_at,
        },
    )
    return int(conn.execute(upsert.returning(sign_in_throttle.c.failures)).scalar_one())


def block_sign_in(conn: Connection, *, key: str, until: datetime) -> None:
    conn.execute(
        sign_in_throttle.update().where(sign_in_throttle.c.key == key).values(blocked_until=until)
    )


def clear_sign_in_failures(conn: Connection, *, key: str) -> None:
    conn.execute(sign_in_throttle.delete().where(sign_in_throttle.c.key == key))
