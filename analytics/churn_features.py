"""Per-customer churn features at a cutoff, and churn labels after it. Pure, vectorised.

Everything follows the point-in-time rules of `analytics.visits`: the features at a
cutoff C use only what was known at C, so appending rows created after C, or cancelling
later a booking that was live at C, never changes them. Windows are half-open and end
at C: "the 365 days before C" is [C - 365 days, C). Money is in major units (cents/100).

Population: customers with at least one completed visit before C whose last completed
visit started at or after C - active_days.

Features (float64, in CHURN_FEATURES order):

- recency_days: C minus the start of the last completed visit, in days.
- frequency_365d: completed visits in the 365 days before C.
- visits_total: completed visits ever before C.
- spend_365d: price of the completed visits in the 365 days before C.
- avg_ticket: mean price of all completed visits before C.
- tenure_days: C minus the start of the first completed visit, in days.
- typical_gap_days: median days between consecutive completed visits; NaN with one.
- recency_gap_ratio: recency_days / typical_gap_days; NaN with one visit (inf if the
  typical gap is 0, i.e. visits at the same instant).
- frequency_trend: (recent - earlier) / (recent + earlier), recent = completed visits in
  [C - 182 d, C), earlier = in [C - 364 d, C - 182 d); 0.0 when both are 0.
- no_show_rate: no-shows / (completed + no-shows), outcomes known at C.
- cancellation_rate: rows starting before C that were cancelled before C / rows
  starting before C (all created before C); 0.0 when none.
- top_service_share, top_staff_share: completed visits at the customer's most visited
  service (staff member) / visits_total.
- mean_lead_days: mean (starts_at - created_at) in days over rows starting before C,
  any status.
- has_future_booking: 1.0 if a booking created before C, starting at or after C, was
  not cancelled before C; else 0.0.

Display columns follow: first_visit_at, last_visit_at (datetime64[ns, UTC]).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.visits import NS_PER_DAY, VisitArrays, build_visit_arrays, from_ns, to_ns

CHURN_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency_365d",
    "visits_total",
    "spend_365d",
    "avg_ticket",
    "tenure_days",
    "typical_gap_days",
    "recency_gap_ratio",
    "frequency_trend",
    "no_show_rate",
    "cancellation_rate",
    "top_service_share",
    "top_staff_share",
    "mean_lead_days",
    "has_future_booking",
)
DISPLAY_COLUMNS: tuple[str, ...] = ("first_visit_at", "last_visit_at")
YEAR_DAYS = 365
HALF_YEAR_DAYS = 182


def build_churn_features(
    visits: pd.DataFrame, cutoff: pd.Timestamp, *, active_days: int = 365
) -> pd.DataFrame:
    """One row per customer of the population at `cutoff` (tz-aware), indexed by
    customer_id (int64, ascending): CHURN_FEATURES then DISPLAY_COLUMNS, as defined in
    the module docstring. An empty, typed frame when nobody qualifies."""
    arrays = build_visit_arrays(visits)
    cut = to_ns(cutoff)
    known = _known_masks(arrays, cut)
    customers, codes = np.unique(arrays.customer, return_inverse=True)
    n = len(customers)
    done = known["completed"]
    first, last = _first_last(codes[done], arrays.starts[done], n, default=cut)
    has_visit = np.bincount(codes[done], minlength=n) > 0
    keep = has_visit & (last >= cut - active_days * NS_PER_DAY)
    columns = _visit_columns(arrays, known, codes, n, cut, first, last)
    columns |= _behaviour_columns(arrays, known, codes, n)
    frame = pd.DataFrame({name: columns[name][keep] for name in CHURN_FEATURES})
    frame.index = pd.Index(customers[keep], name="customer_id", dtype="int64")
    frame = frame.astype("float64")
    frame["first_visit_at"] = from_ns(first[keep])
    frame["last_visit_at"] = from_ns(last[keep])
    return frame


def build_churn_labels(
    visits: pd.DataFrame, cutoff: pd.Timestamp, *, horizon_days: int, customers: pd.Index
) -> pd.Series:
    """Bool series "churned" indexed like `customers` (named customer_id): True when the
    customer has no completed visit starting in [cutoff, cutoff + horizon_days). Uses
    final outcomes, i.e. data after the cutoff: labels only, never features."""
    arrays = build_visit_arrays(visits)
    cut = to_ns(cutoff)
    window = (arrays.starts >= cut) & (arrays.starts < cut + horizon_days * NS_PER_DAY)
    returned = np.unique(arrays.customer[arrays.completed & window])
    ids = np.asarray(customers, dtype=np.int64)
    churned = ~np.isin(ids, returned)
    return pd.Series(churned, index=pd.Index(ids, name="customer_id"), name="churned", dtype=bool)


def _known_masks(arrays: VisitArrays, cut: int) -> dict[str, np.ndarray]:
    """Row masks of what was known at `cut` (see analytics.visits)."""
    exists = arrays.created < cut
    cancelled = exists & (arrays.cancel < cut)
    started = exists & (arrays.starts < cut)
    return {
        "started": started,
        "cancelled_started": started & cancelled,
        "completed": started & arrays.completed,
        "no_show": started & arrays.no_show,
        "future": exists & ~cancelled & (arrays.starts >= cut),
    }


def _visit_columns(
    arrays: VisitArrays,
    known: dict[str, np.ndarray],
    codes: np.ndarray,
    n: int,
    cut: int,
    first: np.ndarray,
    last: np.ndarray,
) -> dict[str, np.ndarray]:
    """Recency, frequency, money, tenure, gaps and trend from completed visits."""
    done = known["completed"]
    starts = arrays.starts

    def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(codes[mask], weights=w, minlength=n).astype(float)

    def since(days: int) -> np.ndarray:
        return done & (starts >= cut - days * NS_PER_DAY)

    total = count(done)
    recent = count(since(HALF_YEAR_DAYS))
    earlier = count(since(2 * HALF_YEAR_DAYS)) - recent
    both = recent + earlier
    recency = (cut - last) / NS_PER_DAY
    gap = _median_gaps(codes[done], starts[done], n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "recency_days": recency,
            "frequency_365d": count(since(YEAR_DAYS)),
            "visits_total": total,
            "spend_365d": count(since(YEAR_DAYS), arrays.price_cents) / 100.0,
            "avg_ticket": count(done, arrays.price_cents) / 100.0 / total,
            "tenure_days": (cut - first) / NS_PER_DAY,
            "typical_gap_days": gap,
            "recency_gap_ratio": recency / gap,
            "frequency_trend": np.where(both > 0, (recent - earlier) / np.maximum(both, 1), 0.0),
        }


def _behaviour_columns(
    arrays: VisitArrays, known: dict[str, np.ndarray], codes: np.ndarray, n: int
) -> dict[str, np.ndarray]:
    """No-show and cancellation rates, loyalty shares, lead time, future bookings."""
    done, started = known["completed"], known["started"]
    completed = np.bincount(codes[done], minlength=n).astype(float)
    no_shows = np.bincount(codes[known["no_show"]], minlength=n).astype(float)
    n_started = np.bincount(codes[started], minlength=n).astype(float)
    cancelled = np.bincount(codes[known["cancelled_started"]], minlength=n).astype(float)
    lead = np.bincount(
        codes[started], weights=(arrays.starts - arrays.created)[started] / NS_PER_DAY, minlength=n
    )
    future = np.bincount(codes[known["future"]], minlength=n) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "no_show_rate": no_shows / (completed + no_shows),
            "cancellation_rate": np.where(n_started > 0, cancelled / np.maximum(n_started, 1), 0.0),
            "top_service_share": _top_count(codes[done], arrays.service[done], n) / completed,
            "top_staff_share": _top_count(codes[done], arrays.staff[done], n) / completed,
            "mean_lead_days": lead / n_started,
            "has_future_booking": future.astype(float),
        }


def _first_last(
    codes: np.ndarray, values: np.ndarray, n: int, *, default: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-group min and max of int64 `values`; `default` for groups without rows."""
    first = np.full(n, default, dtype=np.int64)
    last = np.full(n, default, dtype=np.int64)
    reduced = pd.Series(values).groupby(codes).agg(["min", "max"])
    groups = reduced.index.to_numpy()
    first[groups] = reduced["min"].to_numpy()
    last[groups] = reduced["max"].to_numpy()
    return first, last


def _median_gaps(codes: np.ndarray, starts: np.ndarray, n: int) -> np.ndarray:
    """Median days between consecutive instants of each group; NaN below two."""
    order = np.lexsort((starts, codes))
    codes, starts = codes[order], starts[order]
    same = codes[1:] == codes[:-1]
    gaps = pd.Series(((starts[1:] - starts[:-1]) / NS_PER_DAY)[same])
    medians = gaps.groupby(codes[1:][same]).median()
    out = np.full(n, np.nan)
    out[medians.index.to_numpy()] = medians.to_numpy()
    return out


def _top_count(codes: np.ndarray, keys: np.ndarray, n: int) -> np.ndarray:
    """Per group, the row count of its most frequent key (0 for empty groups)."""
    out = np.zeros(n)
    if not len(codes):
        return out
    _, key_codes = np.unique(keys, return_inverse=True)
    width = int(key_codes.max()) + 1
    pairs, counts = np.unique(codes * width + key_codes, return_counts=True)
    groups = pairs // width
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    out[groups[starts]] = np.maximum.reduceat(counts, starts)
    return out
