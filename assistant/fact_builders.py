"""Facts from frames: one builder per family of assistant/facts.py. Pure: the frames the
reports already compute in, `Fact`s out (no SQL, no data/); `reports/assistant_facts.py`
reads the frames and calls these.

Every builder returns [] when its input is empty, so the caller says why in `missing`.
Numbers are rounded (stable hashes, short prompts), NaN becomes None, money arrives in
minor units and leaves in major units. Staff are "Staff #id", never a name; a service's
name is data, carried in `detail["name"]` and the label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analytics.breakdowns import build_heatmap, build_staff_board
from analytics.kpis import KPI_SPECS
from assistant.facts import DetailValue, Fact
from forecasting.peaks import build_forecast_heatmap, find_peak_windows
from forecasting.staffing import ShiftSuggestion
from forecasting.staffing import build_staffing_facts as describe_staffing

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
IDLE_UTILIZATION = 0.5  # an hour is "mostly free" below this share booked
QUIET_SHARE = 0.5  # a forecast hour is "quiet" at or below this share of the mean open hour
WINDOW_HOURS = (2, 4)  # idle and quiet windows: at least 2, at most 4 consecutive hours
MAX_NAME = 80


def _num(value: Any, digits: int = 4) -> float | None:
    """A rounded float, or None for NaN, infinity and None."""
    if value is None:
        return None
    number = float(value)
    return round(number, digits) if math.isfinite(number) else None


def _money(cents: Any) -> float | None:
    value = _num(cents, 6)
    return None if value is None else round(value / 100.0, 2)


def _count(value: Any) -> int | None:
    number = _num(value)
    return None if number is None else int(round(number))


def _relative(value: float, previous: float) -> float | None:
    return _num((value - previous) / previous) if previous else None


def _clock(hour: int) -> str:
    return f"{hour:02d}:00"


def _span(weekday: int, first: int, last: int) -> tuple[str, str, str]:
    """("Mon", "09:00", "13:00") for hours first..last (inclusive); "24:00" at the end."""
    return WEEKDAYS[weekday], _clock(first), _clock(last + 1)


def _windows(hours: Sequence[int]) -> list[list[int]]:
    """Runs of consecutive hours, each split into near-equal windows of WINDOW_HOURS
    (a 7-hour run becomes 4 + 3); runs shorter than the minimum are dropped."""
    shortest, longest = WINDOW_HOURS
    runs: list[list[int]] = []
    for hour in sorted(hours):
        if runs and hour == runs[-1][-1] + 1:
            runs[-1].append(hour)
        else:
            runs.append([hour])
    windows = []
    for run in runs:
        if len(run) < shortest:
            continue
        parts = math.ceil(len(run) / longest)
        windows += [[int(h) for h in chunk] for chunk in np.array_split(np.array(run), parts)]
    return windows


def build_kpi_facts(kpis: pd.DataFrame, *, period_days: int) -> list[Fact]:
    """`kpi.{key}` from the KPI table (analytics.kpis.build_kpis), in KPI_SPECS order."""
    facts = []
    for row in kpis.itertuples(index=False):
        if row.key not in KPI_SPECS:
            continue
        scale = {"money": _money, "count": _count}.get(str(row.unit), _num)
        facts.append(Fact(
            id=f"kpi.{row.key}", topic="kpi", label=f"{row.label}, last {period_days} days",
            value=scale(row.value), unit=str(row.unit), change=_num(row.change),
            detail={"kind": str(row.unit), "better": str(row.better),
                    "previous": scale(row.previous)},
        ))  # fmt: skip
    return facts


def build_idle_facts(
    capacity: pd.DataFrame, profile: pd.DataFrame, *, weeks: int, top: int = 5
) -> list[Fact]:
    """`idle.{Mon}.{HH:MM}-{HH:MM}`: windows of 2-4 open hours, each under
    IDLE_UTILIZATION booked, from `weeks` weeks of capacity (analytics.capacity, local
    days and hours) and the start profile of the same days (data.analytics
    load_start_profile); the `top` with the most free hours per week."""
    if capacity.empty:
        return []
    grid = build_heatmap(profile, capacity).set_index(["weekday", "hour"])
    low = grid[(grid["available_minutes"] > 0) & (grid["utilization"] < IDLE_UTILIZATION)]
    candidates = []
    for weekday, hours in low.reset_index().groupby("weekday")["hour"]:
        for window in _windows(hours.tolist()):
            rows = grid.loc[[(weekday, hour) for hour in window]]
            available, booked = rows["available_minutes"].sum(), rows["booked_minutes"].sum()
            free = (available - booked) / 60.0 / weeks
            candidates.append((-free, int(weekday), window[0], window[-1], booked / available))
    facts = []
    for minus_free, weekday, first, last, utilization in sorted(candidates)[:top]:
        day, start, end = _span(weekday, first, last)
        facts.append(Fact(
            id=f"idle.{day}.{start}-{end}", topic="utilization",
            label=f"Mostly free: {day} {start}–{end} (last {weeks} weeks)",
            value=_num(utilization), unit="percent",
            detail={"weekday": day, "start": start, "end": end,
                    "free_hours_per_week": _num(-minus_free, 2), "weeks": weeks},
        ))  # fmt: skip
    return facts


def build_forecast_model_facts(
    metrics: pd.DataFrame, *, winner: str, horizon_days: int, extra: dict[str, DetailValue]
) -> list[Fact]:
    """`forecast.model`: the shown forecast's backtest MAE against seasonal naive (None
    without a backtest), its interval coverage and horizon; `extra` joins the detail."""
    row = metrics[metrics["model"] == winner]
    ratio = _num(row["mae_ratio"].iloc[0], 3) if len(row) else None
    coverage = _num(row["coverage"].iloc[0], 3) if len(row) else None
    detail: dict[str, DetailValue] = {
        "model": winner, "coverage": coverage, "horizon_days": int(horizon_days), **extra,
    }  # fmt: skip
    label = f"Forecast of the next {horizon_days} days: error vs. same hour last week"
    return [Fact(id="forecast.model", topic="forecast", label=label, value=ratio,
                 unit="ratio", detail=detail)]  # fmt: skip


def build_peak_facts(forecast: pd.DataFrame, future: pd.DataFrame, *, top: int = 3) -> list[Fact]:
    """`peak.*` (forecasting.peaks.find_peak_windows, as the Peak times page shows them)
    and `quiet.*` (runs of 2-4 open hours at or below QUIET_SHARE of the mean open
    hour, quietest first), from the forecast (ds local, yhat) over the open hours of
    `future` (ds, is_open)."""
    open_ds = future.loc[future["is_open"].astype(bool), "ds"].astype("datetime64[ns]")
    hourly = forecast[forecast["ds"].astype("datetime64[ns]").isin(open_ds)]
    if hourly.empty or not float(hourly["yhat"].sum()) > 0:
        return []
    peaks = find_peak_windows(hourly, top=top)
    facts = [
        _window_fact("peak", int(w.weekday), int(w.start[:2]), int(w.start[:2]) + int(w.hours) - 1,
                     float(w.bookings_per_hour))
        for w in peaks.itertuples(index=False)
    ]  # fmt: skip
    grid = build_forecast_heatmap(hourly)
    quiet = grid[grid["yhat"] <= QUIET_SHARE * grid["yhat"].mean()].set_index(["weekday", "hour"])
    candidates = []
    for weekday, hours in quiet.reset_index().groupby("weekday")["hour"]:
        for window in _windows(hours.tolist()):
            rate = float(quiet.loc[[(weekday, hour) for hour in window], "yhat"].mean())
            candidates.append((rate, -len(window), int(weekday), window[0], window[-1]))
    for rate, _, weekday, first, last in sorted(candidates)[:top]:
        facts.append(_window_fact("quiet", weekday, first, last, rate))
    return facts


def _window_fact(kind: str, weekday: int, first: int, last: int, per_hour: float) -> Fact:
    day, start, end = _span(weekday, first, last)
    word = "Busiest" if kind == "peak" else "Quietest"
    return Fact(
        id=f"{kind}.{day}.{start}-{end}", topic="forecast",
        label=f"{word} expected: {day} {start}–{end} (bookings per hour)",
        value=_num(per_hour, 2), unit="bookings_per_hour",
        detail={"weekday": day, "start": start, "end": end, "kind": kind,
                "hours": last - first + 1},
    )  # fmt: skip


def build_staffing_facts(
    staffing: pd.DataFrame, suggestions: list[ShiftSuggestion], *, top: int = 5
) -> list[Fact]:
    """`staffing.summary` and `staffing.{under|over}.*` (at most `top` of each, in the
    suggestions' order: largest expected hours first), from the staffing frame and shift
    suggestions of forecasting.staffing."""
    if staffing.empty:
        return []
    summary, *items = describe_staffing(staffing, suggestions)
    keys = ("open_hours", "under_staffed_hours", "over_staffed_hours", "shortfall_hours",
            "slack_hours", "weeks")  # fmt: skip
    facts = [Fact(
        id="staffing.summary", topic="staffing",
        label="Forecast demand against the rota's capacity, coming weeks",
        value=_num(summary["utilization"], 3), unit="ratio",
        detail={key: _plain(summary[key]) for key in keys},
    )]  # fmt: skip
    for flag in ("under", "over"):
        for item in [i for i in items if i["flag"] == flag][:top]:
            span = f"{item['weekday']}.{item['start']}-{item['end']}"
            word = "Short-staffed" if flag == "under" else "Over-staffed"
            facts.append(Fact(
                id=f"staffing.{flag}.{span}", topic="staffing",
                label=f"{word}: {item['weekday']} {item['start']}–{item['end']}",
                value=_plain(item["staff_delta"]), unit="staff",
                detail={key: _plain(item[key]) for key in (
                    "flag", "weekday", "start", "end", "staff_delta", "expected_hours", "weeks")},
            ))  # fmt: skip
    return facts


def _plain(value: object) -> DetailValue:
    """A detail value as JSON-plain: bools, ints, text and None kept, numbers rounded."""
    if isinstance(value, bool | int | str) or value is None:
        return value
    return _num(value, 3) if isinstance(value, float | np.number) else str(value)


def build_churn_facts(bands: pd.DataFrame, evaluation: dict[str, Any] | None) -> list[Fact]:
    """`churn.band.{band}` from the Retention page's band table (band, label, customers,
    value_at_stake in major units) and, given the stored model's evaluation, `churn.model`."""
    total = int(bands["customers"].sum()) if len(bands) else 0
    if not total:
        return []
    facts = []
    if evaluation is not None:
        metrics = evaluation.get("metrics", {})
        baselines = [metrics.get(k, {}).get("roc_auc") for k in ("recency", "heuristic")]
        known = [b for b in baselines if b is not None]
        facts.append(Fact(
            id="churn.model", topic="churn", label="Churn model quality (ROC AUC)",
            value=_num(metrics.get("model", {}).get("roc_auc"), 3), unit="auc",
            detail={"verdict": str(evaluation.get("verdict", {}).get("level", "")) or None,
                    "baseline_auc": _num(max(known), 3) if known else None},
        ))  # fmt: skip
    for row in bands.itertuples(index=False):
        facts.append(Fact(
            id=f"churn.band.{row.band}", topic="churn",
            label=f"Customers at churn risk: {row.label}", value=int(row.customers),
            unit="count",
            detail={"band": str(row.band), "spend_at_stake": _num(row.value_at_stake, 2),
                    "share": _num(row.customers / total)},
        ))  # fmt: skip
    return facts


