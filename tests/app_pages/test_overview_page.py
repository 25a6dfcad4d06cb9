"""The Overview page through AppTest: roles, KPI cards, empty states, cache invalidation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from auth.roles import Actor, Role
from data.bookings import set_appointment_status
from data.catalog import save_working_hours
from data.db import write_tx
from data.schema import appointments
from scheduling.catalog import Shift
from scheduling.timezones import local_day_bounds, local_today
from tests.app_pages.support import AppDb, open_app
from tests.factories import make_customer, make_service, make_staff

PAGE = "app_pages/overview.py"
TZ = "Europe/Berlin"  # the app_db business's zone
KPI_LABELS = [
    "Bookings", "Completed visits", "Revenue", "Utilization", "No-show rate",
    "Cancellation rate", "Late cancellations (< 24 h)", "New customers",
    "Returning customers", "Rebooking rate", "Average lead time", "Average ticket",
]  # fmt: skip


@dataclass(frozen=True)
class Salon:
    stylist: int
    idle_stylist: int
    open_booking: int  # yesterday 14:00 local, still "booked"


def _seed(db: AppDb) -> Salon:
    """Mara: a completed visit 3 days ago, a no-show 2 days ago, one still booked yesterday;
    she works 09:00-17:00 every day. Ivo works nobody's hours and has no bookings."""
    today = local_today(TZ)
    now = datetime.now(UTC)
    with write_tx(db.engine) as conn:
        operator = Actor.operator(business_id=db.business_id)
        mara = make_staff(conn, db.business_id, name="Mara")
        ivo = make_staff(conn, db.business_id, name="Ivo")
        service = make_service(conn, db.business_id, name="Cut & style")
        customer = make_customer(conn, db.business_id)
        week = [Shift(weekday=d, start=time(9), end=time(17)) for d in range(7)]
        save_working_hours(conn, actor=operator, staff_id=mara, shifts=week)
        ids = []
        for days_ago, hour, status in ((3, 10, "completed"), (2, 11, "no_show"), (1, 14, "booked")):
            start = local_day_bounds(today - timedelta(days=days_ago), TZ)[0] + timedelta(
                hours=hour
            )
            values = {
                "business_id": db.business_id, "staff_id": mara, "service_id": service,
                "customer_id": customer, "starts_at": start,
                "ends_at": start + timedelta(minutes=45), "status": status,
                "price_cents": 4500, "created_at": start - timedelta(days=7), "updated_at": now,
            }  # fmt: skip
            ids.append(int(conn.execute(appointments.insert().values(**values)).lastrowid))
    return Salon(stylist=mara, idle_stylist=ivo, open_booking=ids[-1])


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _run(db: AppDb, role: Role = Role.OWNER) -> AppTest:
    at = open_app(db.users[role], page=PAGE).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("role", [Role.OWNER, Role.ANALYST], ids=lambda r: r.value)
def test_owner_and_analyst_see_kpi_cards_and_charts(app_db: AppDb, role: Role) -> None:
    _seed(app_db)
    at = _run(app_db, role)
    assert [t.value for t in at.title] == ["Overview"]
    metrics = _metrics(at)
    assert list(metrics) == KPI_LABELS
    assert metrics["Bookings"] == "3" and metrics["Completed visits"] == "1"
    assert metrics["Revenue"] == "€45.00"
    assert metrics["No-show rate"] == "50.0%"  # 1 no-show / (1 completed + 1 no-show)
    assert len(at.get("plotly_chart")) == 6  # trend, heatmap, 2 leaderboards, cohorts, risk
    staff_table = at.dataframe[0].value
    assert staff_table.iloc[0]["Staff"] == "Mara" and staff_table.iloc[0]["Revenue"] == "€45.00"
    assert any("Rebooking counts a visit" in c.value for c in at.caption)  # the notes
    assert not at.error


def test_staff_are_refused(app_db: AppDb) -> None:
    _seed(app_db)
    at = _run(app_db, Role.STAFF)
    assert [e.value for e in at.error] == ["Your role (staff) may not open this page."]
    assert not at.title and not at.metric


def test_an_empty_business_gets_a_friendly_empty_state(app_db: AppDb) -> None:
    at = _run(app_db)
    assert not at.metric and not at.error
    [info] = at.info
    assert info.value.startswith("No bookings in ") and "Pick a wider date range" in info.value


def test_a_filter_matching_nothing_says_what_to_change(app_db: AppDb) -> None:
    salon = _seed(app_db)
    at = _run(app_db)
    assert at.multiselect(key="ov_staff").options == ["Ivo", "Mara"]
    at.multiselect(key="ov_staff").select(salon.idle_stylist).run()
    assert not at.exception and not at.metric
    assert "Clear a filter" in at.info[0].value


def test_a_range_too_long_shows_the_reason(app_db: AppDb) -> None:
    _seed(app_db)
    at = _run(app_db)
    today = local_today(TZ)
    at.date_input(key="ov_dates").set_value((today - timedelta(days=1200), today)).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Pick at most 1098 days; this is 1201."]
    assert not at.metric
    at.date_input(key="ov_dates").set_value((today,)).run()  # only a start picked so far
    assert not at.exception and not at.error and not at.metric
    assert at.info[0].value == "Pick an end date too: the Overview covers a range of days."


def test_trend_heatmap_and_leaderboard_controls_rerender(app_db: AppDb) -> None:
    _seed(app_db)
    at = _run(app_db)
    at.segmented_control(key="ov_grain").set_value("week")
    at.selectbox(key="ov_trend_metric").set_value("revenue_cents")
    at.segmented_control(key="ov_heat_metric").set_value("utilization")
    at.selectbox(key="ov_board_metric").set_value("no_show_rate")
    at.run()
    assert not at.exception and not at.error
    assert _metrics(at)["Bookings"] == "3"


def test_a_changed_booking_shows_on_the_next_render(app_db: AppDb) -> None:
    salon = _seed(app_db)
    at = _run(app_db)
    before = _metrics(at)
    assert (before["Completed visits"], before["Revenue"]) == ("1", "€45.00")
    set_appointment_status(
        app_db.engine, actor=Actor.operator(business_id=app_db.business_id),
        appointment_id=salon.open_booking, status="completed",
    )  # fmt: skip
    at.run()
    assert not at.exception
    after = _metrics(at)
    assert (after["Completed visits"], after["Revenue"]) == ("2", "€90.00")
    assert after["Bookings"] == "3"
