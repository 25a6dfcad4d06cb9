"""The demo generator: a believable, valid, deterministic salon, and seeding it."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import numpy as np
import pandas as pd
import phonenumbers
import pytest
import sqlalchemy as sa

from auth.passwords import verify_password
from data.demo import (
    DEMO_ACCOUNTS,
    DEMO_SLUG,
    DemoAlreadySeeded,
    DemoData,
    build_demo,
    seed_demo,
)
from data.schema import (
    accounts,
    appointments,
    audit_log,
    businesses,
    customers,
    metadata,
    staff,
)

TODAY = date(2026, 11, 25)
TZ = "Europe/Berlin"
SMALL = 2_500


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return build_demo(today=TODAY)


def _local(series: pd.Series) -> pd.Series:
    return series.dt.tz_convert(TZ)


def _past_live(demo: DemoData) -> pd.DataFrame:
    a = demo.appointments
    return a[(a["ends_at"] <= demo.now) & (a["status"] != "cancelled")]


def _lead_days(frame: pd.DataFrame) -> pd.Series:
    return (frame["starts_at"] - frame["created_at"]).dt.total_seconds() / 86_400


def _days_away(demo: DemoData) -> pd.DataFrame:
    """Every (staff_id, local date) covered by time off; staff_id NA for closures."""
    rows = [
        (row.staff_id, day.date())
        for row in demo.time_off.itertuples()
        for day in pd.date_range(
            row.starts_at.tz_convert(TZ).date(), row.ends_at.tz_convert(TZ).date(), inclusive="left"
        )
    ]
    return pd.DataFrame(rows, columns=["staff_id", "day"])


def _open_minutes(demo: DemoData, days: pd.DatetimeIndex) -> int:
    """Scheduled working minutes on `days`, minus closures and each stylist's time off."""
    hours = demo.working_hours
    minutes = [
        (e.hour * 60 + e.minute) - (s.hour * 60 + s.minute)
        for s, e in zip(hours["start_time"], hours["end_time"], strict=True)
    ]
    shifts = hours.assign(minutes=minutes)[["staff_id", "weekday", "minutes"]]
    away = _days_away(demo)
    closed = set(away.loc[away["staff_id"].isna(), "day"])
    calendar = pd.DataFrame({"day": days.date, "weekday": days.day_of_week})
    plan = calendar[~calendar["day"].isin(closed)].merge(shifts, on="weekday")
    absent = away.dropna().astype({"staff_id": int}).drop_duplicates().assign(absent=True)
    plan = plan.merge(absent, on=["staff_id", "day"], how="left")
    return int(plan.loc[plan["absent"].isna(), "minutes"].sum())


# --- the pure build -----------------------------------------------------------------------
def test_default_size_is_one_believable_salon(demo: DemoData) -> None:
    assert 6 <= len(demo.staff) <= 8
    assert len(demo.services) == 12
    assert demo.services["category"].nunique() >= 4
    assert 2_000 <= len(demo.customers) <= 10_000
    assert 15_000 <= len(demo.appointments) <= 35_000
    assert demo.staff_services.groupby("staff_id").size().lt(12).any()  # not everyone does all
    assert set(demo.staff_services["service_id"]) == set(demo.services["id"])


def test_two_years_back_and_a_few_weeks_ahead(demo: DemoData) -> None:
    local = _local(demo.appointments["starts_at"]).dt.date
    two_years_ago = TODAY.replace(year=TODAY.year - 2)
    assert two_years_ago <= local.min() <= two_years_ago + timedelta(days=7)
    assert TODAY + timedelta(days=14) <= local.max() <= TODAY + timedelta(days=42)


def test_instants_are_utc_and_consistent(demo: DemoData) -> None:
    a = demo.appointments.merge(
        demo.services[["id", "duration_min", "price_cents"]],
        left_on="service_id",
        right_on="id",
        suffixes=("", "_service"),
    )
    for column in ("starts_at", "ends_at", "created_at", "updated_at", "cancelled_at"):
        assert str(a[column].dt.tz) == "UTC", column
    assert (a["ends_at"] - a["starts_at"] == pd.to_timedelta(a["duration_min"], unit="min")).all()
    assert (a["price_cents"] == a["price_cents_service"]).all()
    assert (a["created_at"] <= a["starts_at"]).all() and (a["created_at"] <= demo.now).all()
    assert (a["updated_at"] >= a["created_at"]).all() and (a["updated_at"] <= demo.now).all()
    assert set(a["source"]) <= {"online", "phone", "walk_in", "staff"}


