"""What an analytics report is about (ReportFilter) and everything the Overview shows
(Overview). Pure: plain data, no I/O.

Frames and their columns (all counts are ints, money is integer minor units `*_cents`,
minutes are floats, rates are floats in 0..1 and NaN where the denominator is zero):

- `kpis`: one row per KPI in display order. Columns: key, label, value, previous, change,
  unit ("count" | "money" | "percent" | "days"), better ("up" | "down"), definition.
  `change` is value - previous for percents, else (value - previous) / previous.
- `daily`: one row per local day of the period. Columns: day (datetime64, local date),
  bookings, completed, cancelled, no_show, revenue_cents, booked_minutes,
  available_minutes, utilization.
- `heatmap`: 7 x 24 rows. Columns: weekday (0 = Monday), hour (0-23, local), bookings,
  booked_minutes, available_minutes, utilization.
- `staff_board`: one row per staff member. Columns: staff_id, staff, bookings, completed,
  revenue_cents, booked_minutes, available_minutes, utilization, no_show_rate.
- `service_board`: one row per service. Columns: service_id, service, category, bookings,
  completed, revenue_cents, booked_minutes, utilization (share of the filtered staff's
  available minutes), no_show_rate.
- `cohorts`: long form. Columns: cohort (str "YYYY-MM", local month of first visit),
  months_since (int), customers, size, retention.
- `revenue_at_risk`: one row per kind ("cancelled", "late_cancelled", "no_show").
  Columns: kind, label, appointments, value_cents, refilled, at_risk_cents.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pandas as pd

MAX_REPORT_DAYS = 3 * 366


class ReportRangeError(ValueError):
    """A date range a report cannot cover; the message is meant for the user."""


@dataclass(frozen=True)
class ReportFilter:
    """Local calendar days [start, end] (both inclusive) and optional staff/service filters.

    Empty tuples mean "all". Ids are sorted and de-duplicated, so equal filters hash alike.
    """

    start: date
    end: date
    staff_ids: tuple[int, ...] = ()
    service_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ReportRangeError(
                f"The range ends ({self.end:%d %b %Y}) before it starts ({self.start:%d %b %Y})."
            )
        if self.days > MAX_REPORT_DAYS:
            raise ReportRangeError(f"Pick at most {MAX_REPORT_DAYS} days; this is {self.days}.")
        object.__setattr__(self, "staff_ids", tuple(sorted(set(self.staff_ids))))
        object.__setattr__(self, "service_ids", tuple(sorted(set(self.service_ids))))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> ReportFilter:
        """The period of equal length that ends the day before this one starts."""
        length = timedelta(days=self.days)
        return replace(self, start=self.start - length, end=self.end - length)


@dataclass(frozen=True)
class Overview:
    """Everything the Overview page, the HTML report and the KPI export show."""

    business_name: str
    timezone: str
    currency: str
    filters: ReportFilter
    rebook_days: int
    kpis: pd.DataFrame
    daily: pd.DataFrame
    heatmap: pd.DataFrame
    staff_board: pd.DataFrame
    service_board: pd.DataFrame
    cohorts: pd.DataFrame
    revenue_at_risk: pd.DataFrame
    notes: tuple[str, ...] = field(default=())

    @property
    def has_bookings(self) -> bool:
        return bool(self.daily["bookings"].sum()) if len(self.daily) else False
