"""FullCalendar events from appointments, hours and time off. Pure.

The calendar runs with `timeZone: "UTC"` and is fed the business's *wall-clock* times
dressed as UTC ("10:00 local" is sent as 10:00Z). It then shows local times whatever
the browser's zone, needs no time-zone plugin, and what it sends back (clicks, drags)
is local wall-clock time too, which `parse_calendar_time` turns into a real UTC instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduling.availability import Interval
from scheduling.booking_rules import STATUS_LABELS
from scheduling.catalog import to_utc

#: Finished appointments fade; open ones stay solid.
OPACITY = {"completed": 0.55, "no_show": 0.55, "cancelled": 0.35}
MOVABLE = frozenset({"booked", "confirmed"})
OFF_COLOR = "#D9D9D9"
HOURS_COLOR = "#E8F3EF"


def to_wall_clock(instant: datetime, tz_name: str) -> str:
    """A UTC instant as the calendar's fake-UTC ISO string of its local wall-clock time."""
    local = instant.astimezone(ZoneInfo(tz_name)).replace(tzinfo=None)
    return local.isoformat(timespec="minutes") + "Z"


def parse_calendar_time(value: str, tz_name: str) -> datetime:
    """The real UTC instant of a wall-clock time the calendar sent back."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    local = parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    return to_utc(local, tz_name)


def _title(row: Mapping[str, Any]) -> str:
    customer = row.get("customer_name") or "Walk-in"
    status = STATUS_LABELS.get(row["status"], row["status"])
    return f"{customer} · {row['service_name']} · {status}"


def build_appointment_events(rows: Iterable[Mapping[str, Any]], tz_name: str) -> list[dict]:
    """One event per appointment, coloured by staff member, faded when finished."""
    events = []
    for row in rows:
        events.append(
            {
                "id": str(row["id"]),
                "title": _title(row),
                "start": to_wall_clock(row["starts_at"], tz_name),
                "end": to_wall_clock(row["ends_at"], tz_name),
                "backgroundColor": row.get("staff_color") or "#4C78A8",
                "borderColor": row.get("staff_color") or "#4C78A8",
                "textColor": "#FFFFFF",
                "editable": row["status"] in MOVABLE,
                "extendedProps": {
                    "staff": row.get("staff_name", ""),
                    "status": row["status"],
                    "opacity": OPACITY.get(row["status"], 1.0),
                },
                "classNames": [f"status-{row['status']}"],
            }
        )
    return events


def build_background_events(
    working: Mapping[int, Sequence[Interval]],
    time_off: Mapping[int, Sequence[Interval]],
    tz_name: str,
    *,
    single_staff: bool,
) -> list[dict]:
    """Working hours (light green) and time off (grey) behind the appointments.

    With one staff member shown, their own hours are drawn; with several, only time off
    (drawing everyone's hours on one grid would paint over each other)."""
    events: list[dict] = []
    if single_staff:
        for intervals in working.values():
            events += [_background(i, tz_name, HOURS_COLOR, "Working hours") for i in intervals]
    for intervals in time_off.values():
        events += [_background(i, tz_name, OFF_COLOR, "Time off") for i in intervals]
    return events


def _background(interval: Interval, tz_name: str, color: str, title: str) -> dict:
    return {
        "start": to_wall_clock(interval.start, tz_name),
        "end": to_wall_clock(interval.end, tz_name),
        "display": "background",
        "backgroundColor": color,
        "title": title,
    }


def calendar_options(*, view: str, initial_date: str, slot_min: str, slot_max: str) -> dict:
    """FullCalendar options (MIT-licensed views only: no premium resource views)."""
    return {
        "timeZone": "UTC",
        "initialView": view,
        "initialDate": initial_date,
        # Navigation is Slotboard's own date and view pickers: they decide which
        # appointments are loaded, so FullCalendar's buttons would show empty weeks.
        "headerToolbar": {"left": "", "center": "title", "right": ""},
        "slotMinTime": slot_min,
        "slotMaxTime": slot_max,
        "slotDuration": "00:15:00",
        "allDaySlot": False,
        "nowIndicator": False,
        "selectable": True,
        "editable": True,
        "eventDurationEditable": False,
        "firstDay": 1,
        "height": 720,
        "eventTimeFormat": {"hour": "2-digit", "minute": "2-digit", "hour12": False},
        "slotLabelFormat": {"hour": "2-digit", "minute": "2-digit", "hour12": False},
    }
