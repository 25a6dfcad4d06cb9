"""Per-appointment no-show features and labels. Pure, vectorised.

Each featurised row has a history time t = min(starts_at, history_end) (t = starts_at
without history_end). Its history is the same customer's OTHER appointments as known at
t (the point-in-time rules of `analytics.visits`): an outcome (completed / no_show)
counts when it started before t and was created before t; a cancellation counts when
cancelled_at < t. The row itself never counts (its own start is never before t, and its
own cancellation is left out). Scoring bookings made today with history_end = now uses
exactly what is known now; training rows in the past use their own start.

Features (float64, in NOSHOW_FEATURES order):

- lead_days: (starts_at - created_at) in days.
- weekday (0 = Monday) and hour (0-23) of the start in the local time zone `tz`.
- prior_visits, prior_no_shows: completed / no-show appointments before t.
- prior_cancellations: appointments cancelled before t.
- prior_no_show_rate: prior_no_shows / (prior_visits + prior_no_shows); NaN when 0.
- prior_cancellation_rate: prior_cancellations / prior_appointments; NaN when 0.
  prior_appointments: the customer's other appointments, created before t, that had
  started before t or been cancelled before t (any status), i.e. whose fate as kept or
  cancelled was settled by t. Every prior cancellation is one of them, so the rate is
  at most 1.
- is_new_customer: 1.0 when prior_visits == 0.
- days_since_last_visit: days from the start of the last completed visit before t to
  the row's start; NaN when none.
- service_id (a category code; see NOSHOW_CATEGORICAL) and price (major units).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.visits import NEVER, NS_PER_DAY, VisitArrays, build_visit_arrays, to_ns

NOSHOW_FEATURES: tuple[str, ...] = (
    "lead_days",
    "weekday",
    "hour",
    "prior_visits",
    "prior_no_shows",
    "prior_cancellations",
    "prior_no_show_rate",
    "prior_cancellation_rate",
    "is_new_customer",
    "days_since_last_visit",
    "service_id",
    "price",
)
NOSHOW_CATEGORICAL: tuple[str, ...] = ("service_id", "weekday")
LABEL_STATUSES = ("completed", "no_show")


def build_noshow_features(
    visits: pd.DataFrame, rows: pd.Index, *, tz: str, history_end: pd.Timestamp | None = None
) -> pd.DataFrame:
    """NOSHOW_FEATURES (float64) for the appointments `rows` (ids in `visits`), indexed
    by appointment_id in the order of `rows`. Raises ValueError for an id not in
    `visits`. Definitions: the module docstring."""
    arrays = build_visit_arrays(visits)
    pos = _positions(arrays.appointment, rows)
    starts = arrays.starts[pos]
    t = starts if history_end is None else np.minimum(starts, to_ns(history_end))
    local = pd.DatetimeIndex(starts.view("datetime64[ns]")).tz_localize("UTC").tz_convert(tz)
    frame = pd.DataFrame(
        {
            "lead_days": (starts - arrays.created[pos]) / NS_PER_DAY,
            "weekday": local.day_of_week.to_numpy(),
            "hour": local.hour.to_numpy(),
        },
        index=pd.Index(arrays.appointment[pos], name="appointment_id", dtype="int64"),
    )
    history = _history(arrays, pos, t)
    frame["prior_visits"] = history["visits"]
    frame["prior_no_shows"] = history["no_shows"]
    frame["prior_cancellations"] = history["cancellations"]
    with np.errstate(divide="ignore", invalid="ignore"):
        outcomes = history["visits"] + history["no_shows"]
        frame["prior_no_show_rate"] = np.where(outcomes > 0, history["no_shows"] / outcomes, np.nan)
        settled = history["settled"]
        frame["prior_cancellation_rate"] = np.where(
            settled > 0, history["cancellations"] / settled, np.nan
        )
    frame["is_new_customer"] = history["visits"] == 0
    last = history["last_visit"]
    found = last != NEVER
    frame["days_since_last_visit"] = np.where(
        found, (starts - np.where(found, last, starts)) / NS_PER_DAY, np.nan
    )
    frame["service_id"] = arrays.service[pos]
    frame["price"] = arrays.price_cents[pos] / 100.0
    return frame.astype("float64")


def build_noshow_labels(visits: pd.DataFrame, rows: pd.Index) -> pd.Series:
    """Bool series "no_show" indexed by appointment_id, in the order of `rows`, for the
    rows whose status is completed or no_show (True for no_show); rows with any other
    status are dropped. Raises ValueError for an id not in `visits`."""
    arrays = build_visit_arrays(visits)
    pos = _positions(arrays.appointment, rows)
    pos = pos[arrays.completed[pos] | arrays.no_show[pos]]
    index = pd.Index(arrays.appointment[pos], name="appointment_id", dtype="int64")
    return pd.Series(arrays.no_show[pos], index=index, name="no_show", dtype=bool)


def _positions(appointments: np.ndarray, rows: pd.Index) -> np.ndarray:
    """Positions in `appointments` of the ids `rows`, in their order."""
    wanted = np.asarray(rows, dtype=np.int64)
    pos = pd.Index(appointments).get_indexer(wanted)
    if (pos < 0).any():
        missing = wanted[pos < 0][:5].tolist()
        raise ValueError(f"appointment ids not in visits (first few): {missing}")
    return pos


def _history(arrays: VisitArrays, pos: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """Counts of the customer's other appointments settled before t (see the module
    docstring), and the start of the last completed visit before t (NaN if none).

    Every instant is replaced by its rank among all instants involved, so one int64 key
    customer_code * n_ranks + rank orders (customer, time) exactly; np.searchsorted on
    the sorted keys then counts "this customer's events before t" for all rows at once."""
    _, codes = np.unique(arrays.customer, return_inverse=True)
    has_cancel = arrays.cancel != NEVER
    instants, inverse = np.unique(
        np.concatenate([arrays.starts, arrays.created, arrays.cancel[has_cancel], t]),
        return_inverse=True,
    )
    n = len(arrays.starts)
    r_start, r_created = inverse[:n], inverse[n : 2 * n]
    r_cancel = np.full(n, len(instants), dtype=np.int64)  # beyond every instant: never
    r_cancel[has_cancel] = inverse[2 * n : 2 * n + int(has_cancel.sum())]
    r_t = inverse[len(inverse) - len(t) :]
    width = len(instants) + 1
    base = codes.astype(np.int64) * width
    query = base[pos] + r_t
    outcome_at = base + np.maximum(r_start, r_created)
    cancel_at = base + np.maximum(r_cancel, r_created)
    settled_at = base + np.maximum(r_created, np.minimum(r_start, r_cancel))
    own_cancel = (cancel_at[pos] < query) & has_cancel[pos]
    return {
        "visits": _count_before(outcome_at[arrays.completed], base[pos], query),
        "no_shows": _count_before(outcome_at[arrays.no_show], base[pos], query),
        "cancellations": _count_before(cancel_at[has_cancel], base[pos], query) - own_cancel,
        "settled": _count_before(settled_at, base[pos], query) - (settled_at[pos] < query),
        "last_visit": _last_start(
            outcome_at[arrays.completed], (base + r_start)[arrays.completed], query, instants
        ),
    }


def _count_before(keys: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """For each i, how many `keys` lie in [low[i], high[i])."""
    ordered = np.sort(keys)
    return np.searchsorted(ordered, high) - np.searchsorted(ordered, low)


def _last_start(
    keys: np.ndarray, start_keys: np.ndarray, query: np.ndarray, instants: np.ndarray
) -> np.ndarray:
    """The latest start (int64 ns) among events whose key is below the query key and of
    the query's customer; NEVER when there is none. Keys and start keys share the
    customer * width prefix, so a running max over the key order is the customer's own
    latest start once the customer has an event, and the prefix check rejects an event
    of an earlier customer."""
    out = np.full(len(query), NEVER, dtype=np.int64)
    if not len(keys):
        return out
    width = len(instants) + 1
    order = np.argsort(keys, kind="stable")
    at = np.searchsorted(keys[order], query) - 1
    latest = np.maximum.accumulate(start_keys[order])[np.maximum(at, 0)]
    found = (at >= 0) & (latest // width == query // width)
    out[found] = instants[latest[found] % width]
    return out
