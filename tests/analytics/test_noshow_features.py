"""No-show features and labels: a hand-built history (DST in Europe/Berlin, strict "before
t", the row itself left out), point-in-time safety, a slow reference implementation, and
the synthetic population's planted drivers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.noshow_features import (
    NOSHOW_CATEGORICAL,
    NOSHOW_FEATURES,
    build_noshow_features,
    build_noshow_labels,
)
from analytics.visits import empty_visits
from tests.analytics.retention_synthetic import (
    SYNTHETIC_TZ,
    as_known_at,
    make_more_future,
    make_noshow_population,
    make_visits,
)

BERLIN = "Europe/Berlin"
END = pd.Timestamp("2026-03-01", tz="UTC")
H = pd.Timestamp("2026-03-29 00:00", tz="UTC")  # the spring switch is at 01:00 UTC that day


def _row(
    appointment: int,
    customer: int,
    starts: str,
    status: str = "completed",
    made: str | None = None,
    cancelled: str | None = None,
    **fields,
) -> dict:
    row = {"appointment_id": appointment, "customer_id": customer, "status": status} | fields
    row["starts_at"] = pd.Timestamp(starts, tz="UTC")
    if made:
        row["created_at"] = pd.Timestamp(made, tz="UTC")
    if cancelled:
        row["cancelled_at"] = pd.Timestamp(cancelled, tz="UTC")
    return row


HAND = make_visits(
    [
        _row(101, 1, "2026-01-10 10:00"),
        _row(102, 1, "2026-02-01 10:00", "no_show"),
        _row(103, 1, "2026-03-01 10:00", "cancelled", "2026-02-10", "2026-02-20"),
        _row(104, 1, "2026-03-28 09:00", made="2026-03-18 09:00"),  # A: Saturday 10:00 CET
        _row(105, 1, "2026-03-30 09:00", "no_show", "2026-03-20 09:00"),  # B: Monday 11:00 CEST
        _row(106, 1, "2026-04-10 10:00", "cancelled", "2026-03-01", "2026-03-29 12:00"),
        _row(107, 1, "2026-03-30 09:00", made="2026-03-25"),  # at the same instant as B
        _row(108, 1, "2026-03-15 10:00", made="2026-03-29 00:00"),  # entered late, back-dated
        _row(
            109,
            1,
            "2026-04-20 09:00",
            "cancelled",
            "2026-03-01",
            "2026-04-01",
            service_id=3,
            price_cents=9900,
        ),  # fmt: skip
        _row(
            201, 2, "2026-10-24 08:00", "booked", "2026-10-20 08:00", service_id=7, price_cents=4550
        ),  # fmt: skip
        _row(202, 2, "2026-10-26 08:00", "booked", "2026-10-25 20:00"),
    ]
)
COLUMNS = list(NOSHOW_FEATURES)
NAN = np.nan
EXPECTED = {  # lead, weekday, hour, visits, no-shows, cancels, rates, new, days, service, price
    104: [10, 5, 10, 1, 1, 1, 1 / 2, 1 / 3, 0, 76 + 23 / 24, 1, 50],
    105: [10, 0, 11, 3, 1, 2, 1 / 4, 2 / 6, 0, 2, 1, 50],  # 107 (at t) not counted
    109: [50.375, 0, 11, 4, 2, 2, 2 / 6, 2 / 8, 0, 21, 3, 99],  # its own cancellation is not
    201: [4, 5, 10, 0, 0, 0, NAN, NAN, 1, NAN, 7, 45.5],  # Saturday 10:00 summer time
    202: [0.5, 0, 9, 0, 0, 0, NAN, 0, 1, NAN, 1, 50],  # Monday 09:00 winter time
}
AT_H = {  # history_end H: t = min(start, H)
    109: [50.375, 0, 11, 2, 1, 1, 1 / 3, 1 / 4, 0, 23, 3, 99],  # 108 entered at H: not yet
    105: [10, 0, 11, 2, 1, 1, 1 / 3, 1 / 4, 0, 2, 1, 50],
    104: EXPECTED[104],  # starts before H: its own start is t
}


def _expected(table: dict[int, list[float]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(table, orient="index", columns=COLUMNS).astype("float64")
    frame.index = pd.Index(frame.index, name="appointment_id", dtype="int64")
    return frame


def test_hand_built_history_counts_and_local_times() -> None:
    rows = pd.Index(list(EXPECTED))
    features = build_noshow_features(HAND, rows, tz=BERLIN)
    pd.testing.assert_frame_equal(features, _expected(EXPECTED), rtol=1e-12)
    assert set(NOSHOW_CATEGORICAL) <= set(NOSHOW_FEATURES)


def test_history_end_caps_the_history_and_keeps_the_row_order() -> None:
    features = build_noshow_features(HAND, pd.Index(list(AT_H)), tz=BERLIN, history_end=H)
    pd.testing.assert_frame_equal(features, _expected(AT_H), rtol=1e-12)


def test_local_hour_follows_the_zone() -> None:
    utc = build_noshow_features(HAND, pd.Index([104, 201]), tz="UTC")
    assert utc["hour"].tolist() == [9.0, 8.0]
    tokyo = build_noshow_features(HAND, pd.Index([202]), tz="Asia/Tokyo")
    assert tokyo[["weekday", "hour"]].values.tolist() == [[0.0, 17.0]]


def test_labels_keep_known_outcomes_in_row_order() -> None:
    labels = build_noshow_labels(HAND, pd.Index([109, 105, 104, 201, 107]))
    assert labels.name == "no_show" and labels.dtype == bool
    assert labels.index.name == "appointment_id"
    assert labels.to_dict() == {105: True, 104: False, 107: False}
    assert labels.index.tolist() == [105, 104, 107]


def test_unknown_rows_and_empty_inputs() -> None:
    with pytest.raises(ValueError, match="999"):
        build_noshow_features(HAND, pd.Index([101, 999]), tz=BERLIN)
    with pytest.raises(ValueError, match="999"):
        build_noshow_labels(HAND, pd.Index([999]))
    empty = build_noshow_features(empty_visits(), pd.Index([], dtype="int64"), tz=BERLIN)
    assert empty.empty and list(empty.columns) == COLUMNS
    assert build_noshow_labels(HAND, pd.Index([201, 202])).empty


@pytest.mark.parametrize("seed", [2, 13, 41])
def test_features_at_history_end_ignore_everything_after_it(seed: int) -> None:
    visits = make_noshow_population(250, seed=seed, end=END)
    cutoff = END - pd.Timedelta(days=60)
    rows = pd.Index(visits.loc[visits["created_at"] < cutoff, "appointment_id"])
    features = build_noshow_features(visits, rows, tz=SYNTHETIC_TZ, history_end=cutoff)
    known = as_known_at(visits, cutoff)
    assert (known.set_index("appointment_id").loc[rows, "starts_at"] >= cutoff).sum() > 20
    for later in (known, make_more_future(visits, cutoff, seed=seed)):
        again = build_noshow_features(later, rows, tz=SYNTHETIC_TZ, history_end=cutoff)
        pd.testing.assert_frame_equal(again, features)


def _reference(visits: pd.DataFrame, rows: pd.Index, history_end) -> pd.DataFrame:
    """The definitions, one row at a time (slow, obvious)."""
    day = pd.Timedelta(days=1)
    by_id = visits.set_index("appointment_id")
    outcome = by_id["status"].isin(["completed", "no_show"])
    cancel_at = by_id["cancelled_at"].where(~outcome)
    cancel_at = cancel_at.fillna(by_id["created_at"].where(by_id["status"] == "cancelled"))
    records = {}
    for appointment in rows:
        row = by_id.loc[appointment]
        t = row["starts_at"] if history_end is None else min(row["starts_at"], history_end)
        mine = by_id[(by_id["customer_id"] == row["customer_id"]) & (by_id.index != appointment)]
        made = mine["created_at"] < t
        started = made & (mine["starts_at"] < t)
        visits_before = mine[started & (mine["status"] == "completed")]
        no_shows = int((started & (mine["status"] == "no_show")).sum())
        cancelled = made & (cancel_at[mine.index] < t)
        settled = int((started | cancelled).sum())
        local = row["starts_at"].tz_convert(SYNTHETIC_TZ)
        outcomes = len(visits_before) + no_shows
        last = visits_before["starts_at"].max()
        records[appointment] = [
            (row["starts_at"] - row["created_at"]) / day,
            local.weekday(),
            local.hour,
            len(visits_before),
            no_shows,
            cancelled.sum(),
            no_shows / outcomes if outcomes else NAN,
            cancelled.sum() / settled if settled else NAN,
            float(len(visits_before) == 0),
            (row["starts_at"] - last) / day if len(visits_before) else NAN,
            row["service_id"],
            row["price_cents"] / 100,
        ]
    return _expected(records)


@pytest.mark.parametrize("history_end", [None, END - pd.Timedelta(days=90)])
def test_vectorised_features_equal_the_slow_reference(history_end) -> None:
    visits = make_noshow_population(60, seed=17, end=END)
    rows = pd.Index(visits["appointment_id"].sample(frac=1.0, random_state=1))
    features = build_noshow_features(visits, rows, tz=SYNTHETIC_TZ, history_end=history_end)
    pd.testing.assert_frame_equal(features, _reference(visits, rows, history_end), rtol=1e-9)
    assert features["prior_cancellations"].sum() > 0 and features["prior_no_shows"].sum() > 0


def test_synthetic_population_plants_no_show_drivers() -> None:
    visits = make_noshow_population(2000, seed=23, end=END)
    pd.testing.assert_frame_equal(visits, make_noshow_population(2000, seed=23, end=END))
    rows = pd.Index(visits["appointment_id"])
    labels = build_noshow_labels(visits, rows)
    features = build_noshow_features(visits, labels.index, tz=SYNTHETIC_TZ)
    assert 0.05 < labels.mean() < 0.25

    def rate(mask: pd.Series) -> float:
        return float(labels[mask].mean())

    assert rate(features["lead_days"] > 14) > rate(features["lead_days"] < 3) + 0.05
    assert rate(features["hour"] >= 18) > rate(features["hour"] < 17) + 0.05
    assert rate(features["is_new_customer"] == 1) > rate(features["is_new_customer"] == 0)
    habit = features["prior_no_show_rate"] >= 0.3
    assert rate(habit) > rate(features["prior_no_show_rate"] == 0) + 0.1
