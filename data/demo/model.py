"""The demo's public types, its fixed settings and accounts, and the model's parameters."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from data.demo.accounts import (  # noqa: F401 - re-exported
    DEMO_ACCOUNTS,
    DEMO_SLUG,
    STAFF_ACCOUNT_STAFF_ID,
    DemoAccount,
)
from scheduling.business import BusinessSettings

TIMEZONE = "Europe/Berlin"
SETTINGS = BusinessSettings(
    name="Salon Lindenblatt (demo)", timezone=TIMEZONE, country="DE", currency="EUR"
)


@dataclass(frozen=True)
class DemoSummary:
    business_id: int
    staff: int
    services: int
    customers: int
    appointments: int
    first_start: datetime
    last_start: datetime
    seconds: float


class DemoAlreadySeeded(RuntimeError):
    """A business with DEMO_SLUG exists already."""


@dataclass(frozen=True, eq=False)
class DemoData:
    """One generated business. Frames carry the table's columns (no business_id); ids are
    1-based within the demo and are remapped to real ids when seeded."""

    settings: BusinessSettings
    today: date
    now: datetime
    staff: pd.DataFrame
    services: pd.DataFrame
    staff_services: pd.DataFrame
    working_hours: pd.DataFrame
    time_off: pd.DataFrame
    customers: pd.DataFrame
    appointments: pd.DataFrame
    staff_account_staff_id: int = STAFF_ACCOUNT_STAFF_ID


# --- model parameters -------------------------------------------------------------------
DEFAULT_STAFF = 7
HISTORY_YEARS = 2
HORIZON_DAYS = 42
GRID_MIN = 15
EVENING_MIN = 16 * 60
TARGET_BOOKED_SHARE = 0.72
YEARLY_GROWTH = 0.15
MAX_LEAD_DAYS = 120
HOUR_POINTS = np.arange(8, 21)
HOUR_WEIGHTS = np.array([0.4, 0.62, 0.92, 1.0, 0.78, 0.55, 0.5, 0.58, 0.8, 1.0, 1.0, 0.85, 0.55])
WEEKDAY_WEIGHTS = np.array([0.62, 0.7, 0.8, 0.92, 1.12, 1.3, 0.0])
MONTH_WEIGHTS = np.array([0.74, 0.86, 0.96, 1.0, 1.02, 0.97, 0.84, 0.8, 0.98, 1.0, 1.05, 1.25])
GAPS_MIN, GAP_SHARES = np.array([0, 15, 30]), np.array([0.85, 0.1, 0.05])
NEW_CUSTOMER_SHARE = 0.1
ONE_TIMER_SHARE, LOYAL_SHARE = 0.33, 0.2
MEAN_LIFETIME_WEEKS = 75
MEAN_GAP_WEEKS = 7
WALK_IN_WITHOUT_RECORD = 0.4
SOURCES = np.array(["online", "phone", "staff", "walk_in"])
SECONDS_PER_DAY = 86_400


def make_rng(seed: int, part: str) -> np.random.Generator:
    """An independent stream per part, so changing one part never shifts another."""
    return np.random.default_rng([seed, zlib.crc32(part.encode())])
