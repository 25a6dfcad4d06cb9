"""Migrations from empty to head on SQLite and PostgreSQL, matching data/schema.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from data.db import make_engine
from data.migrate import migration_state, upgrade_to_head
from data.schema import appointments, metadata
from tests.factories import make_business, make_customer, make_service, make_staff
from tests.pg import fresh_pg_database

EXPECTED_TABLES = {
    "businesses", "accounts", "sign_in_throttle", "staff", "services", "staff_services",
    "working_hours", "time_off", "customers", "appointments", "analytics_events",
    "ai_suggestions", "notification_templates", "campaigns", "notifications",
    "churn_scores", "forecast_runs", "audit_log",
}  # fmt: skip


def _assert_matches_schema(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"migrations and data/schema.py disagree: {diff}"
    assert EXPECTED_TABLES <= set(sa.inspect(engine).get_table_names())


def test_sqlite_empty_to_head(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    assert migration_state(engine).current is None
    state = upgrade_to_head(engine)
    assert state.is_current
    _assert_matches_schema(engine)
    assert upgrade_to_head(engine).is_current  # idempotent
    with engine.connect() as conn:  # the CHECK constraints survived every migration
        ddl = conn.exec_driver_sql(
            "select sql from sqlite_master where name = 'appointments'"
        ).scalar_one()
    assert "ck_appointments_status" in ddl and "ck_appointments_ends_after_start" in ddl


@pytest.mark.postgres
def test_postgresql_empty_to_head() -> None:
    with fresh_pg_database() as url:
        engine = make_engine(url)
        try:
            assert not migration_state(engine).is_current
            assert upgrade_to_head(engine).is_current
            _assert_matches_schema(engine)
            with engine.connect() as conn:
                names = conn.exec_driver_sql(
                    "select conname from pg_constraint where contype = 'x'"
                ).scalars()
                assert "ex_appointments_no_overlap" in set(names)
        finally:
            engine.dispose()


def _appointment(ids: dict, start: datetime, minutes: int, status: str = "booked") -> dict:
    now = datetime.now(UTC)
    return {
        **ids,
        "starts_at": start,
        "ends_at": start + timedelta(minutes=minutes),
        "status": status,
        "price_cents": 4500,
        "created_at": now,
        "updated_at": now,
    }


@pytest.mark.postgres
def test_exclusion_constraint_rejects_overlap_and_allows_touching(pg_engine: sa.Engine) -> None:
    with pg_engine.begin() as conn:
        business_id = make_business(conn)
        ids = {
            "business_id": business_id,
            "staff_id": make_staff(conn, business_id),
            "service_id": make_service(conn, business_id),
            "customer_id": make_customer(conn, business_id),
        }
        nine = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        conn.execute(appointments.insert(), [_appointment(ids, nine, 60)])
        # Touching the edge is fine: [09:00, 10:00) and [10:00, 10:30) don't overlap.
        conn.execute(appointments.insert(), [_appointment(ids, nine + timedelta(hours=1), 30)])
        # A cancelled appointment never blocks the slot.
        conn.execute(appointments.insert(), [_appointment(ids, nine, 60, status="cancelled")])

    with pytest.raises(sa.exc.IntegrityError, match="ex_appointments_no_overlap"):
        with pg_engine.begin() as conn:
            conn.execute(
                appointments.insert(), [_appointment(ids, nine + timedelta(minutes=30), 60)]
            )
    with pg_engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(appointments)).scalar_one()
    assert count == 3
