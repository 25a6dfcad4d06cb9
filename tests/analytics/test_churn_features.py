"""Churn features and labels: hand-computed values, point-in-time safety, a slow
reference implementation, and the synthetic population's planted drivers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.churn_features import CHURN_FEATURES, build_churn_features, build_churn_labels
from analytics.visits import VISIT_COLUMNS, build_visits, check_visits, empty_visits
from tests.analytics.retention_synthetic import (
    as_known_at,
    make_churn_population,
    make_more_future,
    make_visits,
)

C = pd.Timestamp("2026-01-01", tz="UTC")
END = pd.Timestamp("2026-03-01", tz="UTC")


def _at(days: float) -> pd.Timestamp:
    return C + pd.Timedelta(days=days)


def _row(customer: int, days: float, **fields) -> dict:
    return {"customer_id": customer, "starts_at": _at(days)} | {
        key: _at(value) if key in ("created_at", "cancelled_at") else value
        for key, value in fields.items()
    }


HAND = make_visits(
    [
        # customer 1: five completed visits, a no-show, two cancellations, two bookings ahead
        _row(1, -400, service_id=1, staff_id=1, price_cents=4000),
        _row(1, -300, service_id=2, staff_id=3, price_cents=6000),
        _row(1, -200, service_id=1, staff_id=2, price_cents=5000),
        _row(1, -100, service_id=1, staff_id=1, price_cents=5000),
        _row(1, -50, status="no_show"),
        _row(1, -10, created_at=-12),
        _row(1, -150, status="cancelled", created_at=-170, cancelled_at=-160),
        _row(1, -5, status="cancelled", created_at=-20, cancelled_at=1),  # after C: live then
        _row(1, 20, created_at=-3),  # completed in the end, a future booking at C
        _row(1, -2, created_at=1),  # entered after C (back-dated): did not exist at C
        # customer 2: a single visit; a future booking cancelled only after C
        _row(2, -30, price_cents=3000, service_id=3, staff_id=2, created_at=-31),
        _row(2, 10, status="cancelled", created_at=-40, cancelled_at=2),
        # customer 3: last visit more than active_days ago
        _row(3, -400),
        # customer 4: a no-show before C, its first completed visit after C
        _row(4, -20, status="no_show"),
        _row(4, 5, created_at=-5),
        # customer 5: last visit exactly active_days before C; no live booking at C
        _row(5, -365),
        _row(5, 10, status="cancelled", created_at=-20, cancelled_at=-1),
        _row(5, 3, status="booked", created_at=0),  # made exactly at C: not yet
        # customers 6, 7: labels only (a visit exactly at C and one at C + 30 days)
        _row(6, 0, created_at=-1),
        _row(7, 30, created_at=-1),
    ]
)

EXPECTED = {
    1: {
        "recency_days": 10.0,
        "frequency_365d": 4.0,
        "visits_total": 5.0,
        "spend_365d": 210.0,
        "avg_ticket": 50.0,
        "tenure_days": 400.0,
        "typical_gap_days": 100.0,  # gaps 100, 100, 100, 90
        "recency_gap_ratio": 0.1,
        "frequency_trend": 0.0,  # 2 recent (-100, -10) against 2 earlier (-300, -200)
        "no_show_rate": 1 / 6,
        "cancellation_rate": 1 / 8,  # 8 rows started before C, only -150 cancelled by then
        "top_service_share": 0.8,
        "top_staff_share": 0.6,
        "mean_lead_days": 9.0,  # (4 visits x 7 + no-show 7 + 2 + 20 + 15) / 8
        "has_future_booking": 1.0,
    },
    2: {
        "recency_days": 30.0,
        "frequency_365d": 1.0,
        "visits_total": 1.0,
        "spend_365d": 30.0,
        "avg_ticket": 30.0,
        "tenure_days": 30.0,
        "typical_gap_days": np.nan,
        "recency_gap_ratio": np.nan,
        "frequency_trend": 1.0,
        "no_show_rate": 0.0,
        "cancellation_rate": 0.0,
        "top_service_share": 1.0,
        "top_staff_share": 1.0,
        "mean_lead_days": 1.0,
        "has_future_booking": 1.0,
    },
    5: {
        "recency_days": 365.0,
        "frequency_365d": 1.0,
        "visits_total": 1.0,
        "spend_365d": 50.0,
        "avg_ticket": 50.0,
        "tenure_days": 365.0,
        "typical_gap_days": np.nan,
        "recency_gap_ratio": np.nan,
        "frequency_trend": 0.0,  # nothing in either half-year window
        "no_show_rate": 0.0,
        "cancellation_rate": 0.0,
        "top_service_share": 1.0,
        "top_staff_share": 1.0,
        "mean_lead_days": 7.0,
        "has_future_booking": 0.0,
    },
}


def test_hand_built_features_match_hand_computed_values() -> None:
    features = build_churn_features(HAND, C)
    expected = pd.DataFrame.from_dict(EXPECTED, orient="index")[list(CHURN_FEATURES)]
    expected.index = pd.Index(expected.index, name="customer_id", dtype="int64")
    pd.testing.assert_frame_equal(features[list(CHURN_FEATURES)], expected, rtol=1e-12)
    assert features.loc[1, "first_visit_at"] == _at(-400)
    assert features.loc[1, "last_visit_at"] == _at(-10)
    assert list(features.columns) == [*CHURN_FEATURES, "first_visit_at", "last_visit_at"]
    assert str(features["last_visit_at"].dtype) == "datetime64[ns, UTC]"


def test_active_days_bounds_the_population() -> None:
    assert build_churn_features(HAND, C, active_days=364).index.tolist() == [1, 2]
    assert build_churn_features(HAND, C, active_days=401).index.tolist() == [1, 2, 3, 5]


def test_labels_look_for_a_completed_visit_in_the_horizon() -> None:
    customers = pd.Index([5, 1, 99, 2, 6, 7, 4])
    labels = build_churn_labels(HAND, C, horizon_days=30, customers=customers)
    assert labels.name == "churned" and labels.dtype == bool
    assert labels.index.tolist() == customers.tolist() and labels.index.name == "customer_id"
    # 1 comes at +20, 6 at exactly C, 4 at +5; 2 cancelled; 7 comes at +30 (outside)
    assert labels.tolist() == [True, False, True, True, False, True, False]


def test_empty_and_malformed_inputs() -> None:
    features = build_churn_features(empty_visits(), C)
    assert features.empty and list(features.columns[:15]) == list(CHURN_FEATURES)
    assert build_churn_labels(empty_visits(), C, horizon_days=30, customers=pd.Index([3])).all()
    with pytest.raises(ValueError, match="status, price_cents"):
        check_visits(HAND.drop(columns=["status", "price_cents"]))
    with pytest.raises(ValueError, match="tz-aware"):
        build_churn_features(HAND, pd.Timestamp("2026-01-01"))
    with pytest.raises(ValueError, match="unknown visit status"):
        build_visits(HAND.assign(status="maybe"))
    assert dict(empty_visits().dtypes.astype(str)) == VISIT_COLUMNS


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_features_ignore_everything_after_the_cutoff(seed: int) -> None:
    visits = make_churn_population(250, seed=seed, end=END)
    cutoff = END - pd.Timedelta(days=75)
    features = build_churn_features(visits, cutoff)
    assert len(features) > 50
    # The same features from only what the database held at the cutoff ...
    pd.testing.assert_frame_equal(
        build_churn_features(as_known_at(visits, cutoff), cutoff), features
    )
    # ... and after more future: bookings made later, new customers, late cancellations.
    pd.testing.assert_frame_equal(
        build_churn_features(make_more_future(visits, cutoff, seed=seed), cutoff), features
    )


def _reference(visits: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The definitions, one customer at a time (slow, obvious)."""
    day = pd.Timedelta(days=1)
    known = visits[visits["created_at"] < cutoff]
    cancelled = known["cancelled_at"] < cutoff
    started = known[known["starts_at"] < cutoff]
    records = {}
    for customer, rows in started.groupby("customer_id"):
        done = rows[rows["status"] == "completed"].sort_values("starts_at")
        if done.empty or done["starts_at"].max() < cutoff - 365 * day:
            continue
        starts, price = done["starts_at"], done["price_cents"] / 100
        gaps = starts.diff().dropna() / day
        recent = (starts >= cutoff - 182 * day).sum()
        earlier = ((starts >= cutoff - 364 * day) & (starts < cutoff - 182 * day)).sum()
        own = known[known["customer_id"] == customer]
        future = (own["starts_at"] >= cutoff) & ~cancelled[own.index]
        no_shows = (rows["status"] == "no_show").sum()
        recency = (cutoff - starts.iloc[-1]) / day
        typical = gaps.median() if len(gaps) else np.nan
        records[customer] = {
            "recency_days": recency,
            "frequency_365d": (starts >= cutoff - 365 * day).sum(),
            "visits_total": len(done),
            "spend_365d": price[starts >= cutoff - 365 * day].sum(),
            "avg_ticket": price.mean(),
            "tenure_days": (cutoff - starts.iloc[0]) / day,
            "typical_gap_days": typical,
            "recency_gap_ratio": recency / typical if len(gaps) else np.nan,
            "frequency_trend": (recent - earlier) / (recent + earlier) if recent + earlier else 0,
            "no_show_rate": no_shows / (no_shows + len(done)),
            "cancellation_rate": cancelled[rows.index].mean(),
            "top_service_share": done["service_id"].value_counts().max() / len(done),
            "top_staff_share": done["staff_id"].value_counts().max() / len(done),
            "mean_lead_days": ((rows["starts_at"] - rows["created_at"]) / day).mean(),
            "has_future_booking": float(future.any()),
        }
    frame = pd.DataFrame.from_dict(records, orient="index").astype(float)
    frame.index = pd.Index(frame.index, name="customer_id", dtype="int64")
    return frame[list(CHURN_FEATURES)]