def build_noshow_facts(scores: pd.DataFrame, *, method: str, days: int = 14) -> list[Fact]:
    """`noshow.upcoming` from scored upcoming appointments (reports.noshow SCORE_COLUMNS:
    score 0..1, band, price_cents); `method` "model" or "own rates"."""
    if scores.empty:
        return []
    score = scores["score"].astype(float)
    return [Fact(
        id="noshow.upcoming", topic="noshow",
        label=f"Booked appointments in the next {days} days and their no-show risk",
        value=len(scores), unit="count",
        detail={"high_risk": int((scores["band"] == "high").sum()),
                "expected_no_shows": _num(score.sum(), 1),
                "revenue_at_risk": _money((score * scores["price_cents"]).sum()),
                "method": method},
    )]  # fmt: skip


def build_service_facts(
    summary: pd.DataFrame, services: pd.DataFrame, *, period_days: int, top: int = 12
) -> list[Fact]:
    """`service.{id}` for the `top` services by bookings this period (ties by id), from
    the period summary (data.analytics load_summary: current, service_id, bookings,
    revenue_cents) and the catalog's services (service_id, service)."""
    if summary.empty:
        return []
    sums = summary.groupby(["service_id", "current"])[["bookings", "revenue_cents"]].sum()
    table = sums.unstack("current", fill_value=0)
    now = table.get(("bookings", True), pd.Series(0, index=table.index))
    before = table.get(("bookings", False), pd.Series(0, index=table.index))
    revenue = table.get(("revenue_cents", True), pd.Series(0, index=table.index))
    names = services.set_index("service_id")["service"]
    total = float(now.sum())
    order = sorted(table.index, key=lambda sid: (-int(now[sid]), int(sid)))[:top]
    facts = []
    for sid in order:
        name = str(names.get(sid, "(removed)"))[:MAX_NAME]
        facts.append(Fact(
            id=f"service.{int(sid)}", topic="service",
            label=f"{name}: bookings, last {period_days} days", value=int(now[sid]),
            unit="count", change=_relative(float(now[sid]), float(before[sid])),
            detail={"name": name, "revenue": _money(revenue[sid]),
                    "previous_bookings": int(before[sid]),
                    "share": _num(now[sid] / total) if total else None},
        ))  # fmt: skip
    return facts


