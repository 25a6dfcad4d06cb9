"""An owner of business A can neither see nor change anything of business B.

Every data function that takes an `actor` gets a probe below. The probe acts as A's
owner (the strongest role) and aims at B's rows; afterwards B's rows must be exactly
as they were. `test_every_actor_function_is_probed` fails when a new function with an
`actor` parameter appears in a probed module without a probe: add one with `@probe(fn)`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from analytics.report import ReportFilter
from auth.roles import Actor
from data import accounts as accounts_data
from data import agenda, analytics_events, audit, booking_queries, business, catalog
from data import analytics as analytics_data
from data import customers as customers_data
from data import exports as exports_data
from data import forecasts as forecasts_data
from data.accounts import AccountNotFound
from data.business import NotFound
from data.db import read_conn, write_tx
from data.schema import (
    accounts,
    appointments,
    audit_log,
    businesses,
    customers,
    services,
    staff,
    staff_services,
    time_off,
    working_hours,
)
from scheduling.business import BookingPolicySettings, BusinessSettings
from scheduling.catalog import ServiceInput, Shift, StaffInput, TimeOffInput
from scheduling.customers import CustomerInput
from tests.factories import make_account, make_business

PROBED_MODULES: tuple[ModuleType, ...] = (
    catalog, business, audit, accounts_data, agenda, booking_queries, customers_data,
    analytics_data, analytics_events, exports_data, forecasts_data,
)  # fmt: skip
TENANT_TABLES = (businesses, accounts, staff, services, staff_services, working_hours, time_off,
                 appointments, customers, audit_log)  # fmt: skip
TZ = "Europe/Berlin"


@dataclass(frozen=True)
class World:
    a: Actor  # the owner of A: every probe acts as this actor
    b: Actor
    a_staff: int
    a_service: int
    a_time_off: int
    b_staff: int
    b_service: int
    b_time_off: int
    b_closure: int  # whole-business time off of B
    a_account: int
    b_account: int
    a_customer: int
    b_customer: int


def _populate(conn: Connection, owner: Actor, prefix: str) -> tuple[int, int, int]:
    service_id = catalog.create_service(
        conn, actor=owner, data=ServiceInput(name=f"{prefix} cut", duration_min=30, price=30)
    )
    staff_id = catalog.create_staff(
        conn,
        actor=owner,
        data=StaffInput(display_name=f"{prefix} stylist", service_ids=[service_id]),
    )
    catalog.save_working_hours(
        conn, actor=owner, staff_id=staff_id, shifts=[Shift(weekday=0, start=time(9), end=time(17))]
    )
    off = TimeOffInput(
        staff_id=staff_id,
        start_local=datetime(2026, 7, 1),
        end_local=datetime(2026, 7, 8),
        reason=f"{prefix} holiday",
    )
    time_off_id = catalog.create_time_off(conn, actor=owner, data=off, timezone=TZ)
    return staff_id, service_id, time_off_id


@pytest.fixture
def world(engine: Engine) -> World:
    with write_tx(engine) as conn:
        a = Actor.operator(business_id=make_business(conn, name="Salon A"), label="owner:a")
        b = Actor.operator(business_id=make_business(conn, name="Salon B"), label="owner:b")
        a_ids = _populate(conn, a, "A")
        b_ids = _populate(conn, b, "B")
        closure = TimeOffInput(start_local=datetime(2026, 12, 24), end_local=datetime(2026, 12, 27))
        b_closure = catalog.create_time_off(conn, actor=b, data=closure, timezone=TZ)
        audit.record_audit(conn, actor=b, action="secret", entity="b_only", entity_id="x")
        a_account = make_account(conn, a.business_id, email="owner@a-salon.example.com")
        b_account = make_account(conn, b.business_id, email="owner@b-salon.example.com")
        for owner, (staff_id, service_id, _) in ((a, a_ids), (b, b_ids)):
            _book(conn, owner.business_id, staff_id, service_id)
        a_customer, b_customer = (
            customers_data.create_customer(conn, actor=owner, data=_customer(name))
            for owner, name in ((a, "Ada"), (b, "Bea"))
        )
    a = Actor.for_account(account_id=a_account, business_id=a.business_id, role="owner")
    return World(a, b, *a_ids, *b_ids, b_closure, a_account, b_account, a_customer, b_customer)


def _customer(first_name: str, phone: str = "+4915112345678") -> CustomerInput:
    return CustomerInput(first_name=first_name, last_name="Shared", phone=phone)


APPOINTMENT_AT = datetime(2026, 7, 20, 9, tzinfo=UTC)


def _book(conn: Connection, business_id: int, staff_id: int, service_id: int) -> None:
    conn.execute(
        appointments.insert().values(
            business_id=business_id, staff_id=staff_id, service_id=service_id,
            starts_at=APPOINTMENT_AT, ends_at=APPOINTMENT_AT.replace(hour=10), price_cents=3000,
            created_at=APPOINTMENT_AT, updated_at=APPOINTMENT_AT,
        )
    )  # fmt: skip


def snapshot_of_b(engine: Engine, world: World) -> dict[str, list[dict[str, Any]]]:
    snapshot = {}
    with read_conn(engine) as conn:
        for table in TENANT_TABLES:
            owner = table.c.id if table is businesses else table.c.business_id
            query = sa.select(table).where(owner == world.b.business_id)
            query = query.order_by(*table.primary_key.columns)
            snapshot[table.name] = [dict(row) for row in conn.execute(query).mappings()]
    return snapshot


# --- probes --------------------------------------------------------------------------

Probe = Callable[[Connection, World], None]
PROBES: dict[str, tuple[frozenset[str], Probe]] = {}


def _qualified(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__name__}"


def probe(*targets: Callable[..., Any]) -> Callable[[Probe], Probe]:
    def register(fn: Probe) -> Probe:
        PROBES[fn.__name__] = (frozenset(_qualified(t) for t in targets), fn)
        return fn

    return register


@probe(catalog.list_staff, catalog.load_staff)
def read_staff(conn: Connection, w: World) -> None:
    assert [row["id"] for row in catalog.list_staff(conn, actor=w.a)] == [w.a_staff]
    with pytest.raises(NotFound):
        catalog.load_staff(conn, actor=w.a, staff_id=w.b_staff)


@probe(catalog.create_staff)
def create_staff_with_b_service_or_b_name(conn: Connection, w: World) -> None:
    with pytest.raises(NotFound):
        catalog.create_staff(
            conn, actor=w.a, data=StaffInput(display_name="Mole", service_ids=[w.b_service])
        )
    # B's names are not A's: no duplicate across tenants, and the copy lands in A
    twin = catalog.create_staff(conn, actor=w.a, data=StaffInput(display_name="B stylist"))
    assert catalog.load_staff(conn, actor=w.a, staff_id=twin)["business_id"] == w.a.business_id


@probe(catalog.update_staff)
def update_b_staff_or_link_b_service(conn: Connection, w: World) -> None:
    with pytest.raises(NotFound):
        catalog.update_staff(
            conn, actor=w.a, staff_id=w.b_staff, data=StaffInput(display_name="Hijacked")
        )
    with pytest.raises(NotFound):
        catalog.update_staff(
            conn,
            actor=w.a,
            staff_id=w.a_staff,
            data=StaffInput(display_name="A stylist", service_ids=[w.a_service, w.b_service]),
        )


@probe(catalog.list_services)
def read_services(conn: Connection, w: World) -> None:
    assert [row["id"] for row in catalog.list_services(conn, actor=w.a)] == [w.a_service]


@probe(catalog.create_service)
def create_service_with_b_name(conn: Connection, w: World) -> None:
    data = ServiceInput(name="B cut", duration_min=30, price=1)
    catalog.create_service(conn, actor=w.a, data=data)
    assert {row["name"] for row in catalog.list_services(conn, actor=w.a)} == {"A cut", "B cut"}


@probe(catalog.update_service)
def update_b_service(conn: Connection, w: World) -> None:
    data = ServiceInput(name="Free cut", duration_min=30, price=0)
    with pytest.raises(NotFound):
        catalog.update_service(conn, actor=w.a, service_id=w.b_service, data=data)


@probe(catalog.load_working_hours, catalog.save_working_hours)
def b_working_hours(conn: Connection, w: World) -> None:
    with pytest.raises(NotFound):
        catalog.load_working_hours(conn, actor=w.a, staff_id=w.b_staff)
    with pytest.raises(NotFound):
        catalog.save_working_hours(conn, actor=w.a, staff_id=w.b_staff, shifts=[])
    catalog.save_working_hours(conn, actor=w.a, staff_id=w.a_staff, shifts=[])  # A's own: fine


@probe(catalog.list_time_off)
def read_time_off(conn: Connection, w: World) -> None:
    assert [row["id"] for row in catalog.list_time_off(conn, actor=w.a)] == [w.a_time_off]
    everything = {
        "start": datetime(2000, 1, 1, tzinfo=UTC),
        "end": datetime(2100, 1, 1, tzinfo=UTC),
    }
    assert [row["id"] for row in catalog.list_time_off(conn, actor=w.a, **everything)] == [
        w.a_time_off
    ]


@probe(catalog.create_time_off)
def time_off_for_b_staff(conn: Connection, w: World) -> None:
    data = TimeOffInput(
        staff_id=w.b_staff, start_local=datetime(2026, 8, 1), end_local=datetime(2026, 8, 2)
    )
    with pytest.raises(NotFound):
        catalog.create_time_off(conn, actor=w.a, data=data, timezone=TZ)


@probe(catalog.delete_time_off)
def delete_b_time_off(conn: Connection, w: World) -> None:
    for time_off_id in (w.b_time_off, w.b_closure):
        with pytest.raises(NotFound):
            catalog.delete_time_off(conn, actor=w.a, time_off_id=time_off_id)


@probe(business.save_business_settings)
def save_settings_touches_only_a(conn: Connection, w: World) -> None:
    settings = BusinessSettings(name="Renamed", timezone="Asia/Tokyo", country="JP", currency="JPY")
    assert business.save_business_settings(conn, actor=w.a, settings=settings)
    assert business.load_business(conn, business_id=w.a.business_id)["name"] == "Renamed"


@probe(business.save_booking_policy)
def save_booking_policy_touches_only_a(conn: Connection, w: World) -> None:
    policy = BookingPolicySettings(min_notice_minutes=0, max_days_ahead=30, slot_step_minutes=30)
    assert business.save_booking_policy(conn, actor=w.a, policy=policy)
    assert business.load_business(conn, business_id=w.a.business_id)["max_days_ahead"] == 30


@probe(audit.load_audit_log)
def read_audit_log(conn: Connection, w: World) -> None:
    rows = audit.load_audit_log(conn, actor=w.a, limit=10_000)
    assert rows and {row["business_id"] for row in rows} == {w.a.business_id}
    assert audit.load_audit_log(conn, actor=w.a, entity="b_only") == []


@probe(audit.load_audit_facets)
def read_audit_facets(conn: Connection, w: World) -> None:
    facets = audit.load_audit_facets(conn, actor=w.a)
    assert "b_only" not in facets["entity"] and "secret" not in facets["action"]


@probe(audit.record_audit)
def record_audit_lands_in_a(conn: Connection, w: World) -> None:
    audit.record_audit(conn, actor=w.a, action="probe", entity="b_only", entity_id="x")
    [row] = audit.load_audit_log(conn, actor=w.a, action="probe")
    assert row["business_id"] == w.a.business_id


@probe(accounts_data.list_accounts, accounts_data.load_account, accounts_data.load_own_credentials)
def read_accounts(conn: Connection, w: World) -> None:
    assert [row["id"] for row in accounts_data.list_accounts(conn, actor=w.a)] == [w.a_account]
    with pytest.raises(AccountNotFound):
        accounts_data.load_account(conn, actor=w.a, account_id=w.b_account)
    assert accounts_data.load_own_credentials(conn, actor=w.a)["id"] == w.a_account


@probe(accounts_data.create_account)
def create_account_lands_in_a(conn: Connection, w: World) -> None:
    new = accounts_data.create_account(
        conn, actor=w.a, email="new@a-salon.example.com", display_name="New", role="staff",
        password="long enough password",
    )  # fmt: skip
    assert accounts_data.load_account(conn, actor=w.a, account_id=new)["business_id"] == (
        w.a.business_id
    )


@probe(accounts_data.update_account, accounts_data.set_password)
def change_b_account(conn: Connection, w: World) -> None:
    with pytest.raises(AccountNotFound):
        accounts_data.update_account(conn, actor=w.a, account_id=w.b_account, role="analyst")
    with pytest.raises(AccountNotFound):
        accounts_data.update_account(conn, actor=w.a, account_id=w.b_account, is_active=False)
    with pytest.raises(AccountNotFound):
        accounts_data.set_password(
            conn, actor=w.a, account_id=w.b_account, new_password="taken over password"
        )


@probe(accounts_data.save_own_password)
def save_own_password_touches_only_self(conn: Connection, w: World) -> None:
    accounts_data.save_own_password(conn, actor=w.a, password_hash="$argon2id$not-a-real-hash")
    b_as_a = Actor.for_account(account_id=w.b_account, business_id=w.a.business_id, role="owner")
    with pytest.raises(AccountNotFound):  # B's account id, claimed under A's business
        accounts_data.save_own_password(conn, actor=b_as_a, password_hash="$argon2id$x")


@probe(agenda.load_agenda_counts)
def agenda_counts_only_a(conn: Connection, w: World) -> None:
    rows = agenda.load_agenda_counts(
        conn,
        actor=w.a,
        start=datetime(2026, 1, 1, tzinfo=UTC),
        end=datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert [(r["staff"], r["appointments"]) for r in rows] == [("A stylist", 1)]


WINDOW = {"start": datetime(2026, 7, 1, tzinfo=UTC), "end": datetime(2026, 8, 1, tzinfo=UTC)}


@probe(booking_queries.load_booking_policy, booking_queries.load_data_version)
def booking_policy_and_version_are_a_s(conn: Connection, w: World) -> None:
    assert booking_queries.load_booking_policy(conn, actor=w.a).timezone == TZ
    a_row = conn.execute(
        sa.select(appointments.c.updated_at, appointments.c.id).where(
            appointments.c.business_id == w.a.business_id
        )
    ).one()
    assert booking_queries.load_data_version(conn, actor=w.a) == tuple(a_row)


@probe(booking_queries.load_service_row, booking_queries.load_staff_names)
def b_service_and_staff_names(conn: Connection, w: World) -> None:
    with pytest.raises(NotFound):
        booking_queries.load_service_row(conn, actor=w.a, service_id=w.b_service)
    assert set(booking_queries.load_staff_names(conn, actor=w.a)) == {w.a_staff}


@probe(booking_queries.load_schedules, booking_queries.load_known_schedules)
def b_schedules(conn: Connection, w: World) -> None:
    with pytest.raises(NotFound):
        booking_queries.load_schedules(conn, actor=w.a, staff_ids=[w.b_staff], **WINDOW)
    [own] = booking_queries.load_schedules(conn, actor=w.a, **WINDOW)
    assert own.staff_id == w.a_staff and len(own.busy) == 1
    [foreign] = booking_queries.load_known_schedules(conn, actor=w.a, ids=[w.b_staff], **WINDOW)
    assert (foreign.shifts, foreign.busy, foreign.service_ids) == ((), (), frozenset())


@probe(booking_queries.find_slots)
def slots_for_b_service(conn: Connection, w: World) -> None:
    with pytest.raises(NotFound):
        booking_queries.find_slots(conn, actor=w.a, service_id=w.b_service)
    with pytest.raises(NotFound):
        booking_queries.find_slots(conn, actor=w.a, service_id=w.a_service, staff_id=w.b_staff)


@probe(
    booking_queries.load_appointment, booking_queries.load_calendar, booking_queries.load_bookings
)
def b_appointments_are_invisible(conn: Connection, w: World) -> None:
    b_id = conn.execute(
        sa.select(appointments.c.id).where(appointments.c.business_id == w.b.business_id)
    ).scalar_one()
    with pytest.raises(NotFound):
        booking_queries.load_appointment(conn, actor=w.a, appointment_id=b_id)
    calendar = booking_queries.load_calendar(conn, actor=w.a, **WINDOW)
    bookings = booking_queries.load_bookings(conn, actor=w.a, **WINDOW)
    assert [r["staff_id"] for r in calendar] == [w.a_staff]
    assert [r["staff_id"] for r in bookings] == [w.a_staff]
    assert booking_queries.load_calendar(conn, actor=w.a, staff_ids=[w.b_staff], **WINDOW) == []


@probe(customers_data.search_customers, customers_data.find_duplicate_candidates)
def b_customers_are_not_found(conn: Connection, w: World) -> None:
    for query in ("", "Bea", "Shared", "+4915112345678", "015112345678"):
        found = customers_data.search_customers(conn, actor=w.a, query=query)
        assert [c["id"] for c in found] == ([] if query == "Bea" else [w.a_customer]), query
    assert customers_data.find_duplicate_candidates(conn, actor=w.a) == []


@probe(customers_data.load_customer_profile, customers_data.update_customer)
def b_customer_profile_and_edit(conn: Connection, w: World) -> None:
    with pytest.raises(NotFound):
        customers_data.load_customer_profile(conn, actor=w.a, customer_id=w.b_customer)
    with pytest.raises(NotFound):
        customers_data.update_customer(
            conn, actor=w.a, customer_id=w.b_customer, data=_customer("Hijacked")
        )


@probe(customers_data.create_customer)
def b_phone_does_not_block_a(conn: Connection, w: World) -> None:
    new = customers_data.create_customer(conn, actor=w.a, data=_customer("Cleo", "+4915199999999"))
    profile = customers_data.load_customer_profile(conn, actor=w.a, customer_id=new)
    assert profile["business_id"] == w.a.business_id


@probe(customers_data.merge_customers)
def merge_across_businesses_is_refused(conn: Connection, w: World) -> None:
    for keep, merge in ((w.a_customer, w.b_customer), (w.b_customer, w.a_customer)):
        with pytest.raises(NotFound):
            customers_data.merge_customers(conn, actor=w.a, keep_id=keep, merge_id=merge)


JULY = ReportFilter(date(2026, 7, 1), date(2026, 7, 31))


@probe(
    analytics_data.load_summary, analytics_data.load_daily, analytics_data.load_start_profile,
    analytics_data.load_lost_slots, analytics_data.load_cohort_counts,
    analytics_data.load_customer_mix, analytics_data.load_report_catalog,
    analytics_data.load_analytics_version,
)  # fmt: skip
def analytics_see_only_a(conn: Connection, w: World) -> None:
    summary = analytics_data.load_summary(conn, actor=w.a, tz=TZ, filters=JULY)
    assert summary["bookings"].sum() == 1 and set(summary["staff_id"]) == {w.a_staff}
    daily = analytics_data.load_daily(conn, actor=w.a, tz=TZ, filters=JULY)
    assert daily["bookings"].sum() == 1
    b_staff = ReportFilter(JULY.start, JULY.end, staff_ids=(w.b_staff,))
    loaders = (analytics_data.load_summary, analytics_data.load_daily,
               analytics_data.load_start_profile, analytics_data.load_lost_slots,
               analytics_data.load_cohort_counts)  # fmt: skip
    for load in loaders:
        assert load(conn, actor=w.a, tz=TZ, filters=b_staff).empty, load.__name__
    mix = analytics_data.load_customer_mix(conn, actor=w.a, tz=TZ, filters=b_staff, rebook_days=30)
    assert not mix.drop(columns="current").to_numpy().any()
    names = analytics_data.load_report_catalog(conn, actor=w.a)
    assert set(names["staff"]["staff_id"]) == {w.a_staff}
    assert set(names["services"]["service_id"]) == {w.a_service}
    (updated_at, appointment_id), _ = analytics_data.load_analytics_version(conn, actor=w.a)
    owner = sa.select(appointments.c.business_id).where(appointments.c.id == appointment_id)
    assert conn.execute(owner).scalar_one() == w.a.business_id


@probe(
    exports_data.iter_bookings, exports_data.count_bookings, exports_data.iter_customers,
    exports_data.count_customers,
)  # fmt: skip
def exports_hold_only_a(conn: Connection, w: World) -> None:
    assert exports_data.count_bookings(conn, actor=w.a, tz=TZ, filters=JULY) == 1
    bookings = pd.concat(exports_data.iter_bookings(conn, actor=w.a, tz=TZ, filters=JULY))
    assert list(bookings["staff"]) == ["A stylist"]
    b_staff = ReportFilter(JULY.start, JULY.end, staff_ids=(w.b_staff,))
    assert exports_data.count_bookings(conn, actor=w.a, tz=TZ, filters=b_staff) == 0
    assert exports_data.count_customers(conn, actor=w.a) == 1
    chunks = exports_data.iter_customers(conn, actor=w.a, tz=TZ, include_contacts=True)
    assert list(pd.concat(chunks)["first_name"]) == ["Ada"]


@probe(
    analytics_events.record_event, analytics_events.load_usage_summary,
    analytics_events.build_event_data,
)  # fmt: skip
def usage_events_stay_in_a(conn: Connection, w: World) -> None:
    analytics_events.record_event(conn, actor=w.a, event_type="page_view", data={"page": "Home"})
    since = datetime(2000, 1, 1, tzinfo=UTC)
    rows = analytics_events.load_usage_summary(conn, actor=w.a, since=since)
    assert sum(row["events"] for row in rows) == 1
    assert not analytics_events.load_usage_summary(conn, actor=w.b, since=since)


@probe(forecasts_data.load_hourly_counts, forecasts_data.load_hourly_counts_by)
def hourly_counts_hold_only_a(conn: Connection, w: World) -> None:
    counts = forecasts_data.load_hourly_counts(
        conn, actor=w.a, tz=TZ, start=JULY.start, end=JULY.end
    )
    assert counts["bookings"].sum() == 1
    assert forecasts_data.load_hourly_counts(
        conn, actor=w.a, tz=TZ, start=JULY.start, end=JULY.end, staff_id=w.b_staff
    ).empty
    by_staff = forecasts_data.load_hourly_counts_by(
        conn, actor=w.a, tz=TZ, start=JULY.start, end=JULY.end, by="staff_id"
    )
    assert set(by_staff["staff_id"]) == {w.a_staff}


@probe(
    forecasts_data.save_forecast_run, forecasts_data.load_forecast_run,
    forecasts_data.load_latest_forecast_runs,
)  # fmt: skip
def forecast_runs_stay_in_a(conn: Connection, w: World) -> None:
    forecasts_data.save_forecast_run(
        conn, actor=w.a, scope="business", scope_id=None, params={}, fingerprint="f",
        model_json=None, metrics={}, forecast={},
    )  # fmt: skip
    found = forecasts_data.load_forecast_run(
        conn, actor=w.b, scope="business", scope_id=None, fingerprint="f"
    )
    assert found is None
    assert not forecasts_data.load_latest_forecast_runs(conn, actor=w.b)
    assert len(forecasts_data.load_latest_forecast_runs(conn, actor=w.a)) == 1


# --- the tests -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROBES))
def test_a_cannot_reach_b(engine: Engine, world: World, name: str) -> None:
    before = snapshot_of_b(engine, world)
    assert all(before[t] for t in ("staff", "services", "time_off", "audit_log", "working_hours"))
    _, run = PROBES[name]
    with write_tx(engine) as conn:
        run(conn, world)
    assert snapshot_of_b(engine, world) == before


def actor_functions() -> Iterator[str]:
    """Every public function of the probed modules that acts for an actor."""
    for module in PROBED_MODULES:
        for name, fn in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(fn):
                continue
            if fn.__module__ == module.__name__ and "actor" in inspect.signature(fn).parameters:
                yield _qualified(fn)


def test_every_actor_function_is_probed() -> None:
    probed = frozenset().union(*(targets for targets, _ in PROBES.values()))
    missing = sorted(set(actor_functions()) - probed)
    assert not missing, f"add a tenant-isolation probe for: {missing}"


# --- retention and campaigns (issue 6) -------------------------------------------------
# Appended: the probes below register after `test_a_cannot_reach_b` was parametrised, so
# they run in `test_a_cannot_reach_b_retention`, which first gives B a customer's visit,
# a churn score set and a campaign (so there is something of B's to leak or to prune).

from data import campaigns as campaigns_data  # noqa: E402
from data import retention as retention_data  # noqa: E402
from data.schema import campaigns, churn_scores  # noqa: E402

PROBED_MODULES = (*PROBED_MODULES, retention_data, campaigns_data)
TENANT_TABLES = (*TENANT_TABLES, churn_scores, campaigns)
RETENTION_PROBES: list[str] = []
VISIT_AT = datetime(2026, 7, 21, 9, tzinfo=UTC)
SCORED_AS_OF = datetime(2026, 7, 31, tzinfo=UTC)


def retention_probe(*targets: Callable[..., Any]) -> Callable[[Probe], Probe]:
    def register(fn: Probe) -> Probe:
        RETENTION_PROBES.append(fn.__name__)
        return probe(*targets)(fn)

    return register


def _book_visit(conn: Connection, business_id: int, staff_id: int, service_id: int,
                customer_id: int) -> int:  # fmt: skip
    insert = appointments.insert().values(
        business_id=business_id, staff_id=staff_id, service_id=service_id,
        customer_id=customer_id, starts_at=VISIT_AT, ends_at=VISIT_AT.replace(hour=10),
        status="completed", price_cents=3000, created_at=VISIT_AT, updated_at=VISIT_AT,
    )  # fmt: skip
    return int(conn.execute(insert).inserted_primary_key[0])


def _score_frame(customer_id: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": [customer_id], "score": [0.5], "band": ["high"], "drivers": [[]]}
    )


def _seed_b_retention(engine: Engine, w: World) -> None:
    with write_tx(engine) as conn:
        _book_visit(conn, w.b.business_id, w.b_staff, w.b_service, w.b_customer)
        retention_data.save_churn_scores(
            conn, actor=w.b, as_of=SCORED_AS_OF, model_version="v1", fingerprint="b",
            scores=_score_frame(w.b_customer),
        )  # fmt: skip
        campaigns_data.create_campaign_draft(
            conn, actor=w.b, name="B's win-back", kind="win_back", channel="sms",
            segment={"customer_ids": [w.b_customer]},
        )  # fmt: skip


@retention_probe(retention_data.load_visit_events)
def visits_are_a_s(conn: Connection, w: World) -> None:
    visit = _book_visit(conn, w.a.business_id, w.a_staff, w.a_service, w.a_customer)
    frame = retention_data.load_visit_events(conn, actor=w.a)
    assert frame["appointment_id"].tolist() == [visit]
    assert frame["customer_id"].tolist() == [w.a_customer]


@retention_probe(
    retention_data.save_churn_scores, retention_data.load_latest_churn_scores,
    retention_data.load_customer_churn_score, retention_data.load_churn_customer_details,
)  # fmt: skip
def churn_scores_stay_in_a(conn: Connection, w: World) -> None:
    with pytest.raises(ValueError, match="not customers of this business"):
        retention_data.save_churn_scores(
            conn, actor=w.a, as_of=SCORED_AS_OF, model_version="v1", fingerprint="a",
            scores=_score_frame(w.b_customer),
        )  # fmt: skip
    for day in range(retention_data.KEEP_SCORE_SETS + 1):  # same set as B's first: replaced
        retention_data.save_churn_scores(  # then pruned, in A only
            conn, actor=w.a, as_of=SCORED_AS_OF.replace(day=31 - day), model_version="v1",
            fingerprint="a", scores=_score_frame(w.a_customer),
        )  # fmt: skip
    latest = retention_data.load_latest_churn_scores(conn, actor=w.a)
    assert latest["customer_id"].tolist() == [w.a_customer]
    assert set(latest["data_fingerprint"]) == {"a"}
    score = retention_data.load_customer_churn_score
    assert score(conn, actor=w.a, customer_id=w.b_customer) is None
    assert score(conn, actor=w.a, customer_id=w.a_customer) is not None
    details = retention_data.load_churn_customer_details(
        conn, actor=w.a, customer_ids=[w.a_customer, w.b_customer], include_names=True
    )
    assert details["customer_id"].tolist() == [w.a_customer]


@retention_probe(campaigns_data.create_campaign_draft, campaigns_data.list_campaigns)
def campaigns_stay_in_a(conn: Connection, w: World) -> None:
    def create(customer_ids: list[int]) -> int:
        return campaigns_data.create_campaign_draft(
            conn, actor=w.a, name="Win-back", kind="win_back", channel="sms",
            segment={"customer_ids": customer_ids},
        )  # fmt: skip

    with pytest.raises(ValueError, match="1 customer id"):
        create([w.a_customer, w.b_customer])
    new = create([w.a_customer])
    assert [row["id"] for row in campaigns_data.list_campaigns(conn, actor=w.a)] == [new]


@pytest.mark.parametrize("name", sorted(RETENTION_PROBES))
def test_a_cannot_reach_b_retention(engine: Engine, world: World, name: str) -> None:
    _seed_b_retention(engine, world)
    test_a_cannot_reach_b(engine, world, name)


# --- message templates (issue 7) ---------------------------------------------------------
# Appended: B gets the shipped defaults and a variant "B" of its own first; every probe
# runs in `test_a_cannot_reach_b_templates`.

from data import templates as templates_data  # noqa: E402
from data.schema import notification_templates  # noqa: E402

PROBED_MODULES = (*PROBED_MODULES, templates_data)
TENANT_TABLES = (*TENANT_TABLES, notification_templates)
TEMPLATE_PROBES: list[str] = []
B_TEMPLATE = {"kind": "reminder", "channel": "sms", "variant": "B", "name": "B's reminder",
              "subject": None, "body": "Hi {{ first_name }}, see you at {{ time }}."}  # fmt: skip


def template_probe(*targets: Callable[..., Any]) -> Callable[[Probe], Probe]:
    def register(fn: Probe) -> Probe:
        TEMPLATE_PROBES.append(fn.__name__)
        return probe(*targets)(fn)

    return register


def _b_template_ids(conn: Connection, w: World) -> list[int]:
    query = sa.select(notification_templates.c.id).where(
        notification_templates.c.business_id == w.b.business_id
    )
    return [int(i) for i in conn.execute(query).scalars()]


@template_probe(templates_data.list_templates, templates_data.load_template,
                templates_data.ensure_default_templates)  # fmt: skip
def templates_are_a_s(conn: Connection, w: World) -> None:
    assert templates_data.list_templates(conn, actor=w.a) == []
    for template_id in _b_template_ids(conn, w):
        with pytest.raises(NotFound):
            templates_data.load_template(conn, actor=w.a, template_id=template_id)
    assert templates_data.ensure_default_templates(conn, actor=w.a) == 8  # B's don't count
    listed = templates_data.list_templates(conn, actor=w.a, kind="reminder")
    assert {row["id"] for row in listed}.isdisjoint(_b_template_ids(conn, w))


@template_probe(templates_data.save_template, templates_data.set_template_active)
def b_templates_cannot_be_changed(conn: Connection, w: World) -> None:
    for template_id in _b_template_ids(conn, w):
        with pytest.raises(NotFound):
            templates_data.save_template(conn, actor=w.a, template_id=template_id, **B_TEMPLATE)
        with pytest.raises(NotFound):
            templates_data.set_template_active(
                conn, actor=w.a, template_id=template_id, is_active=False
            )
    own = templates_data.save_template(conn, actor=w.a, template_id=None, **B_TEMPLATE)
    assert own not in _b_template_ids(conn, w)  # B's variant "B" does not clash in A


@pytest.mark.parametrize("name", sorted(TEMPLATE_PROBES))
def test_a_cannot_reach_b_templates(engine: Engine, world: World, name: str) -> None:
    with write_tx(engine) as conn:
        assert templates_data.ensure_default_templates(conn, actor=world.b) == 8
        templates_data.save_template(conn, actor=world.b, template_id=None, **B_TEMPLATE)
        assert len(_b_template_ids(conn, world)) == 9
    test_a_cannot_reach_b(engine, world, name)


# --- the outbox (issue 7) ----------------------------------------------------------------
# Appended: B gets one queued and one failed message first; every probe runs in
# `test_a_cannot_reach_b_outbox`.

from data import outbox as outbox_data  # noqa: E402
from data.schema import notifications as outbox_table  # noqa: E402

PROBED_MODULES = (*PROBED_MODULES, outbox_data)
TENANT_TABLES = (*TENANT_TABLES, outbox_table)
OUTBOX_PROBES: list[str] = []
OUTBOX_AT = datetime(2026, 7, 21, 9, tzinfo=UTC)


def outbox_probe(*targets: Callable[..., Any]) -> Callable[[Probe], Probe]:
    def register(fn: Probe) -> Probe:
        OUTBOX_PROBES.append(fn.__name__)
        return probe(*targets)(fn)

    return register


def _message(business_id: int, key: str, customer_id: int) -> dict[str, Any]:
    return {"channel": "sms", "recipient": "+4915112345678", "subject": None, "body": "Hi",
            "template_kind": "reminder", "idempotency_key": f"b{business_id}:{key}",
            "scheduled_at": OUTBOX_AT, "customer_id": customer_id}  # fmt: skip


def _b_messages(conn: Connection, w: World) -> dict[str, Any]:
    query = sa.select(outbox_table.c.id, outbox_table.c.status).where(
        outbox_table.c.business_id == w.b.business_id
    )
    return {row.id: row.status for row in conn.execute(query)}


@outbox_probe(outbox_data.enqueue_messages, outbox_data.load_outbox, outbox_data.count_by_status)
def outbox_rows_stay_in_a(conn: Connection, w: World) -> None:
    with pytest.raises(ValueError):  # B's key prefix
        outbox_data.enqueue_messages(
            conn, actor=w.a, messages=[_message(w.b.business_id, "x", w.a_customer)]
        )
    with pytest.raises(ValueError):  # B's customer
        outbox_data.enqueue_messages(
            conn, actor=w.a, messages=[_message(w.a.business_id, "x", w.b_customer)]
        )
    mine = outbox_data.enqueue_messages(
        conn, actor=w.a, messages=[_message(w.a.business_id, "queued", w.a_customer)]
    )
    assert mine.inserted == 1  # B's "b{B}:queued" key is no clash for A's "b{A}:queued"
    listed = outbox_data.load_outbox(conn, actor=w.a)
    assert [row["id"] for row in listed if row["id"] in _b_messages(conn, w)] == []
    assert outbox_data.count_by_status(conn, actor=w.a)["failed"] == 0


@outbox_probe(outbox_data.requeue_failed)
def b_failures_cannot_be_retried_by_a(conn: Connection, w: World) -> None:
    before = _b_messages(conn, w)
    assert outbox_data.requeue_failed(conn, actor=w.a, message_ids=list(before), now=OUTBOX_AT) == 0
    assert _b_messages(conn, w) == before


@outbox_probe(outbox_data.load_recent_sent)
def b_sent_messages_are_not_a_s(conn: Connection, w: World) -> None:
    since = OUTBOX_AT - timedelta(days=1)
    mine = outbox_data.load_recent_sent(conn, actor=w.a, provider="twilio", since=since)
    assert {row["id"] for row in mine}.isdisjoint(_b_messages(conn, w))


@pytest.mark.parametrize("name", sorted(OUTBOX_PROBES))
def test_a_cannot_reach_b_outbox(engine: Engine, world: World, name: str) -> None:
    with write_tx(engine) as conn:
        b = world.b.business_id
        outbox_data.enqueue_messages(conn, actor=world.b, messages=[
            _message(b, "queued", world.b_customer), _message(b, "failed", world.b_customer)
        ])  # fmt: skip
        outbox_data.enqueue_messages(
            conn, actor=world.b, messages=[_message(b, "sent", world.b_customer)]
        )
        first, failed, sent = sorted(_b_messages(conn, world))
        outbox_data.record_failed(conn, message_id=failed, error="boom", reason="test")
        claimed = outbox_data.claim_due(
            conn, now=OUTBOX_AT, limit=10, lease=timedelta(minutes=5), business_id=b
        )
        assert {row["id"] for row in claimed} == {first, sent}
        outbox_data.record_retry(conn, message_id=first, error="later", next_attempt_at=OUTBOX_AT)
        outbox_data.record_sent(
            conn, message_id=sent, provider="twilio", provider_message_id="SMb", now=OUTBOX_AT
        )
        assert sorted(_b_messages(conn, world).values()) == ["failed", "queued", "sent"]
    test_a_cannot_reach_b(engine, world, name)


# --- reminder inputs (issue 7) -------------------------------------------------------------

from data import reminders as reminders_data  # noqa: E402

PROBED_MODULES = (*PROBED_MODULES, reminders_data)


@probe(reminders_data.load_reminder_inputs, reminders_data.load_queued_reminders,
              reminders_data.load_appointment_states)  # fmt: skip
def reminder_inputs_are_a_s(conn: Connection, w: World) -> None:
    b_of = appointments.c.business_id == w.b.business_id
    b_visit = conn.execute(sa.select(sa.func.max(appointments.c.id)).where(b_of)).scalar_one()
    a_visit = _book_visit(conn, w.a.business_id, w.a_staff, w.a_service, w.a_customer)
    inputs = reminders_data.load_reminder_inputs(
        conn, actor=w.a, start=VISIT_AT - timedelta(days=1), end=VISIT_AT + timedelta(days=1)
    )
    found = [row["id"] for row in inputs.appointments]
    assert a_visit in found and b_visit not in found
    assert w.a_customer in inputs.customers and w.b_customer not in inputs.customers
    assert not any(key.startswith(f"b{w.b.business_id}:") for key in inputs.already)
    queued = reminders_data.load_queued_reminders(conn, actor=w.a)
    assert all(row["idempotency_key"].startswith(f"b{w.a.business_id}:") for row in queued)
    states = reminders_data.load_appointment_states(
        conn, actor=w.a, appointment_ids=[a_visit, b_visit]
    )
    assert [row["id"] for row in states] == [a_visit]


def test_a_cannot_reach_b_reminder_inputs(engine: Engine, world: World) -> None:
    with write_tx(engine) as conn:  # B's visit at the same time as A's
        _book_visit(conn, world.b.business_id, world.b_staff, world.b_service, world.b_customer)
    test_a_cannot_reach_b(engine, world, "reminder_inputs_are_a_s")


# --- reminder rules (issue 7) --------------------------------------------------------------
# Appended: business.save_reminder_rules; its probe runs in `test_a_cannot_change_b_rules`.

from notifications.rules import RuleSetting  # noqa: E402


@probe(business.save_reminder_rules)
def reminder_rules_change_only_a(conn: Connection, w: World) -> None:
    rules = [RuleSetting("email", 2880), RuleSetting("sms", 45, active=False)]
    assert business.save_reminder_rules(conn, actor=w.a, rules=rules)
    stored = business.load_business(conn, business_id=w.a.business_id)["reminder_rules"]
    assert [(r["channel"], r["offset_minutes"]) for r in stored] == [("email", 2880), ("sms", 45)]


def test_a_cannot_change_b_rules(engine: Engine, world: World) -> None:
    test_a_cannot_reach_b(engine, world, "reminder_rules_change_only_a")


# --- notification history (issue 7, item 5) ------------------------------------------------
# Appended: B gets a campaign with a sent message, a sent reminder for its appointment and
# a forged sent reminder pointing at A's appointment (inserted directly: the data layer
# refuses it), so A's outcomes would show a reminder that is not A's.

from data import notification_stats as history_data  # noqa: E402

PROBED_MODULES = (*PROBED_MODULES, history_data)


def _history_appointment(conn: Connection, business_id: int) -> int:
    query = sa.select(appointments.c.id).where(appointments.c.business_id == business_id)
    return int(conn.execute(query).scalar_one())


def _seed_b_history(engine: Engine, w: World) -> None:
    b = w.b.business_id
    with write_tx(engine) as conn:
        campaign = campaigns_data.create_campaign_draft(
            conn, actor=w.b, name="B's history", kind="win_back", channel="sms", segment={}
        )
        b_visit = _history_appointment(conn, b)
        a_visit = _history_appointment(conn, w.a.business_id)
        outbox_data.enqueue_messages(conn, actor=w.b, messages=[
            _message(b, "history:campaign", w.b_customer) | {"campaign_id": campaign},
            _message(b, "history:reminder", w.b_customer) | {"appointment_id": b_visit},
        ])  # fmt: skip
        claimed = outbox_data.claim_due(
            conn, now=OUTBOX_AT, limit=10, lease=timedelta(minutes=5), business_id=b
        )
        for row in claimed:
            outbox_data.record_sent(
                conn, message_id=row["id"], provider="console",
                provider_message_id=f"c{row['id']}", now=APPOINTMENT_AT,
            )  # fmt: skip
        forged = _message(b, "history:forged", w.b_customer) | {
            "business_id": b, "appointment_id": a_visit, "status": "sent", "variant": "Z",
            "sent_at": APPOINTMENT_AT - timedelta(hours=2), "created_at": OUTBOX_AT,
            "updated_at": OUTBOX_AT,
        }  # fmt: skip
        conn.execute(outbox_table.insert().values(**forged))


@probe(history_data.load_outbox_page, history_data.campaign_message_counts,
       history_data.load_reminder_outcomes)  # fmt: skip
def notification_history_is_a_s(conn: Connection, w: World) -> None:
    b_ids = set(_b_messages(conn, w))
    assert len(b_ids) == 3
    listed = history_data.load_outbox_page(conn, actor=w.a, limit=1_000)
    assert {row["id"] for row in listed}.isdisjoint(b_ids)
    b_campaign = conn.execute(
        sa.select(campaigns.c.id).where(campaigns.c.business_id == w.b.business_id)
    ).scalar_one()
    assert history_data.load_outbox_page(conn, actor=w.a, campaign_id=b_campaign) == []
    assert history_data.campaign_message_counts(conn, actor=w.a) == {}
    day = timedelta(days=1)
    outcomes = history_data.load_reminder_outcomes(
        conn, actor=w.a, since=APPOINTMENT_AT - day, until=APPOINTMENT_AT + day,
        now=APPOINTMENT_AT + day,
    )  # fmt: skip
    a_visit = _history_appointment(conn, w.a.business_id)
    assert outcomes["appointment_id"].tolist() == [a_visit]  # no B visit, no B reminder
    assert outcomes["channel"].isna().all()


def test_a_cannot_reach_b_notification_history(engine: Engine, world: World) -> None:
    _seed_b_history(engine, world)
    test_a_cannot_reach_b(engine, world, "notification_history_is_a_s")


# --- campaign sends and segments (issue 7) -------------------------------------------------
# Appended: data.segments and campaigns.record_campaign_sent; B gets a campaign of its own
# first (and B's customer a tag), then every probe runs in `test_a_cannot_reach_b_segments`.

from data import segments as segments_data  # noqa: E402

PROBED_MODULES = (*PROBED_MODULES, segments_data)


def _seed_b_campaign(engine: Engine, w: World) -> int:
    with write_tx(engine) as conn:
        conn.execute(customers.update().where(customers.c.id == w.b_customer)
                     .values(tags=["shared-tag", "b-only"]))  # fmt: skip
        return campaigns_data.create_campaign_draft(
            conn, actor=w.b, name="B's win-back", kind="win_back", channel="sms",
            segment={"customer_ids": [w.b_customer]},
        )  # fmt: skip


@probe(segments_data.load_campaign_audience, segments_data.count_customer_tags,
       segments_data.customers_with_tags, campaigns_data.record_campaign_sent)  # fmt: skip
def segments_are_a_s(conn: Connection, w: World) -> None:
    b_campaign = conn.execute(sa.select(sa.func.max(campaigns.c.id)).where(
        campaigns.c.business_id == w.b.business_id)).scalar_one()  # fmt: skip
    with pytest.raises(NotFound):
        segments_data.load_campaign_audience(conn, actor=w.a, campaign_id=b_campaign,
                                             now=VISIT_AT)  # fmt: skip
    with pytest.raises(NotFound):
        campaigns_data.record_campaign_sent(conn, actor=w.a, campaign_id=b_campaign,
                                            enqueued=1, skipped=0)  # fmt: skip
    conn.execute(customers.update().where(customers.c.id == w.a_customer)
                 .values(tags=["shared-tag"]))  # fmt: skip
    assert segments_data.count_customer_tags(conn, actor=w.a) == {"shared-tag": 1}
    found = segments_data.customers_with_tags(conn, actor=w.a, tags=["shared-tag", "b-only"])
    assert found == [w.a_customer]
    mine = campaigns_data.create_campaign_draft(
        conn, actor=w.a, name="A's", kind="win_back", channel="sms",
        segment={"customer_ids": [w.a_customer]},
    )  # fmt: skip
    audience = segments_data.load_campaign_audience(conn, actor=w.a, campaign_id=mine,
                                                    now=VISIT_AT)  # fmt: skip
    assert list(audience.customers) == [w.a_customer] and audience.booked == set()
    campaigns_data.record_campaign_sent(conn, actor=w.a, campaign_id=mine, enqueued=1, skipped=0)


def test_a_cannot_reach_b_segments(engine: Engine, world: World) -> None:
    _seed_b_campaign(engine, world)
    test_a_cannot_reach_b(engine, world, "segments_are_a_s")


# --- window audiences (issue 8) -------------------------------------------------------------


@probe(segments_data.customers_for_window)
def window_audience_is_a_s(conn: Connection, w: World) -> None:
    local = VISIT_AT.astimezone(ZoneInfo(TZ))
    _book_visit(conn, w.a.business_id, w.a_staff, w.a_service, w.a_customer)
    found = segments_data.customers_for_window(
        conn, actor=w.a, weekday=local.weekday(), start_hour=local.hour,
        end_hour=local.hour + 1, tz=TZ, since=VISIT_AT - timedelta(days=1),
        now=VISIT_AT + timedelta(days=1),
    )  # fmt: skip
    assert found == [w.a_customer]


def test_a_cannot_reach_b_window_audience(engine: Engine, world: World) -> None:
    with write_tx(engine) as conn:  # B's customer came in the same window
        _book_visit(conn, world.b.business_id, world.b_staff, world.b_service, world.b_customer)
    test_a_cannot_reach_b(engine, world, "window_audience_is_a_s")


# --- slot suggestions (issue 8, item 5) ----------------------------------------------------
# Appended: data.slot_hints. B gets a completed visit of its customer on Monday 20 July at
# 14:00 local (A's staff is free then) first; the probe runs in
# `test_a_cannot_reach_b_slot_hints`.

from data import slot_hints as slot_hints_data  # noqa: E402

PROBED_MODULES = (*PROBED_MODULES, slot_hints_data)
SLOT_HINTS_B_VISIT = datetime(2026, 7, 20, 12, tzinfo=UTC)  # Monday 14:00 in Berlin


@probe(slot_hints_data.load_customer_visit_pattern, slot_hints_data.load_idle_profile,
       slot_hints_data.find_slots_ahead)  # fmt: skip
def slot_hints_are_a_s(conn: Connection, w: World) -> None:
    with pytest.raises(NotFound):
        slot_hints_data.load_customer_visit_pattern(conn, actor=w.a, customer_id=w.b_customer)
    _book_visit(conn, w.a.business_id, w.a_staff, w.a_service, w.a_customer)
    pattern = slot_hints_data.load_customer_visit_pattern(conn, actor=w.a, customer_id=w.a_customer)
    assert [visit["starts_at"] for visit in pattern.visits] == [VISIT_AT]
    # A's week of 20 July: A's stylist works Monday 09-17, booked 11:00-12:00 (APPOINTMENT_AT);
    # B's stylist, B's booking at the same time and B's visit at 14:00 must not count.
    idle = slot_hints_data.load_idle_profile(conn, actor=w.a, weeks=1, today=date(2026, 7, 27))
    assert idle == {(0, hour): 0.0 if hour == 11 else 1.0 for hour in range(9, 17)}
    for service_id, staff_id in ((w.b_service, None), (w.a_service, w.b_staff)):
        with pytest.raises(NotFound):
            slot_hints_data.find_slots_ahead(
                conn, actor=w.a, service_id=service_id, staff_id=staff_id,
                now=datetime(2026, 7, 19, 12, tzinfo=UTC),
            )  # fmt: skip
    slots = slot_hints_data.find_slots_ahead(
        conn, actor=w.a, service_id=w.a_service, days=2, now=datetime(2026, 7, 19, 12, tzinfo=UTC)
    )
    starts = {slot.start for slot in slots}
    assert {slot.staff_id for slot in slots} == {w.a_staff}
    assert SLOT_HINTS_B_VISIT in starts and APPOINTMENT_AT not in starts


def test_a_cannot_reach_b_slot_hints(engine: Engine, world: World) -> None:
    with write_tx(engine) as conn:
        conn.execute(appointments.insert().values(
            business_id=world.b.business_id, staff_id=world.b_staff, service_id=world.b_service,
            customer_id=world.b_customer, starts_at=SLOT_HINTS_B_VISIT,
            ends_at=SLOT_HINTS_B_VISIT + timedelta(hours=1), status="completed",
            price_cents=3000, created_at=SLOT_HINTS_B_VISIT, updated_at=SLOT_HINTS_B_VISIT,
        ))  # fmt: skip
    test_a_cannot_reach_b(engine, world, "slot_hints_are_a_s")


# --- stored recommendations (issue 8) -------------------------------------------------------

from data import suggestions as suggestions_data  # noqa: E402
from data.schema import ai_suggestions  # noqa: E402

PROBED_MODULES = (*PROBED_MODULES, suggestions_data)
TENANT_TABLES = (*TENANT_TABLES, ai_suggestions)


@probe(suggestions_data.save_run, suggestions_data.find_cached_run,
       suggestions_data.list_suggestions, suggestions_data.set_suggestion_status)  # fmt: skip
def suggestions_are_a_s(conn: Connection, w: World) -> None:
    b_row = conn.execute(sa.select(sa.func.max(ai_suggestions.c.id)).where(
        ai_suggestions.c.business_id == w.b.business_id)).scalar_one()  # fmt: skip
    with pytest.raises(NotFound):
        suggestions_data.set_suggestion_status(conn, actor=w.a, suggestion_id=b_row,
                                               status="dismissed")  # fmt: skip
    assert suggestions_data.find_cached_run(conn, actor=w.a, facts_hash="shared",
                                            engine="rules", model=None) == []  # fmt: skip
    item = {"category": "marketing", "recommendation": {"title": "A's"}, "evidence": []}
    suggestions_data.save_run(conn, actor=w.a, items=[item], engine="rules", model=None,
                              facts_hash="shared")  # fmt: skip
    listed = suggestions_data.list_suggestions(conn, actor=w.a)
    assert [row["suggestion_data"]["recommendation"]["title"] for row in listed] == ["A's"]


def test_a_cannot_reach_b_suggestions(engine: Engine, world: World) -> None:
    with write_tx(engine) as conn:
        item = {"category": "marketing", "recommendation": {"title": "B's"}, "evidence": []}
        suggestions_data.save_run(conn, actor=world.b, items=[item], engine="rules", model=None,
                                  facts_hash="shared")  # fmt: skip
    test_a_cannot_reach_b(engine, world, "suggestions_are_a_s")