def test_vectorised_features_equal_the_slow_reference() -> None:
    visits = make_churn_population(150, seed=5, end=END)
    for cutoff in (END - pd.Timedelta(days=200), END):
        features = build_churn_features(visits, cutoff)
        pd.testing.assert_frame_equal(features[list(CHURN_FEATURES)], _reference(visits, cutoff))


def test_synthetic_population_plants_drivers_beyond_recency() -> None:
    visits = make_churn_population(2000, seed=7, end=END)
    pd.testing.assert_frame_equal(visits, make_churn_population(2000, seed=7, end=END))
    cutoff = END - pd.Timedelta(days=120)
    features = build_churn_features(visits, cutoff)
    churned = build_churn_labels(visits, cutoff, horizon_days=90, customers=features.index)
    assert 0.15 < churned.mean() < 0.6
    by_booking = churned.groupby(features["has_future_booking"]).mean()
    assert by_booking[1.0] < 0.5 * by_booking[0.0]  # pre-bookers churn much less
    waiting = features["has_future_booking"] == 0.0
    no_shows = churned[waiting].groupby(features["no_show_rate"][waiting] >= 0.2).mean()
    assert no_shows[True] > no_shows[False] + 0.1  # no-show habits drive churn
    regular = features["visits_total"] >= 3
    loyal = churned[regular].groupby(features["top_staff_share"][regular] >= 0.75).mean()
    assert loyal[True] < loyal[False] - 0.05  # loyalty to one staff member keeps customers