def test_no_stylist_is_double_booked(demo: DemoData) -> None:
    live = demo.appointments[demo.appointments["status"] != "cancelled"]
    buffer = live["service_id"].map(demo.services.set_index("id")["buffer_min"])
    live = live.assign(free_at=live["ends_at"] + pd.to_timedelta(buffer, unit="min"))
    live = live.sort_values(["staff_id", "starts_at"])
    same = live["staff_id"].eq(live["staff_id"].shift())
    assert (live["starts_at"][same] >= live["free_at"].shift()[same]).all()


def test_appointments_lie_inside_working_hours(demo: DemoData) -> None:
    a = demo.appointments
    start, end = _local(a["starts_at"]), _local(a["ends_at"])
    local = pd.DataFrame(
        {
            "id": a["id"],
            "staff_id": a["staff_id"],
            "weekday": start.dt.day_of_week,
            "start": start.dt.hour * 60 + start.dt.minute,
            "end": end.dt.hour * 60 + end.dt.minute,
            "same_day": start.dt.date == end.dt.date,
        }
    )
    hours = demo.working_hours.drop(columns="id").assign(
        open=[t.hour * 60 + t.minute for t in demo.working_hours["start_time"]],
        close=[t.hour * 60 + t.minute for t in demo.working_hours["end_time"]],
    )
    pairs = local.merge(hours, on=["staff_id", "weekday"])
    pairs["inside"] = (pairs["open"] <= pairs["start"]) & (pairs["end"] <= pairs["close"])
    inside = pairs.groupby("id")["inside"].any().reindex(a["id"], fill_value=False)
    assert inside.all() and local["same_day"].all()
    assert (start.dt.minute % 15 == 0).all()


def test_closed_on_sundays_holidays_and_time_off(demo: DemoData) -> None:
    a = demo.appointments
    local_day = _local(a["starts_at"]).dt.date
    assert not (_local(a["starts_at"]).dt.day_of_week == 6).any()
    public = holidays.country_holidays("DE", years=range(TODAY.year - 2, TODAY.year + 1))
    assert not local_day.isin(list(public)).any()
    closures = demo.time_off[demo.time_off["staff_id"].isna()]
    assert set(closures["starts_at"].dt.tz_convert(TZ).dt.date) >= {
        d for d in public if local_day.min() <= d <= TODAY
    }
    away = demo.time_off.dropna(subset=["staff_id"]).astype({"staff_id": int})
    assert (away["reason"] == "Vacation").any() and (away["reason"] == "Sick leave").any()
    pairs = a.merge(away, on="staff_id", suffixes=("", "_off"))
    overlap = pairs["starts_at"] < pairs["ends_at_off"]
    assert not (overlap & (pairs["starts_at_off"] < pairs["ends_at"])).any()


def test_local_times_survive_daylight_saving(demo: DemoData) -> None:
    starts = demo.appointments["starts_at"]
    local = _local(starts)
    for month, utc_offset in ((1, 1), (7, 2)):  # CET in winter, CEST in summer
        in_month = local.dt.month == month
        assert local[in_month].dt.hour.min() == 8  # the earliest shift opens at 08:00
        assert starts[in_month].dt.hour.min() == 8 - utc_offset


def test_statuses_follow_the_clock(demo: DemoData) -> None:
    a = demo.appointments
    past = a["ends_at"] <= demo.now
    assert set(a.loc[past, "status"]) == {"completed", "cancelled", "no_show"}
    assert set(a.loc[~past, "status"]) == {"booked", "confirmed", "cancelled"}
    cancelled = a["status"] == "cancelled"
    assert (a["cancelled_at"].notna() == cancelled).all()
    c = a[cancelled]
    assert (c["cancelled_at"] >= c["created_at"]).all() and (c["cancelled_at"] <= demo.now).all()
    assert (c["cancelled_at"] <= c["starts_at"]).all()


def test_no_shows_and_cancellations_are_plausible(demo: DemoData) -> None:
    live = _past_live(demo)
    no_show = live["status"] == "no_show"
    assert 0.02 <= no_show.mean() <= 0.12
    lead = _lead_days(live)
    assert no_show[lead > 14].mean() > 2 * no_show[lead < 1].mean()
    past = demo.appointments[demo.appointments["ends_at"] <= demo.now]
    assert 0.03 <= (past["status"] == "cancelled").mean() <= 0.2


