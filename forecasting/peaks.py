"""Peak-time tables from a forecast: weekday x hour demand, the busiest windows, and
daily totals beside the history. Pure: forecast frames in, small frames out.

A forecast frame has ds (tz-naive local hour), yhat, yhat_lower, yhat_upper.
"""

from __future__ import annotations

import pandas as pd

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SHORT_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
BANDS = ("yhat", "yhat_lower", "yhat_upper")


def build_forecast_heatmap(forecast: pd.DataFrame) -> pd.DataFrame:
    """Mean expected bookings per local weekday (0 = Monday) and hour over the horizon,
    with the mean interval bounds: columns weekday, hour, yhat, yhat_lower, yhat_upper."""
    if forecast.empty:
        return pd.DataFrame(columns=["weekday", "hour", *BANDS])
    ds = pd.to_datetime(forecast["ds"])
    frame = forecast.assign(weekday=ds.dt.day_of_week, hour=ds.dt.hour)
    return frame.groupby(["weekday", "hour"], as_index=False)[list(BANDS)].mean()


def find_peak_windows(
    forecast: pd.DataFrame, *, top: int = 5, min_share: float = 0.8
) -> pd.DataFrame:
    """The busiest windows of the week: runs of consecutive hours on one weekday whose
    mean demand is at least `min_share` of that weekday's peak hour, ranked by demand.

    Columns: weekday, day, start (HH:MM), end, hours, bookings_per_hour, bookings (the
    window's expected bookings per week), label ("Sat 10:00–14:00").
    """
    grid = build_forecast_heatmap(forecast)
    grid = grid[grid["yhat"] > 0]
    windows = []
    for weekday, day in grid.groupby("weekday"):
        busy = day[day["yhat"] >= min_share * day["yhat"].max()].sort_values("hour")
        run: list[pd.Series] = []
        for _, row in busy.iterrows():
            if run and row["hour"] != run[-1]["hour"] + 1:
                windows.append(_window(int(weekday), run))
                run = []
            run.append(row)
        if run:
            windows.append(_window(int(weekday), run))
    frame = pd.DataFrame(windows, columns=_WINDOW_COLUMNS)
    frame = frame.sort_values(["bookings_per_hour", "bookings"], ascending=False)
    return frame.head(top).reset_index(drop=True)


_WINDOW_COLUMNS = ["weekday", "day", "start", "end", "hours", "bookings_per_hour", "bookings",
                   "label"]  # fmt: skip


def _window(weekday: int, rows: list[pd.Series]) -> list[object]:
    first, last = int(rows[0]["hour"]), int(rows[-1]["hour"]) + 1
    total = float(sum(r["yhat"] for r in rows))
    start, end = f"{first:02d}:00", f"{last % 24:02d}:00"
    label = f"{SHORT_DAYS[weekday]} {start}–{end}"
    return [weekday, WEEKDAYS[weekday], start, end, last - first, total / len(rows), total, label]


def build_daily_forecast(
    history: pd.DataFrame, forecast: pd.DataFrame, *, days: int = 56
) -> pd.DataFrame:
    """Daily totals: the last `days` of history (actual) and the forecast with its band.

    Columns: day, actual (NaN in the future), yhat, yhat_lower, yhat_upper (NaN in the
    past). Summing hourly bounds overstates a day's band; it is shown as an upper
    envelope and labelled so.
    """
    past = history.assign(day=pd.to_datetime(history["ds"]).dt.normalize())
    actual = past.groupby("day")["y"].sum().tail(days).rename("actual")
    future = forecast.assign(day=pd.to_datetime(forecast["ds"]).dt.normalize())
    ahead = future.groupby("day")[list(BANDS)].sum()
    return pd.concat([actual, ahead], axis=1).rename_axis("day").reset_index()
