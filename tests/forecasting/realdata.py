"""Where the real public series live (shared/data/real): never copied into the project.

Tried in order: `<project root>/../shared/data/real` (a clone beside `shared/`), then
`/work/shared/data/real` (CI runs from a clone elsewhere on this machine). Missing:
the test fails with a clear message when CI is set, and is skipped otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = (ROOT.parent / "shared" / "data" / "real", Path("/work/shared/data/real"))


def real_data_dir() -> Path:
    for candidate in CANDIDATES:
        if candidate.is_dir():
            return candidate
    message = "real series not found in " + " or ".join(str(c) for c in CANDIDATES)
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def peyton_manning_daily() -> pd.DataFrame:
    """Daily Wikipedia page views of Peyton Manning (stored as log views), as the engine's
    contract: y = views, one row per day, the days missing from the file closed."""
    raw = pd.read_csv(real_data_dir() / "prophet" / "example_wp_log_peyton_manning.csv")
    views = pd.Series(np.round(np.exp(raw["y"].to_numpy())), index=pd.to_datetime(raw["ds"]))
    days = pd.date_range(views.index.min(), views.index.max(), freq="D")
    present = views.reindex(days)
    return pd.DataFrame(
        {
            "ds": days.astype("datetime64[ns]"),
            "y": present.fillna(0.0).to_numpy(),
            "is_open": present.notna().to_numpy(),
        }
    )


def bike_sharing_hourly() -> pd.DataFrame:
    """Capital Bikeshare hourly rentals; hours missing from the file are open with y = 0."""
    raw = pd.read_csv(real_data_dir() / "bike_sharing" / "hour.csv")
    ds = pd.to_datetime(raw["dteday"]) + pd.to_timedelta(raw["hr"], unit="h")
    values = pd.Series(raw["cnt"].to_numpy(dtype=float), index=ds)
    hours = pd.date_range(values.index.min(), values.index.max(), freq="h")
    return pd.DataFrame(
        {
            "ds": hours.astype("datetime64[ns]"),
            "y": values.reindex(hours, fill_value=0.0).to_numpy(),
            "is_open": True,
        }
    )