def test_reminders_reduce_no_shows(demo: DemoData) -> None:
    live = _past_live(demo).dropna(subset=["customer_id"])
    opted = live["customer_id"].map(demo.customers.set_index("id")["sms_opt_in"]).astype(bool)
    no_show = live["status"] == "no_show"
    assert no_show[opted].mean() < no_show[~opted].mean()


def test_weekly_daily_and_yearly_rhythm(demo: DemoData) -> None:
    live = _past_live(demo)
    local = _local(live["starts_at"])
    per_weekday = local.dt.day_of_week.value_counts()
    assert per_weekday[5] > 1.2 * per_weekday[1]  # Saturday vs Tuesday
    assert per_weekday.idxmax() in (4, 5) and 6 not in per_weekday
    per_hour = local.dt.hour.value_counts()
    assert per_hour[11] > per_hour[13] and per_hour[17] > per_hour[19]
    days = local.dt.date
    pre_christmas = np.array([d.month == 12 and d.day <= 23 for d in days])
    summer = local.dt.month.isin([7, 8]).to_numpy()
    january = (local.dt.month == 1).to_numpy()
    rate = {  # appointments per calendar day in each season
        "december": pre_christmas.sum() / (2 * 23),
        "summer": summer.sum() / (2 * 62),
        "january": january.sum() / (2 * 31),
    }
    assert rate["december"] > rate["summer"] and rate["december"] > rate["january"]


def test_the_salon_grows_and_is_well_used(demo: DemoData) -> None:
    live = _past_live(demo)
    now = pd.Timestamp(demo.now)
    first_year = live["starts_at"] < now - pd.Timedelta(days=365)
    assert (~first_year).sum() > 1.05 * first_year.sum()
    days = pd.date_range(TODAY.replace(year=TODAY.year - 2), TODAY, inclusive="left")
    booked = live["service_id"].map(demo.services.set_index("id")["duration_min"]).sum()
    assert 0.6 <= booked / _open_minutes(demo, days) <= 0.75


def test_customers_join_and_churn(demo: DemoData) -> None:
    visits = demo.appointments[demo.appointments["status"] != "cancelled"].dropna(
        subset=["customer_id"]
    )
    per_customer = visits.groupby("customer_id")["starts_at"].agg(["count", "min", "max"])
    half_year_ago = pd.Timestamp(demo.now) - pd.Timedelta(days=182)
    churned = (per_customer["count"] >= 4) & (per_customer["max"] < half_year_ago)
    assert churned.sum() >= 50
    year_ago = pd.Timestamp(demo.now) - pd.Timedelta(days=365)
    assert (demo.customers["created_at"] > year_ago).sum() >= 300
    assert (per_customer["count"] == 1).sum() >= 200  # one-time visitors
    assert 0.0 < demo.appointments["customer_id"].isna().mean() < 0.05  # walk-ins, no record
    first_visit = per_customer["min"].reindex(demo.customers["id"]).to_numpy()
    seen = ~pd.isna(first_visit)
    assert (demo.customers["created_at"].to_numpy()[seen] <= first_visit[seen]).all()


def test_customer_contacts_are_valid_and_fictional(demo: DemoData) -> None:
    people = demo.customers
    phones = people["phone"].dropna()
    assert len(phones) > 0.8 * len(people)
    for phone in phones:
        parsed = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(parsed), phone
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == phone
    emails = people["email"].dropna()
    assert emails.str.fullmatch(r"[a-z0-9.]+@example\.(com|org|net)").all()
    assert emails.is_unique and len(emails) > 0.7 * len(people)
    assert (people["phone"].notna() | people["email"].notna()).all()
    for channel in ("sms", "email"):
        opted = people[f"{channel}_opt_in"]
        assert 0.4 < opted.mean() < 0.95
        assert (people[f"{channel}_opt_in_at"].notna() == opted).all()
    assert (people["sms_opt_in"] <= people["phone"].notna()).all()
    assert people["tags"].map(len).gt(0).mean() > 0.1
    assert 0 < (people["notes"] != "").sum() < 0.2 * len(people)


