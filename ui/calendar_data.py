"""Cached readers behind the Calendar page, keyed by business, filters and data version."""

from __future__ import annotations

from datetime import date, time

import streamlit as st
from sqlalchemy.engine import Engine

from auth.roles import Actor
from data.bookings import load_calendar, load_schedules
from data.db import read_conn
from scheduling.availability import Interval, compute_working_intervals
from scheduling.calendar_view import build_appointment_events, build_background_events
from scheduling.catalog import to_local
from scheduling.timezones import local_day_bounds

DEFAULT_HOURS = (time(8), time(20))


def load_calendar_events(
    actor: Actor,
    engine: Engine,
    *,
    tz: str,
    start_day: date,
    days: int,
    staff_ids: tuple[int, ...],
    service_ids: tuple[int, ...],
    version: tuple,
) -> tuple[list[dict], tuple[str, str]]:
    """Events for the visible days and the hours to show; recomputed only on a new version."""
    return _cached(
        actor.business_id, tz, start_day, days, staff_ids, service_ids, version, actor, engine
    )


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def _cached(
    business_id: int,
    tz: str,
    start_day: date,
    days: int,
    staff_ids: tuple[int, ...],
    service_ids: tuple[int, ...],
    version: tuple,
    _actor: Actor,
    _engine: Engine,
) -> tuple[list[dict], tuple[str, str]]:
    start, end = local_day_bounds(start_day, tz, days=days)
    with read_conn(_engine) as conn:
        rows = load_calendar(
            conn, actor=_actor, start=start, end=end,
            staff_ids=list(staff_ids) or None, service_ids=list(service_ids) or None,
        )  # fmt: skip
        schedules = load_schedules(
            conn, actor=_actor, start=start, end=end, staff_ids=list(staff_ids) or None
        )
    working = {
        s.staff_id: compute_working_intervals(s.shifts, timezone=tz, start=start, end=end)
        for s in schedules
    }
    time_off = {
        s.staff_id: [i for i in s.time_off if i.end > start and i.start < end] for s in schedules
    }
    events = build_appointment_events(rows, tz)
    events += build_background_events(working, time_off, tz, single_staff=len(staff_ids) == 1)
    return events, _visible_hours(working, tz)


def _visible_hours(working: dict[int, list[Interval]], tz: str) -> tuple[str, str]:
    """From the earliest start to the latest end of anyone's shift, padded by an hour."""
    starts = [to_local(i.start, tz).time() for intervals in working.values() for i in intervals]
    ends = [to_local(i.end, tz).time() for intervals in working.values() for i in intervals]
    first, last = (min(starts), max(ends)) if starts else DEFAULT_HOURS
    first_hour = max(first.hour - 1, 0)
    last_hour = min(last.hour + (2 if last.minute else 1), 24)
    return f"{first_hour:02d}:00:00", f"{last_hour:02d}:00:00"
