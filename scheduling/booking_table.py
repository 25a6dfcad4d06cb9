"""The Bookings page's table: rows from data.bookings as a display DataFrame. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from scheduling.booking_rules import STATUS_LABELS
from scheduling.catalog import format_money

BULK_STATUSES = ["confirmed", "completed", "no_show", "cancelled"]
COLUMNS = ["id", "When", "Staff", "Service", "Customer", "Phone", "Status", "Price", "Source",
           "Booked at", "Updated"]  # fmt: skip


def build_bookings_table(
    rows: Iterable[Mapping[str, Any]], *, tz: str, currency: str
) -> pd.DataFrame:
    """Local times (sortable datetimes), readable labels and formatted prices."""
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)

    def local(column: str) -> pd.Series:
        return pd.to_datetime(frame[column], utc=True).dt.tz_convert(tz).dt.tz_localize(None)

    return pd.DataFrame(
        {
            "id": frame["id"],
            "When": local("starts_at"),
            "Staff": frame["staff_name"],
            "Service": frame["service_name"],
            "Customer": frame["customer_name"].fillna("Walk-in"),
            "Phone": frame.get("customer_phone", pd.Series(dtype=object)).fillna(""),
            "Status": frame["status"].map(STATUS_LABELS).fillna(frame["status"]),
            "Price": [format_money(int(c), currency) for c in frame["price_cents"]],
            "Source": frame.get("source", pd.Series(dtype=object)),
            "Booked at": local("created_at"),
            "Updated": local("updated_at"),
        }
    )