def test_same_inputs_same_data_other_seed_other_data(demo: DemoData) -> None:
    again = build_demo(today=TODAY)
    for name in ("staff", "services", "working_hours", "time_off", "customers", "appointments"):
        pd.testing.assert_frame_equal(getattr(demo, name), getattr(again, name), obj=name)
    other = build_demo(today=TODAY, seed=8)
    assert not demo.appointments["starts_at"].equals(other.appointments["starts_at"])


def test_exact_sizes_small_and_beyond_one_salon() -> None:
    small = build_demo(appointments=SMALL, today=TODAY)
    assert len(small.appointments) == SMALL and len(small.staff) == 7
    big = build_demo(appointments=60_000, today=TODAY)
    assert len(big.appointments) == 60_000
    assert len(big.staff) > 8 and len(big.customers) > 2 * 3_000
    assert big.appointments["staff_id"].nunique() == len(big.staff)
    with pytest.raises(ValueError, match="at least 1"):
        build_demo(appointments=0, today=TODAY)


# --- seeding a database -------------------------------------------------------------------
def _count(conn: sa.Connection, table: sa.Table) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_seed_writes_the_whole_business(engine: sa.Engine) -> None:
    calls: list[tuple[str, float]] = []
    summary = seed_demo(
        engine, appointments=SMALL, today=TODAY, progress=lambda s, f: calls.append((s, f))
    )
    fractions = [fraction for _, fraction in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    with engine.connect() as conn:
        business = conn.execute(sa.select(businesses)).mappings().one()
        assert (business["slug"], business["is_demo"]) == (DEMO_SLUG, True)
        assert (business["timezone"], business["country"]) == (TZ, "DE")
        assert summary.business_id == business["id"]
        assert _count(conn, staff) == summary.staff
        assert _count(conn, customers) == summary.customers
        assert _count(conn, appointments) == summary.appointments == SMALL
        first = conn.execute(sa.select(sa.func.min(appointments.c.starts_at))).scalar_one()
        assert first == summary.first_start
        # instants written in bulk compare equal to bound parameters (same text on SQLite)
        hits = sa.select(sa.func.count()).where(appointments.c.starts_at == summary.last_start)
        assert conn.execute(hits).scalar_one() >= 1
        statuses = conn.execute(
            sa.select(appointments.c.status, sa.func.count()).group_by(appointments.c.status)
        )
        built = build_demo(appointments=SMALL, today=TODAY).appointments
        assert dict(statuses.all()) == built["status"].value_counts().to_dict()
        opted = conn.execute(sa.select(customers).where(customers.c.sms_opt_in)).mappings().first()
        assert opted["sms_opt_in"] is True and opted["sms_opt_in_at"].tzinfo is not None
        assert isinstance(opted["tags"], list)
        seeded = conn.execute(sa.select(audit_log).where(audit_log.c.action == "seed")).mappings()
        assert seeded.one()["diff"]["appointments"] == [None, SMALL]


def test_seed_creates_working_demo_accounts(engine: sa.Engine) -> None:
    seed_demo(engine, appointments=SMALL, today=TODAY)
    with engine.connect() as conn:
        rows = {r["email"]: r for r in conn.execute(sa.select(accounts)).mappings()}
        linked = conn.execute(sa.select(staff).where(staff.c.account_id.isnot(None))).mappings()
        linked = linked.one()
    assert {a.role for a in DEMO_ACCOUNTS} == {"owner", "staff", "analyst"}
    for account in DEMO_ACCOUNTS:
        row = rows[account.email]
        assert (row["role"], row["auth_provider"]) == (account.role, "local")
        assert verify_password(row["password_hash"], account.password)
        assert not verify_password(row["password_hash"], account.password + "x")
    staff_account = next(a for a in DEMO_ACCOUNTS if a.role == "staff")
    assert linked["account_id"] == rows[staff_account.email]["id"]
    assert linked["display_name"] == staff_account.display_name


def test_seeding_twice_is_refused(engine: sa.Engine) -> None:
    seed_demo(engine, appointments=SMALL, today=TODAY)
    with pytest.raises(DemoAlreadySeeded):
        seed_demo(engine, appointments=SMALL, today=TODAY)


def test_a_failed_seed_leaves_nothing_behind(engine: sa.Engine) -> None:
    def fail_midway(stage: str, _fraction: float) -> None:
        if stage == "writing appointments":
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        seed_demo(engine, appointments=SMALL, today=TODAY, progress=fail_midway)
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            assert _count(conn, table) == 0, table.name
