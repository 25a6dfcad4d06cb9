"""The KPI set and its definitions. Pure: small aggregate frames in, one table out.

Definitions (README's metrics table repeats them; a test keeps the two in step). The
period is a range of local calendar days; an appointment belongs to the day its start
falls on in the business's time zone. "Previous" is the period of equal length that
ends the day before.

- bookings: appointments starting in the period, whatever their status (cancelled and
  no-shows included).
- completed: appointments in the period marked completed.
- revenue: the prices of completed appointments, summed.
- utilization: booked minutes ÷ available minutes. Booked: appointments not cancelled
  (a no-show held its slot). Available: the staff's working hours minus time off and
  closures (current working hours; with a service filter, the staff who offer it).
- no_show_rate: no-shows ÷ (completed + no-shows).
- cancellation_rate: cancelled ÷ bookings.
- late_cancellation_rate: cancelled less than 24 hours before the start (or after it)
  ÷ bookings.
- new_customers: customers with a completed visit in the period whose first completed
  visit ever (at any staff member or service) is in the period.
- returning_customers: customers with a completed visit in the period whose first
  completed visit was earlier.
- rebooking_rate: completed visits (by known customers) after which the customer holds a
  later, not cancelled, appointment booked within N days of the visit's end and before
  the period's end ÷ those visits. Both periods stop counting at their own end, so they
  compare like for like.
- avg_lead_time: mean days from booking (created) to start, over all bookings.
- avg_ticket: revenue ÷ completed visits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

KPI_COLUMNS = ["key", "label", "value", "previous", "change", "unit", "better", "definition"]
SUM_COLUMNS = [
    "bookings", "completed", "cancelled", "late_cancelled", "no_show",
    "revenue_cents", "booked_minutes", "lead_minutes",
]  # fmt: skip
MINUTES_PER_DAY = 1440.0

# key: (label, unit, better)
KPI_SPECS: dict[str, tuple[str, str, str]] = {
    "bookings": ("Bookings", "count", "up"),
    "completed": ("Completed visits", "count", "up"),
    "revenue": ("Revenue", "money", "up"),
    "utilization": ("Utilization", "percent", "up"),
    "no_show_rate": ("No-show rate", "percent", "down"),
    "cancellation_rate": ("Cancellation rate", "percent", "down"),
    "late_cancellation_rate": ("Late cancellations (< 24 h)", "percent", "down"),
    "new_customers": ("New customers", "count", "up"),
    "returning_customers": ("Returning customers", "count", "up"),
    "rebooking_rate": ("Rebooking rate", "percent", "up"),
    "avg_lead_time": ("Average lead time", "days", "up"),
    "avg_ticket": ("Average ticket", "money", "up"),
}


def _definitions() -> dict[str, str]:
    """Each KPI's definition, read from this module's docstring (written down once)."""
    found: dict[str, str] = {}
    key = None
    for line in (__doc__ or "").splitlines():
        stripped = line.strip()
        head, _, rest = stripped.partition(": ")
        if stripped.startswith("- ") and head[2:] in KPI_SPECS:
            key = head[2:]
            found[key] = rest
        elif key and stripped and not stripped.startswith("- "):
            found[key] += " " + stripped
        else:
            key = None
    return found


KPI_DEFINITIONS: dict[str, str] = _definitions()


def ratio(numerator: float, denominator: float) -> float:
    """numerator ÷ denominator, NaN (shown as "–") when there is nothing to divide by."""
    return float(numerator) / float(denominator) if denominator else math.nan


def compute_period_values(
    totals: Mapping[str, float], customers: Mapping[str, float], available_minutes: float
) -> dict[str, float]:
    """The KPI values of one period from its totals (SUM_COLUMNS), its customer mix
    (customers, new_customers, visits, rebooked) and its available minutes."""
    bookings, completed = totals["bookings"], totals["completed"]
    return {
        "bookings": bookings,
        "completed": completed,
        "revenue": totals["revenue_cents"],
        "utilization": ratio(totals["booked_minutes"], available_minutes),
        "no_show_rate": ratio(totals["no_show"], completed + totals["no_show"]),
        "cancellation_rate": ratio(totals["cancelled"], bookings),
        "late_cancellation_rate": ratio(totals["late_cancelled"], bookings),
        "new_customers": customers["new_customers"],
        "returning_customers": customers["customers"] - customers["new_customers"],
        "rebooking_rate": ratio(customers["rebooked"], customers["visits"]),
        "avg_lead_time": ratio(totals["lead_minutes"], bookings) / MINUTES_PER_DAY,
        "avg_ticket": ratio(totals["revenue_cents"], completed),
    }


def compute_change(value: float, previous: float, unit: str) -> float:
    """Percentage points for rates; relative change otherwise (NaN from zero)."""
    if math.isnan(value) or math.isnan(previous):
        return math.nan
    if unit == "percent":
        return value - previous
    return ratio(value - previous, previous)


def build_kpis(
    summary: pd.DataFrame, customer_mix: pd.DataFrame, available: Mapping[bool, float]
) -> pd.DataFrame:
    """The KPI table (KPI_COLUMNS) for the current period against the previous one.

    `summary` has a boolean `current` column and SUM_COLUMNS (any further grouping is
    summed away); `customer_mix` has one row per `current` value; `available` maps
    current -> available minutes."""
    if len(summary):
        totals = summary.groupby("current")[SUM_COLUMNS].sum().reindex([True, False], fill_value=0)
    else:
        totals = pd.DataFrame(0, index=[True, False], columns=SUM_COLUMNS)
    mix = customer_mix.set_index("current").reindex([True, False], fill_value=0)
    values = {
        current: compute_period_values(
            totals.loc[current], mix.loc[current], available.get(current, 0.0)
        )
        for current in (True, False)
    }
    rows = []
    for key, (label, unit, better) in KPI_SPECS.items():
        value, previous = float(values[True][key]), float(values[False][key])
        change = compute_change(value, previous, unit)
        rows.append([key, label, value, previous, change, unit, better, KPI_DEFINITIONS[key]])
    return pd.DataFrame(rows, columns=KPI_COLUMNS)
