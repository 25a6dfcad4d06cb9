"""The Overview's tables below the KPI cards: by day, weekday x hour, staff, service,
cohort and lost slot. Pure: small SQL aggregates and the capacity frame in, the frames
analytics/report.py describes out. Rates are NaN where the denominator is zero."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

DAILY_COLUMNS = [
    "day", "bookings", "completed", "cancelled", "no_show",
    "revenue_cents", "booked_minutes", "available_minutes", "utilization",
]  # fmt: skip
BOARD_SUMS = ["bookings", "completed", "no_show", "revenue_cents", "booked_minutes"]
LOST_KINDS = {
    "cancelled": "Cancelled (24 h or more ahead)",
    "late_cancelled": "Cancelled late (under 24 h)",
    "no_show": "No-show",
}
WEEK_MINUTES = 7 * 1440


def _rate(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator.astype(float) / denominator.astype(float).where(denominator > 0)


def build_daily(
    daily: pd.DataFrame, capacity: pd.DataFrame, *, start: date, end: date
) -> pd.DataFrame:
    """One row per local day in [start, end], zeros where nothing happened."""
    days = pd.date_range(start, end, freq="D", unit="s", name="day")
    counts = daily.set_index("day").reindex(days, fill_value=0) if len(daily) else None
    frame = pd.DataFrame(index=days)
    for column in DAILY_COLUMNS[1:7]:
        values = counts[column] if counts is not None and column in counts else 0
        frame[column] = values
    available = capacity.groupby("day")["minutes"].sum() if len(capacity) else pd.Series()
    frame["available_minutes"] = available.reindex(days, fill_value=0.0).astype(float)
    frame["booked_minutes"] = frame["booked_minutes"].astype(float)
    frame["utilization"] = _rate(frame["booked_minutes"], frame["available_minutes"])
    return frame.reset_index()[DAILY_COLUMNS]


def spread_booked_minutes(profile: pd.DataFrame) -> pd.DataFrame:
    """Start profile (dow with 0 = Sunday, hour, minute, minutes, bookings) to weekday
    (0 = Monday) x hour: bookings by start hour, booked minutes spread over the hours
    each appointment covers (wrapping past midnight into the next day)."""
    dow, hour, minute, minutes, weight = (
        profile[column].to_numpy(dtype=np.int64)
        for column in ("dow", "hour", "minute", "minutes", "bookings")
    )
    start = ((dow + 6) % 7) * 1440 + hour * 60 + minute
    length = np.maximum(minutes, 0)
    first = start // 60
    counts = np.maximum(-(-(start + length) // 60) - first, 1)
    row = np.repeat(np.arange(len(start)), counts)
    step = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
    hour_index = first[row] + step
    covered = np.minimum(start[row] + length[row], (hour_index + 1) * 60) - np.maximum(
        start[row], hour_index * 60
    )
    slot = hour_index % (7 * 24)
    booked = np.bincount(slot, weights=np.maximum(covered, 0) * weight[row], minlength=168)
    starts = np.bincount(first % 168, weights=weight, minlength=168)
    return pd.DataFrame(
        {
            "weekday": np.arange(168) // 24,
            "hour": np.arange(168) % 24,
            "bookings": starts.astype(int),
            "booked_minutes": booked,
        }
    )


def build_heatmap(profile: pd.DataFrame, capacity: pd.DataFrame) -> pd.DataFrame:
    """Weekday x local hour (7 x 24 rows): bookings, booked and available minutes,
    utilization."""
    grid = spread_booked_minutes(profile)
    available = (
        capacity.groupby(["weekday", "hour"])["minutes"].sum()
        if len(capacity)
        else pd.Series(dtype=float)
    )
    index = pd.MultiIndex.from_arrays([grid["weekday"], grid["hour"]])
    grid["available_minutes"] = available.reindex(index, fill_value=0.0).to_numpy(dtype=float)
    grid["utilization"] = _rate(grid["booked_minutes"], grid["available_minutes"])
    return grid


def build_staff_board(
    summary: pd.DataFrame, capacity: pd.DataFrame, staff: pd.DataFrame
) -> pd.DataFrame:
    """Per staff member in scope (with bookings or capacity), by revenue."""
    sums = _board_sums(summary, "staff_id")
    available = capacity.groupby("staff_id")["minutes"].sum().rename("available_minutes")
    board = sums.join(available, how="outer").fillna(0)
    board = board.reset_index().rename(columns={"index": "staff_id"})
    board = board.merge(staff[["staff_id", "staff"]], on="staff_id", how="left")
    board["staff"] = board["staff"].fillna("(removed)")
    board["utilization"] = _rate(board["booked_minutes"], board["available_minutes"])
    board["no_show_rate"] = _rate(board["no_show"], board["completed"] + board["no_show"])
    columns = ["staff_id", "staff", "bookings", "completed", "revenue_cents",
               "booked_minutes", "available_minutes", "utilization", "no_show_rate"]  # fmt: skip
    return _ints(board)[columns].sort_values(["revenue_cents", "staff"], ascending=[False, True])


def build_service_board(
    summary: pd.DataFrame, services: pd.DataFrame, available_minutes: float
) -> pd.DataFrame:
    """Per service booked in the period, by revenue; utilization is the service's share
    of the available minutes."""
    board = _board_sums(summary, "service_id").reset_index()
    board = board.rename(columns={"index": "service_id"})
    board = board.merge(
        services[["service_id", "service", "category"]], on="service_id", how="left"
    )
    board[["service", "category"]] = board[["service", "category"]].fillna("(removed)")
    total = pd.Series(available_minutes, index=board.index)
    board["utilization"] = _rate(board["booked_minutes"], total)
    board["no_show_rate"] = _rate(board["no_show"], board["completed"] + board["no_show"])
    columns = ["service_id", "service", "category", "bookings", "completed", "revenue_cents",
               "booked_minutes", "utilization", "no_show_rate"]  # fmt: skip
    return _ints(board)[columns].sort_values(["revenue_cents", "service"], ascending=[False, True])


def _board_sums(summary: pd.DataFrame, key: str) -> pd.DataFrame:
    current = summary[summary["current"]] if len(summary) else summary
    if not len(current):
        return pd.DataFrame(columns=BOARD_SUMS, index=pd.Index([], name=key, dtype=int))
    return current.groupby(key)[BOARD_SUMS].sum().rename_axis(None)


def _ints(board: pd.DataFrame) -> pd.DataFrame:
    for column in ("bookings", "completed", "no_show", "revenue_cents"):
        board[column] = board[column].astype(int)
    for column in board.columns:
        if column.endswith("_id"):
            board[column] = board[column].astype(int)
    board["booked_minutes"] = board["booked_minutes"].astype(float)
    return board.reset_index(drop=True)


def build_cohorts(counts: pd.DataFrame) -> pd.DataFrame:
    """Cohort counts (cohort_month, active_month, customers; months as year*12+month-1)
    to cohort "YYYY-MM", months_since, customers, size, retention."""
    if not len(counts):
        return pd.DataFrame(
            {"cohort": [], "months_since": [], "customers": [], "size": [], "retention": []}
        ).astype({"months_since": int, "customers": int, "size": int, "retention": float})
    frame = counts.astype({"cohort_month": int, "active_month": int, "customers": int})
    frame = frame.assign(months_since=frame["active_month"] - frame["cohort_month"])
    sizes = frame[frame["months_since"] == 0].set_index("cohort_month")["customers"]
    frame["size"] = frame["cohort_month"].map(sizes).fillna(0).astype(int)
    frame["retention"] = _rate(frame["customers"], frame["size"])
    months = frame["cohort_month"]
    frame["cohort"] = (months // 12).astype(str) + "-" + (months % 12 + 1).map("{:02d}".format)
    frame = frame.sort_values(["cohort_month", "months_since"])
    return frame[["cohort", "months_since", "customers", "size", "retention"]].reset_index(
        drop=True
    )


def build_revenue_at_risk(lost: pd.DataFrame) -> pd.DataFrame:
    """One row per kind of lost slot, zeros where none."""
    columns = ["appointments", "value_cents", "refilled", "at_risk_cents"]
    frame = lost.set_index("kind")[columns] if len(lost) else pd.DataFrame(columns=columns)
    frame = frame.reindex(list(LOST_KINDS), fill_value=0).fillna(0).astype(int)
    frame.insert(0, "label", [LOST_KINDS[kind] for kind in frame.index])
    return frame.rename_axis("kind").reset_index()
