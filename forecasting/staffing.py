"""Forecast demand against scheduled capacity: flagged hours and shift suggestions. Pure.

Demand is the forecast of bookings starting in each local hour, turned into staff
minutes with the minutes a booking takes, and spread over the hours a booking lasts (a
90-minute booking starting in hour h fills 60 minutes of h and 30 of h + 1, as if it
started on the hour). Capacity is the rota's working minutes in that hour.
`build_staffing_facts` gives the plain facts the recommendations engine reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import time

import numpy as np
import pandas as pd

STAFFING_COLUMNS = [
    "ds",
    "weekday",
    "hour",
    "demand_minutes",
    "demand_upper_minutes",
    "capacity_minutes",
    "utilization",
    "flag",
    "shortfall_hours",
    "slack_hours",
]
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EPS = 1e-9


@dataclass(frozen=True)
class ShiftSuggestion:
    """A change to one weekday's rota, from the hours flagged in most of the horizon's
    weeks. `end` is exclusive (time(0) = midnight at the day's end); `expected_hours` is
    the expected shortfall ("under") or idle time ("over") summed over the horizon."""

    flag: str  # "under" | "over"
    weekday: int  # 0 = Monday
    start: time
    end: time
    staff_delta: int  # + staff to add, - staff who could go
    expected_hours: float
    weeks: int
    text: str


def compute_minutes_per_booking(hourly: pd.DataFrame) -> pd.DataFrame:
    """Booked minutes per booking by local weekday (0 = Monday) and hour, from an hourly
    series with y and booked_minutes: columns weekday, hour, minutes_per_booking. Hours
    without bookings are absent (compute_staffing falls back to the frame's mean)."""
    frame = pd.DataFrame(
        {
            "weekday": hourly["ds"].dt.day_of_week,
            "hour": hourly["ds"].dt.hour,
            "y": hourly["y"],
            "booked_minutes": hourly["booked_minutes"],
        }
    )
    sums = frame.groupby(["weekday", "hour"], as_index=False)[["y", "booked_minutes"]].sum()
    sums = sums[sums["y"] > 0]
    sums["minutes_per_booking"] = sums["booked_minutes"] / sums["y"]
    return sums[["weekday", "hour", "minutes_per_booking"]].reset_index(drop=True)


def compute_staffing(
    forecast: pd.DataFrame,
    future: pd.DataFrame,
    *,
    minutes_per_booking: float | pd.DataFrame,
    staff_minutes_per_hour: float = 60.0,
    high: float = 0.9,
    low: float = 0.4,
) -> pd.DataFrame:
    """One row per hour of `future` (ds, is_open, capacity_minutes), with the forecast
    (ds, yhat, yhat_upper) turned into demand: columns ds, weekday (0 = Monday), hour,
    demand_minutes (expected, from yhat), demand_upper_minutes (from yhat_upper),
    capacity_minutes, utilization (demand / capacity; NaN when closed), flag,
    shortfall_hours (expected demand beyond capacity), slack_hours (capacity beyond
    expected demand).

    The rule, for hours with capacity (closed hours are always "ok", with no shortfall
    or slack):
    - "under" when the forecast's upper bound of demand reaches `high` x capacity: busy
      weeks would run at or past capacity, so the risk is flagged even when the
      expected demand still fits;
    - "over" otherwise, when expected demand keeps `low` x capacity or less busy: the
      staff sit mostly idle;
    - "ok" in between.
    `minutes_per_booking` is one number or a frame by weekday and hour
    (compute_minutes_per_booking). `staff_minutes_per_hour` is one person's hour.
    """
    frame = future[["ds", "capacity_minutes"]].merge(
        forecast[["ds", "yhat", "yhat_upper"]], on="ds", how="left"
    )
    yhat = frame["yhat"].fillna(0.0).clip(lower=0.0)
    upper = np.maximum(frame["yhat_upper"].fillna(0.0), yhat)
    frame["weekday"] = frame["ds"].dt.day_of_week
    frame["hour"] = frame["ds"].dt.hour
    per_booking = _per_booking(frame, minutes_per_booking)
    frame["demand_minutes"] = _spread(frame["ds"], yhat, per_booking, staff_minutes_per_hour)
    frame["demand_upper_minutes"] = _spread(frame["ds"], upper, per_booking, staff_minutes_per_hour)
    return _flag(frame, high=high, low=low)


def _flag(frame: pd.DataFrame, *, high: float, low: float) -> pd.DataFrame:
    capacity = frame["capacity_minutes"].astype("float64")
    is_open = capacity > 0
    safe = capacity.where(is_open)
    frame["capacity_minutes"] = capacity
    frame["utilization"] = frame["demand_minutes"] / safe
    upper_share = frame["demand_upper_minutes"] / safe
    frame["flag"] = np.select(
        [is_open & (upper_share >= high - _EPS), is_open & (frame["utilization"] <= low + _EPS)],
        ["under", "over"],
        "ok",
    )
    gap = frame["demand_minutes"] - capacity
    frame["shortfall_hours"] = gap.clip(lower=0.0).where(is_open, 0.0) / 60.0
    frame["slack_hours"] = (-gap).clip(lower=0.0).where(is_open, 0.0) / 60.0
    return frame[STAFFING_COLUMNS].reset_index(drop=True)


def _per_booking(frame: pd.DataFrame, minutes_per_booking: float | pd.DataFrame) -> pd.Series:
    if not isinstance(minutes_per_booking, pd.DataFrame):
        return pd.Series(float(minutes_per_booking), index=frame.index)
    table = minutes_per_booking[["weekday", "hour", "minutes_per_booking"]]
    if table.empty:
        raise ValueError("minutes_per_booking has no rows: pass a number instead")
    looked_up = frame[["weekday", "hour"]].merge(table, on=["weekday", "hour"], how="left")
    fallback = float(table["minutes_per_booking"].mean())
    return looked_up["minutes_per_booking"].fillna(fallback).set_axis(frame.index)


def _spread(
    ds: pd.Series, bookings: pd.Series, per_booking: pd.Series, hour_minutes: float
) -> np.ndarray:
    """Staff minutes per hour of bookings starting at ds, each lasting per_booking."""
    longest = float(per_booking.max()) if len(per_booking) else 0.0
    total = pd.Series(0.0, index=pd.DatetimeIndex(ds))
    for k in range(max(1, math.ceil(longest / hour_minutes - _EPS))):
        part = (per_booking - hour_minutes * k).clip(0.0, hour_minutes) * bookings
        shifted = pd.Series(part.to_numpy(), index=pd.DatetimeIndex(ds + pd.Timedelta(hours=k)))
        total = total.add(shifted, fill_value=0.0)
    return total.reindex(pd.DatetimeIndex(ds)).fillna(0.0).to_numpy()


def suggest_shift_changes(
    staffing: pd.DataFrame, *, role: str = "stylist", staff_minutes_per_hour: float = 60.0
) -> list[ShiftSuggestion]:
    """Windows of consecutive hours on one weekday flagged the same way in at least half
    of the horizon's weeks (open weeks only; "under" wins a tie), as rota changes.

    "under": add enough staff to cover the peak hour's average expected shortfall (at
    least 1). "over": drop the staff that even the upper bound of demand leaves idle in
    every hour of the window (at least 1: shorten a shift). Sorted under first, then by
    expected hours (largest first), weekday and start."""
    weeks = max(1, round(staffing["ds"].dt.normalize().nunique() / 7))
    slots = _weekly_slots(staffing)
    suggestions = []
    for (_, flag), hours in slots[slots["flag"] != "ok"].groupby(["weekday", "flag"]):
        runs = (hours["hour"].diff() != 1).cumsum()
        for _, window in hours.groupby(runs):
            suggestions.append(_suggest(window, flag, staff_minutes_per_hour, weeks, role))
    return sorted(
        suggestions,
        key=lambda s: (s.flag != "under", -s.expected_hours, s.weekday, s.start),
    )


def _weekly_slots(staffing: pd.DataFrame) -> pd.DataFrame:
    """Per weekday and hour over open hours: the prevailing flag, mean demand, upper
    demand and capacity, and total shortfall and slack over the horizon."""
    open_hours = staffing[staffing["capacity_minutes"] > 0].copy()
    open_hours["under"] = open_hours["flag"] == "under"
    open_hours["over"] = open_hours["flag"] == "over"
    slots = open_hours.groupby(["weekday", "hour"], as_index=False).agg(
        under=("under", "mean"),
        over=("over", "mean"),
        demand=("demand_minutes", "mean"),
        upper=("demand_upper_minutes", "mean"),
        capacity=("capacity_minutes", "mean"),
        shortfall=("shortfall_hours", "sum"),
        slack=("slack_hours", "sum"),
    )
    slots["flag"] = np.select(
        [slots["under"] >= 0.5, slots["over"] >= 0.5], ["under", "over"], "ok"
    )
    return slots.sort_values(["weekday", "hour"])


def _suggest(
    window: pd.DataFrame, flag: str, staff_minutes: float, weeks: int, role: str
) -> ShiftSuggestion:
    weekday = int(window["weekday"].iloc[0])
    first, last = int(window["hour"].min()), int(window["hour"].max()) + 1
    span = f"{WEEKDAYS[weekday]} {first:02d}:00–{last:02d}:00"
    per_week = f"over {weeks} week{'s' if weeks != 1 else ''}"
    if flag == "under":
        short = (window["demand"] - window["capacity"]).clip(lower=0.0) / staff_minutes
        delta = max(1, math.ceil(float(short.max()) - _EPS))
        hours = round(float(window["shortfall"].sum()), 1)
        reason = (
            f"about {hours:.1f} h short {per_week}"
            if hours >= 0.05
            else "busy weeks could reach capacity"
        )
        text = f"Add {delta} {_noun(role, delta)} {span} ({reason})"
    else:
        idle = (window["capacity"] - window["upper"]) / staff_minutes
        delta = -max(1, math.floor(float(idle.min()) + _EPS))
        hours = round(float(window["slack"].sum()), 1)
        staff = max(1, round(float(window["capacity"].mean()) / staff_minutes))
        text = (
            f"{span}: {staff} {_noun(role, staff)} idle most of the time "
            f"(about {hours:.1f} h idle {per_week}); consider shortening a shift"
        )
    start, end = time(first), time(last % 24)
    return ShiftSuggestion(flag, weekday, start, end, delta, hours, weeks, text)


def _noun(role: str, count: int) -> str:
    return role if count == 1 else f"{role}s"


def build_staffing_facts(
    staffing: pd.DataFrame, suggestions: list[ShiftSuggestion]
) -> list[dict[str, object]]:
    """Plain, JSON-ready facts (no names, no PII): one "staffing_summary" over the
    horizon, then one "shift_suggestion" per suggestion in order."""
    open_hours = staffing[staffing["capacity_minutes"] > 0]
    capacity = float(open_hours["capacity_minutes"].sum())
    demand = float(open_hours["demand_minutes"].sum())
    summary: dict[str, object] = {
        "fact": "staffing_summary",
        "weeks": max(1, round(staffing["ds"].dt.normalize().nunique() / 7)),
        "open_hours": len(open_hours),
        "under_staffed_hours": int((open_hours["flag"] == "under").sum()),
        "over_staffed_hours": int((open_hours["flag"] == "over").sum()),
        "shortfall_hours": round(float(open_hours["shortfall_hours"].sum()), 1),
        "slack_hours": round(float(open_hours["slack_hours"].sum()), 1),
        "utilization": round(demand / capacity, 3) if capacity else None,
    }
    return [summary, *(_suggestion_fact(s) for s in suggestions)]


def _suggestion_fact(suggestion: ShiftSuggestion) -> dict[str, object]:
    return {
        "fact": "shift_suggestion",
        "flag": suggestion.flag,
        "weekday": WEEKDAYS[suggestion.weekday],
        "start": suggestion.start.strftime("%H:%M"),
        "end": "24:00" if suggestion.end == time(0) else suggestion.end.strftime("%H:%M"),
        "staff_delta": suggestion.staff_delta,
        "expected_hours": suggestion.expected_hours,
        "weeks": suggestion.weeks,
        "text": suggestion.text,
    }