def _change(row: pd.Series, previous: Any) -> float | None:
    now, before = _num(row["utilization"]), _num(previous)
    return None if now is None or before is None else _num(now - before)


def build_staff_facts(
    summary: pd.DataFrame, capacity: pd.DataFrame, previous_capacity: pd.DataFrame
) -> list[Fact]:
    """`staff.{id}`: utilization this period and the previous one, bookings and revenue,
    per staff member with bookings or working hours this period (by id). Built with
    analytics.breakdowns.build_staff_board; no names go in."""
    if summary.empty and capacity.empty:
        return []
    ids = set(summary.get("staff_id", [])) | set(capacity.get("staff_id", []))
    anonymous = pd.DataFrame({"staff_id": sorted(int(i) for i in ids)})
    anonymous["staff"] = "Staff #" + anonymous["staff_id"].astype(str)
    board = build_staff_board(summary, capacity, anonymous).set_index("staff_id")
    flipped = summary.assign(current=~summary["current"].astype(bool)) if len(summary) else summary
    before = build_staff_board(flipped, previous_capacity, anonymous).set_index("staff_id")
    facts = []
    for sid in sorted(board.index):
        row, label = board.loc[sid], f"Staff #{int(sid)}"
        previous = before["utilization"].get(sid) if sid in before.index else None
        facts.append(Fact(
            id=f"staff.{int(sid)}", topic="staff", label=f"{label}: utilization",
            value=_num(row["utilization"]), unit="percent", change=_change(row, previous),
            detail={"label": label, "bookings": int(row["bookings"]),
                    "revenue": _money(row["revenue_cents"]),
                    "previous_utilization": _num(previous)},
        ))  # fmt: skip
    return facts
