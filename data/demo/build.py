"""Assembling the business: `build_demo` runs the model's steps in order."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from data.demo import names
from data.demo.calendar import build_window, to_utc_column
from data.demo.customers import build_clientele
from data.demo.model import SETTINGS, SOURCES, TIMEZONE, DemoData, make_rng
from data.demo.outcomes import settle
from data.demo.salon import (
    build_services,
    build_staff,
    build_staff_services,
    build_time_off,
    build_working_hours,
    staff_absences,
)
from data.demo.slots import Candidates, choose_slots


def build_demo(
    *, appointments: int | None = None, seed: int = 7, today: date | None = None
) -> DemoData:
    """Generate the demo business (pure). See the `data.demo` docstring for the model.

    `appointments=None` gives the natural size (seven stylists, about two thirds utilised);
    `appointments=N` gives exactly N, adding stylists (and so customers) in proportion
    when seven cannot serve N. `today` defaults to the current date in Europe/Berlin.
    """
    if appointments is not None and appointments < 1:
        raise ValueError("appointments must be at least 1")
    today = today or datetime.now(ZoneInfo(TIMEZONE)).date()
    window = build_window(today)
    cand, chosen = choose_slots(appointments, window, seed)
    n_staff = int(cand.blocks["staff_id"].max())
    booked = _booked(cand, chosen)
    people, visit_of = build_clientele(booked, window, seed)
    reminded, bias = _visit_traits(people, visit_of, seed)
    outcome = settle(booked, reminded, bias, window.now, make_rng(seed, "outcomes"))
    return DemoData(
        settings=SETTINGS,
        today=today,
        now=datetime.fromtimestamp(window.now, UTC),
        staff=build_staff(n_staff, window, seed),
        services=build_services(window),
        staff_services=build_staff_services(n_staff),
        working_hours=build_working_hours(n_staff),
        time_off=build_time_off(staff_absences(n_staff, window, seed), window),
        customers=people,
        appointments=_appointments_frame(booked, visit_of, outcome),
    )


def _visit_traits(
    people: pd.DataFrame, visit_of: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per appointment: was a reminder sent (SMS opt-in), and the customer's no-show bias
    (some people miss appointments more than others; mean 1)."""
    has = visit_of >= 0
    who = np.where(has, visit_of, 0)
    bias = make_rng(seed, "no-show-bias").gamma(2.0, 0.5, len(people))
    return has & people["sms_opt_in"].to_numpy()[who], np.where(has, bias[who], 1.0)


def _booked(cand: Candidates, chosen: np.ndarray) -> pd.DataFrame:
    slots = cand.slots.iloc[chosen]
    starts = cand.starts[chosen]
    frame = pd.DataFrame(
        {
            "staff_id": slots["staff_id"].to_numpy(),
            "service_id": slots["service_id"].to_numpy(),
            "day": slots["day"].to_numpy(),
            "starts": starts,
            "ends": starts + slots["duration_min"].to_numpy() * 60,
            "created": starts - cand.lead[chosen],
            "source": cand.source[chosen],
        }
    )
    return frame.sort_values(["starts", "staff_id"], ignore_index=True, kind="stable")


def _appointments_frame(
    booked: pd.DataFrame, visit_of: np.ndarray, outcome: pd.DataFrame
) -> pd.DataFrame:
    prices = np.array([s[4] for s in names.SERVICES])
    customer = pd.array(np.where(visit_of >= 0, visit_of + 1, 0), dtype="Int64")
    customer[visit_of < 0] = pd.NA
    cancelled = outcome["cancelled"].to_numpy()
    return pd.DataFrame(
        {
            "id": np.arange(1, len(booked) + 1),
            "staff_id": booked["staff_id"].to_numpy(),
            "customer_id": customer,
            "service_id": booked["service_id"].to_numpy(),
            "starts_at": to_utc_column(booked["starts"].to_numpy()),
            "ends_at": to_utc_column(booked["ends"].to_numpy()),
            "status": outcome["status"],
            "price_cents": prices[booked["service_id"].to_numpy() - 1],
            "source": pd.Series(SOURCES[booked["source"].to_numpy()], dtype=object),
            "external_id": None,
            "notes": "",
            "created_at": to_utc_column(booked["created"].to_numpy()),
            "updated_at": to_utc_column(outcome["updated"].to_numpy()),
            "cancelled_at": to_utc_column(np.where(cancelled >= 0, cancelled, 0)).where(
                cancelled >= 0
            ),
        }
    )
