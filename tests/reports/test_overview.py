"""The Overview's numbers against a hand-computed fixture, on SQLite and PostgreSQL.

Europe/Berlin; the period is Sat 28 - Sun 29 March 2026 (DST starts Sunday 02:00), the
previous period Thu 26 - Fri 27. Every expected figure below is worked out by hand in
the comments next to the rows that produce it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import sqlalchemy as sa

from analytics.report import ReportFilter
from auth.roles import Actor, PermissionDenied, Role
from data.db import read_conn, write_tx
from data.schema import appointments, time_off, working_hours
from reports.overview import build_overview
from tests.factories import make_business, make_customer, make_service, make_staff

BERLIN = ZoneInfo("Europe/Berlin")
PERIOD = ReportFilter(date(2026, 3, 28), date(2026, 3, 29))


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def _appointment(conn, business_id, staff_id, service_id, customer_id, start, end, status,
                 price, created, cancelled=None) -> None:  # fmt: skip
    conn.execute(
        appointments.insert().values(
            business_id=business_id,
            staff_id=staff_id,
            service_id=service_id,
            customer_id=customer_id,
            starts_at=start,
            ends_at=end,
            status=status,
            price_cents=price,
            created_at=created,
            updated_at=created,
            cancelled_at=cancelled,
        )  # fmt: skip
    )


def _hours(conn, business_id, staff_id, weekday, start, end) -> None:
    conn.execute(
        working_hours.insert().values(
            business_id=business_id,
            staff_id=staff_id,
            weekday=weekday,
            start_time=time(start),
            end_time=time(end),
        )  # fmt: skip
    )


@pytest.fixture
def salon(engine: sa.Engine) -> dict:
    with write_tx(engine) as conn:
        b = make_business(conn)
        s1, s2 = make_staff(conn, b, name="Ana"), make_staff(conn, b, name="Ben")
        cut, colour = make_service(conn, b, name="Cut"), make_service(conn, b, name="Colour")
        c1, c2, c3, c4 = (make_customer(conn, b, first_name=n) for n in ("C1", "C2", "C3", "C4"))
        # Capacity. Ana: Thu, Fri, Sat 09-17 (480 each), Sun 09-13 (240, after the switch).
        # Ben: Sat 10-12 minus time off 10-11 (60), Sun 12-14 (120).
        for weekday in (3, 4, 5):
            _hours(conn, b, s1, weekday, 9, 17)
        _hours(conn, b, s1, 6, 9, 13)
        _hours(conn, b, s2, 5, 10, 12)
        _hours(conn, b, s2, 6, 12, 14)
        conn.execute(
            time_off.insert().values(
                business_id=b,
                staff_id=s2,
                starts_at=at(3, 28, 10),
                ends_at=at(3, 28, 11),
                created_at=at(3, 1, 9),
                updated_at=at(3, 1, 9),
            )  # fmt: skip
        )
        add = lambda *args, **kw: _appointment(conn, b, *args, **kw)  # noqa: E731
        # History: C1's first completed visit.
        add(s1, cut, c1, at(1, 10, 10), at(1, 10, 11), "completed", 5000, at(1, 1, 10))
        # Previous period. Lead: 8640 + 60 + 1440 minutes.
        add(s1, cut, c3, at(3, 26, 10), at(3, 26, 11), "completed", 5000, at(3, 20, 10))
        add(s1, cut, c1, at(3, 27, 10), at(3, 27, 11), "completed", 5000, at(3, 27, 9))
        add(s1, colour, c4, at(3, 27, 14), at(3, 27, 16), "no_show", 9000, at(3, 26, 14))
        # Current period. Lead: 11520 + 120 + 1440 + 5700 + 4200 + 180 + 5 = 23165 minutes.
        add(s1, cut, c1, at(3, 28, 10), at(3, 28, 11), "completed", 5000, at(3, 20, 10))
        add(s1, colour, c2, at(3, 28, 11), at(3, 28, 13), "completed", 9000, at(3, 28, 9))
        # 23:30 local on Saturday is 22:30 UTC: it counts on Saturday, and runs into Sunday.
        add(s1, cut, c1, at(3, 28, 23, 30), at(3, 29, 0, 30), "no_show", 5000, at(3, 27, 23, 30))
        # Cancelled two hours ahead (late); 4 days less the lost DST hour of lead time.
        add(s1, cut, c3, at(3, 29, 10), at(3, 29, 11), "cancelled", 5000, at(3, 25, 10),
            cancelled=at(3, 29, 8))  # fmt: skip
        # Cancelled two days ahead, then refilled by a walk-in.
        add(s1, cut, c2, at(3, 29, 11), at(3, 29, 12), "cancelled", 5000, at(3, 26, 12),
            cancelled=at(3, 27, 11))  # fmt: skip
        add(s1, cut, None, at(3, 29, 11), at(3, 29, 12), "completed", 5000, at(3, 29, 10, 55))
        add(s2, cut, c4, at(3, 29, 12), at(3, 29, 13), "booked", 5000, at(3, 29, 9))
        # C2 books again, but 31 days after the visit: not a rebooking within 30 days.
        add(s1, cut, c2, at(4, 30, 10), at(4, 30, 11), "booked", 5000, at(4, 28, 13))
        # C3 books again on Sunday: within 30 days of Thursday's visit, but after the
        # previous period ended, so it does not rebook that visit (periods alike).
        add(s1, cut, c3, at(4, 10, 10), at(4, 10, 11), "booked", 5000, at(3, 29, 15))
        # Another business's appointment in the same period: never counted.
        other = make_business(conn)
        o_staff, o_service = make_staff(conn, other), make_service(conn, other)
        _appointment(conn, other, o_staff, o_service, None, at(3, 28, 10), at(3, 28, 11),
                     "completed", 99900, at(3, 1, 9))  # fmt: skip
    return {"business": b, "ana": s1, "ben": s2, "cut": cut, "colour": colour}


def _overview(engine: sa.Engine, salon: dict, filters: ReportFilter = PERIOD):
    actor = Actor.operator(business_id=salon["business"])
    with read_conn(engine) as conn:
        return build_overview(conn, actor=actor, filters=filters, rebook_days=30)


def test_every_kpi_matches_the_hand_computed_figures(engine: sa.Engine, salon: dict) -> None:
    kpis = _overview(engine, salon).kpis.set_index("key")
    expected = {  # key: (current, previous)
        "bookings": (7, 3),
        "completed": (3, 2),
        "revenue": (19000, 10000),
        "utilization": (360 / 900, 240 / 960),
        "no_show_rate": (1 / 4, 1 / 3),
        "cancellation_rate": (2 / 7, 0),
        "late_cancellation_rate": (1 / 7, 0),
        "new_customers": (1, 1),
        "returning_customers": (1, 1),
        "rebooking_rate": (1 / 2, 1 / 2),
        "avg_lead_time": (23165 / 7 / 1440, 10140 / 3 / 1440),
        "avg_ticket": (19000 / 3, 5000),
    }
    assert list(kpis.index) == list(expected)
    for key, (value, previous) in expected.items():
        assert kpis.loc[key, "value"] == pytest.approx(value), key
        assert kpis.loc[key, "previous"] == pytest.approx(previous), key
    assert kpis.loc["bookings", "change"] == pytest.approx(7 / 3 - 1)
    assert kpis.loc["utilization", "change"] == pytest.approx(0.4 - 0.25)  # points


def test_days_follow_local_time_across_the_dst_switch(engine: sa.Engine, salon: dict) -> None:
    daily = _overview(engine, salon).daily.set_index("day")
    saturday, sunday = pd.Timestamp("2026-03-28"), pd.Timestamp("2026-03-29")
    assert list(daily.index) == [saturday, sunday]
    assert daily.loc[saturday, "bookings"] == 3  # includes the 23:30 no-show
    assert daily.loc[sunday, "bookings"] == 4
    assert daily.loc[saturday, "available_minutes"] == 480 + 60
    assert daily.loc[sunday, "available_minutes"] == 240 + 120
    assert daily.loc[sunday, "revenue_cents"] == 5000


def test_heatmap_buckets_by_local_weekday_and_hour(engine: sa.Engine, salon: dict) -> None:
    heat = _overview(engine, salon).heatmap.set_index(["weekday", "hour"])
    assert heat.loc[(5, 23), "bookings"] == 1  # Saturday 23:30 local
    assert heat.loc[(5, 23), "booked_minutes"] == 30
    assert heat.loc[(6, 0), "booked_minutes"] == 30  # ...running into Sunday
    assert heat.loc[(6, 10), "bookings"] == 0  # the cancelled one is not a booking here
    assert heat.loc[(5, 10), "available_minutes"] == 60  # Ana; Ben is off 10-11
    assert heat.loc[(5, 11), "available_minutes"] == 120
    assert heat.loc[(5, 11), "utilization"] == pytest.approx(60 / 120)
    assert heat["bookings"].sum() == 5  # not-cancelled bookings


def test_leaderboards_and_revenue_at_risk(engine: sa.Engine, salon: dict) -> None:
    overview = _overview(engine, salon)
    staff = overview.staff_board.set_index("staff")
    assert list(staff.index) == ["Ana", "Ben"]  # by revenue
    assert staff.loc["Ana", "bookings"] == 6 and staff.loc["Ana", "revenue_cents"] == 19000
    assert staff.loc["Ana", "utilization"] == pytest.approx(300 / 720)
    assert staff.loc["Ana", "no_show_rate"] == pytest.approx(1 / 4)
    assert staff.loc["Ben", "utilization"] == pytest.approx(60 / 180)
    services = overview.service_board.set_index("service")
    assert services.loc["Cut", "bookings"] == 6 and services.loc["Colour", "bookings"] == 1
    assert services.loc["Colour", "utilization"] == pytest.approx(120 / 900)
    risk = overview.revenue_at_risk.set_index("kind")
    assert risk.loc["late_cancelled", "at_risk_cents"] == 5000
    assert risk.loc["cancelled", "refilled"] == 1  # the walk-in took the slot
    assert risk.loc["cancelled", "at_risk_cents"] == 0
    assert risk.loc["no_show", "at_risk_cents"] == 5000


def test_cohorts_count_customers_by_first_visit_month(engine: sa.Engine, salon: dict) -> None:
    cohorts = _overview(engine, salon).cohorts
    rows = {(r.cohort, r.months_since): (r.customers, r.size) for r in cohorts.itertuples()}
    assert rows == {("2026-01", 0): (1, 1), ("2026-01", 2): (1, 1), ("2026-03", 0): (2, 2)}


def test_filters_narrow_every_number(engine: sa.Engine, salon: dict) -> None:
    only_ben = ReportFilter(PERIOD.start, PERIOD.end, staff_ids=(salon["ben"],))
    overview = _overview(engine, salon, only_ben)
    kpis = overview.kpis.set_index("key")["value"]
    assert kpis["bookings"] == 1 and kpis["utilization"] == pytest.approx(60 / 180)
    colour = ReportFilter(PERIOD.start, PERIOD.end, service_ids=(salon["colour"],))
    kpis = _overview(engine, salon, colour).kpis.set_index("key")["value"]
    # Colour: one completed visit; capacity of the staff who offer it (none are linked).
    assert kpis["bookings"] == 1 and kpis["revenue"] == 9000


def test_an_empty_range_gives_zeros_and_no_division_errors(engine: sa.Engine, salon: dict) -> None:
    quiet = ReportFilter(date(2025, 6, 1), date(2025, 6, 7))
    overview = _overview(engine, salon, quiet)
    kpis = overview.kpis.set_index("key")
    assert kpis.loc["bookings", "value"] == 0
    assert pd.isna(kpis.loc["no_show_rate", "value"]) and pd.isna(kpis.loc["avg_ticket", "value"])
    assert not overview.has_bookings
    assert len(overview.daily) == 7 and overview.cohorts.empty


def test_only_analytics_roles_may_build_it(engine: sa.Engine, salon: dict) -> None:
    staff_actor = Actor(None, salon["business"], Role.STAFF, "test")
    with read_conn(engine) as conn, pytest.raises(PermissionDenied):
        build_overview(conn, actor=staff_actor, filters=PERIOD)
