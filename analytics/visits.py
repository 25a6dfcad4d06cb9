"""The visit events frame: the one input of the retention features. Pure.

One row per appointment that has a customer (walk-ins are left out by the loader):

- appointment_id, customer_id, staff_id, service_id: int64
- starts_at, created_at: datetime64[ns, UTC]; cancelled_at: the same, NaT if never
- status: str, one of VISIT_STATUSES (the appointment's current status)
- price_cents: int64 (minor units)

Sorted by customer_id, starts_at, appointment_id.

Point in time. Features "as of" an instant C see only what was known at C:

- only rows with created_at < C exist at C;
- an outcome (completed / no_show) is known at C only if starts_at < C;
- a row is cancelled at C only if cancelled_at < C (cancelled later: still booked at C);
- a future booking at C: created_at < C, starts_at >= C and not cancelled at C.

A row whose status is cancelled but has no cancelled_at (an import that lacked it) is
taken as cancelled when it was created: it never counts as booked. A completed or
no_show row is an outcome, never a cancellation, whatever its cancelled_at says.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

VISIT_COLUMNS: dict[str, str] = {
    "appointment_id": "int64",
    "customer_id": "int64",
    "staff_id": "int64",
    "service_id": "int64",
    "starts_at": "datetime64[ns, UTC]",
    "created_at": "datetime64[ns, UTC]",
    "cancelled_at": "datetime64[ns, UTC]",
    "status": "str",
    "price_cents": "int64",
}
VISIT_STATUSES = ("booked", "confirmed", "completed", "cancelled", "no_show")
SORT_COLUMNS = ["customer_id", "starts_at", "appointment_id"]
NS_PER_DAY = 86_400 * 10**9
NEVER = np.iinfo(np.int64).max  # the nanosecond instant of "no cancellation"


def empty_visits() -> pd.DataFrame:
    """A visits frame with no rows and exactly VISIT_COLUMNS' names and dtypes."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in VISIT_COLUMNS.items()})


def check_visits(frame: pd.DataFrame) -> None:
    """Raise ValueError naming every VISIT_COLUMNS column that `frame` lacks."""
    missing = [name for name in VISIT_COLUMNS if name not in frame.columns]
    if missing:
        raise ValueError(f"visits frame lacks column(s): {', '.join(missing)}")


def build_visits(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` as a valid visits frame: VISIT_COLUMNS only, cast to their dtypes (naive
    datetimes are read as UTC), sorted by SORT_COLUMNS, with a fresh RangeIndex. Raises
    ValueError for missing columns or an unknown status."""
    check_visits(frame)
    out = pd.DataFrame(index=frame.index)
    for name, dtype in VISIT_COLUMNS.items():
        if dtype.startswith("datetime64"):
            out[name] = pd.to_datetime(frame[name], utc=True).dt.as_unit("ns")
        else:
            out[name] = frame[name].astype(dtype)
    unknown = sorted(set(out["status"]) - set(VISIT_STATUSES))
    if unknown:
        raise ValueError(f"unknown visit status(es): {', '.join(map(str, unknown))}")
    return out.sort_values(SORT_COLUMNS, kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class VisitArrays:
    """The visits frame as numpy arrays; instants in nanoseconds since the epoch (UTC).
    `cancel` is NEVER where a row was not cancelled."""

    appointment: np.ndarray
    customer: np.ndarray
    staff: np.ndarray
    service: np.ndarray
    starts: np.ndarray
    created: np.ndarray
    cancel: np.ndarray
    completed: np.ndarray  # bool: status == completed
    no_show: np.ndarray  # bool: status == no_show
    price_cents: np.ndarray


def build_visit_arrays(visits: pd.DataFrame) -> VisitArrays:
    """Numpy views of a visits frame (any datetime unit; naive or aware UTC). A cancelled
    row without cancelled_at is cancelled at its created_at, and outcomes (completed,
    no_show) are never cancelled (see the module docstring)."""
    check_visits(visits)
    status = visits["status"].to_numpy(dtype=object)
    created = _ns(visits["created_at"])
    cancel = _ns(visits["cancelled_at"])
    cancel = np.where((cancel == NEVER) & (status == "cancelled"), created, cancel)
    outcome = (status == "completed") | (status == "no_show")
    cancel = np.where(outcome, NEVER, cancel)
    return VisitArrays(
        appointment=visits["appointment_id"].to_numpy(dtype=np.int64),
        customer=visits["customer_id"].to_numpy(dtype=np.int64),
        staff=visits["staff_id"].to_numpy(dtype=np.int64),
        service=visits["service_id"].to_numpy(dtype=np.int64),
        starts=_ns(visits["starts_at"]),
        created=created,
        cancel=cancel,
        completed=status == "completed",
        no_show=status == "no_show",
        price_cents=visits["price_cents"].to_numpy(dtype=np.int64),
    )


def to_ns(instant: pd.Timestamp) -> int:
    """A tz-aware instant as nanoseconds since the epoch. Raises ValueError if naive."""
    stamp = pd.Timestamp(instant)
    if stamp.tzinfo is None:
        raise ValueError(f"instant must be tz-aware (UTC): {instant!r}")
    return int(stamp.tz_convert("UTC").as_unit("ns").value)


def from_ns(values: np.ndarray) -> pd.DatetimeIndex:
    """Nanosecond instants (NEVER or the int64 minimum for none) as UTC datetimes."""
    values = np.asarray(values, dtype=np.int64)
    stamps = np.where(values == NEVER, np.iinfo(np.int64).min, values).view("datetime64[ns]")
    return pd.DatetimeIndex(stamps).tz_localize("UTC")


def _ns(series: pd.Series) -> np.ndarray:
    """Instants of a datetime series as int64 nanoseconds; NaT becomes NEVER."""
    stamps = pd.to_datetime(series, utc=True).dt.as_unit("ns")
    values = stamps.to_numpy(dtype="datetime64[ns]").view(np.int64).copy()
    values[stamps.isna().to_numpy()] = NEVER
    return values
