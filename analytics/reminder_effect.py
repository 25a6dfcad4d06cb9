"""Reminder effectiveness: outcomes of past appointments by reminder variant, channel and
timing, against the appointments that got no reminder. Pure: DataFrames in and out.

Input (`data.notification_stats.load_reminder_outcomes`): one row per reminder that
reached the provider - appointment_id, status (the appointment's status now), starts_at,
created_at, source, channel, variant, sent_at - and one row with channel missing for each
appointment that got none (the baseline).

The baseline is like for like: only appointments that could have had a reminder, i.e.
booked at least BASELINE_MIN_LEAD before their start and not walk-ins. Same-day bookings
and walk-ins get no 24 h reminder and miss far less often than bookings made weeks ahead,
so counting them would flatter "no reminder". (Frames without created_at and source
keep every baseline row.)

Outcomes, per group (each appointment counted once per row of a table):
- `cancellation_rate`: cancelled / appointments;
- `no_show_rate`: no-shows / (completed + no-shows), as on the Overview page, with a
  95 % Wilson interval (`no_show_low`, `no_show_high`);
- `confirmed_or_completed_rate`: status confirmed or completed / appointments. Only the
  latest status is stored (there is no confirmed_at), so a confirmation followed by the
  visit reads "completed", exactly like a visit nobody confirmed: this is the share that
  ended confirmed or attended, not a pure confirmation rate. Cancellation and no-show
  are the primary outcomes.
An appointment reminded on several channels counts once in each channel's row (and in
each timing bucket it had a reminder in), so rows of one table can overlap; the
"no reminder" baseline row holds only appointments with no reminder at all. Groups of
fewer than `min_group` appointments are flagged `too_few` ("too few to compare").
Reminders were not randomised against no reminder, so every comparison with the
baseline is observational; A/B variants were randomised (by a hash of the message key),
and compare fairly only within one kind and channel - hence `by_variant` groups by
channel (every row here is of kind "reminder").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_GROUP = 30
Z_95 = 1.959963984540054
NO_REMINDER = "no reminder"
NO_VARIANT = "–"
BASELINE_MIN_LEAD = pd.Timedelta(hours=24)  # the default rule's offset: could be reminded
UNREMINDABLE_SOURCES = ("walk_in",)
TIMING_EDGES = (3.0, 12.0, 36.0)  # hours between sending and the appointment's start
TIMING_LABELS = ("< 3 h", "3–12 h", "12–36 h", "> 36 h")
COUNT_COLUMNS = ("appointments", "confirmed_or_completed", "cancelled", "completed", "no_show")
RATE_COLUMNS = ("appointments", "confirmed_or_completed_rate", "cancellation_rate",
                "no_show_rate", "no_show_low", "no_show_high", "too_few")  # fmt: skip


@dataclass(frozen=True)
class ReminderEffect:
    """The three tables: group columns, then RATE_COLUMNS; the baseline row last."""

    by_variant: pd.DataFrame  # channel, variant
    by_channel: pd.DataFrame  # channel
    by_timing: pd.DataFrame  # timing (one of TIMING_LABELS)


def summarise(outcomes: pd.DataFrame, *, min_group: int = MIN_GROUP) -> ReminderEffect:
    """The reminder effectiveness tables of `outcomes`; see the module docstring."""
    reminded = outcomes[outcomes["channel"].notna()].copy()
    baseline = comparable_baseline(outcomes[outcomes["channel"].isna()])
    reminded["variant"] = reminded["variant"].fillna(NO_VARIANT).astype(str)
    reminded["timing"] = build_timing(reminded["starts_at"], reminded["sent_at"])
    tables = {
        "by_variant": ["channel", "variant"],
        "by_channel": ["channel"],
        "by_timing": ["timing"],
    }
    built = {name: _table(reminded, keys, baseline, min_group) for name, keys in tables.items()}
    return ReminderEffect(**built)


def comparable_baseline(baseline: pd.DataFrame) -> pd.DataFrame:
    """The unreminded appointments that could have had a reminder: booked at least
    BASELINE_MIN_LEAD ahead, not walk-ins (all rows when those columns are absent)."""
    keep = pd.Series(True, index=baseline.index)
    if "created_at" in baseline.columns:
        lead = baseline["starts_at"] - baseline["created_at"]
        keep &= lead.notna() & (lead >= BASELINE_MIN_LEAD)
    if "source" in baseline.columns:
        keep &= ~baseline["source"].isin(UNREMINDABLE_SOURCES)
    return baseline[keep]


def build_timing(starts_at: pd.Series, sent_at: pd.Series) -> pd.Series:
    """The TIMING_LABELS bucket of each reminder's lead time (start - sending), as text.
    Lower edges are inclusive: exactly 3 h is "3–12 h". A reminder sent after the start
    (which the dispatcher never does) falls in "< 3 h"."""
    hours = (starts_at - sent_at).dt.total_seconds() / 3600
    edges = [-np.inf, *TIMING_EDGES, np.inf]
    buckets = pd.cut(hours, bins=edges, labels=list(TIMING_LABELS), right=False)
    return buckets.astype(object).astype(str)


def wilson_interval(
    successes: np.ndarray | pd.Series, n: np.ndarray | pd.Series, *, z: float = Z_95
) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of a proportion, element-wise; NaN where n is 0."""
    x = np.asarray(successes, dtype=float)
    total = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / total
        denominator = 1 + z**2 / total
        centre = (p + z**2 / (2 * total)) / denominator
        half = z * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / denominator
    low = np.where(total > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    high = np.where(total > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


def _counts(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per input row: 1 appointment and 0/1 flags for each outcome."""
    status = rows["status"]
    return pd.DataFrame({
        "appointments": 1,
        "confirmed_or_completed": status.isin(["confirmed", "completed"]).astype(int),
        "cancelled": (status == "cancelled").astype(int),
        "completed": (status == "completed").astype(int),
        "no_show": (status == "no_show").astype(int),
    }, index=rows.index)  # fmt: skip


def _table(
    reminded: pd.DataFrame, keys: list[str], baseline: pd.DataFrame, min_group: int
) -> pd.DataFrame:
    """Counts per group (each appointment once per group), the baseline row, then rates."""
    unique = reminded.drop_duplicates([*keys, "appointment_id"])
    counts = pd.concat([unique[keys], _counts(unique)], axis=1)
    grouped = counts.groupby(keys, sort=False)[list(COUNT_COLUMNS)].sum().reset_index()
    grouped = grouped.sort_values(keys, key=_order, kind="stable")
    base = _counts(baseline.drop_duplicates("appointment_id")).sum().to_dict()
    base_row = pd.DataFrame([{**dict.fromkeys(keys, NO_REMINDER), **base}])
    if len(keys) > 1:
        base_row[keys[1:]] = NO_VARIANT
    table = pd.concat([grouped, base_row], ignore_index=True)
    table[list(COUNT_COLUMNS)] = table[list(COUNT_COLUMNS)].astype(int)
    return _with_rates(table, keys, min_group)


def _order(column: pd.Series) -> pd.Series:
    """Sort key: timing buckets in time order, anything else alphabetically."""
    if column.name == "timing":
        return column.map({label: i for i, label in enumerate(TIMING_LABELS)})
    return column


def _with_rates(table: pd.DataFrame, keys: list[str], min_group: int) -> pd.DataFrame:
    n = table["appointments"].astype(float)
    attended = (table["completed"] + table["no_show"]).astype(float)
    low, high = wilson_interval(table["no_show"], attended)
    rates = pd.DataFrame({
        "appointments": table["appointments"],
        "confirmed_or_completed_rate": table["confirmed_or_completed"] / n.where(n > 0),
        "cancellation_rate": table["cancelled"] / n.where(n > 0),
        "no_show_rate": table["no_show"] / attended.where(attended > 0),
        "no_show_low": low,
        "no_show_high": high,
        "too_few": table["appointments"] < min_group,
    })  # fmt: skip
    return pd.concat([table[keys].astype(str), rates], axis=1)
