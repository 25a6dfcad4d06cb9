"""The churn recipe on synthetic populations with a planted mechanism: time-split
training, calibration, both baselines, bands and plain-worded drivers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.churn_features import build_churn_features
from analytics.churn_model import (
    ChurnSettings,
    evaluate_churn,
    fit_churn_model,
    plan_cutoffs,
)
from analytics.churn_scoring import (
    assign_bands,
    build_churn_scores,
    describe_driver,
    score_p_alive,
)
from analytics.risk_model import NotEnoughData
from tests.analytics.retention_synthetic import (
    make_churn_population,
    make_more_future,
    make_visits,
)

END = pd.Timestamp("2026-06-01", tz="UTC")
SETTINGS = ChurnSettings()


@pytest.fixture(scope="module")
def population() -> pd.DataFrame:
    return make_churn_population(3000, seed=1, end=END)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_model_beats_both_baselines_and_is_calibrated(seed: int) -> None:
    visits = make_churn_population(3000, seed=seed, end=END)
    _, evaluation = evaluate_churn(
        visits, cutoff=END - SETTINGS.horizon, settings=SETTINGS, now=END
    )
    auc = {name: m.roc_auc for name, m in evaluation.metrics.items()}
    assert auc["model"] is not None and auc["recency"] is not None and auc["heuristic"] is not None
    assert auc["model"] > auc["recency"] + 0.01
    assert auc["model"] > auc["heuristic"] + 0.01
    assert evaluation.metrics["model"].brier < evaluation.metrics["recency"].brier
    assert evaluation.calibration_error["model"] < 0.04
    table = evaluation.calibration["model"]
    assert table["rows"].sum() == evaluation.counts["test_rows"]
    assert evaluation.counts["test_churned"] == evaluation.metrics["model"].positives


def test_training_cutoffs_never_see_past_the_calibration_fold() -> None:
    plan = plan_cutoffs(END - pd.Timedelta(days=720), END, SETTINGS)
    assert plan.calibration == END - SETTINGS.horizon
    assert len(plan.base) == SETTINGS.max_base_cutoffs
    assert all(cutoff + SETTINGS.horizon <= plan.calibration for cutoff in plan.base)
    assert list(plan.base) == sorted(plan.base)
    with pytest.raises(NotEnoughData, match="days of visit history"):
        plan_cutoffs(END - pd.Timedelta(days=150), END, SETTINGS)


def test_a_model_for_an_instant_ignores_everything_known_later(population: pd.DataFrame) -> None:
    end = END - pd.Timedelta(days=60)
    later = make_more_future(population, end, seed=3)
    assert len(later) > len(population)
    features = build_churn_features(population, end, active_days=SETTINGS.active_days)
    first = fit_churn_model(population, end=end, settings=SETTINGS).score(features)
    again = fit_churn_model(later, end=end, settings=SETTINGS).score(features)
    np.testing.assert_allclose(first, again)


def test_evaluating_before_the_horizon_has_passed_is_refused(population: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="has not passed yet"):
        evaluate_churn(population, cutoff=END - pd.Timedelta(days=30), settings=SETTINGS, now=END)


def test_too_few_customers_to_learn_from_say_so() -> None:
    visits = make_churn_population(40, seed=4, end=END)
    with pytest.raises(NotEnoughData, match="at least 20 of each"):
        fit_churn_model(visits, end=END, settings=SETTINGS)


def test_the_heuristic_rises_with_silence_and_falls_with_frequency() -> None:
    features = pd.DataFrame({
        "visits_total": [6.0, 6.0, 6.0, 1.0, 12.0],
        "tenure_days": [300.0, 300.0, 300.0, 300.0, 300.0],
        "recency_days": [10.0, 60.0, 200.0, 10.0, 60.0],
    })  # fmt: skip
    p = score_p_alive(features, horizon_days=90)
    assert ((p >= 0) & (p <= 1)).all()
    assert p[0] < p[1] < p[2]  # longer silence, likelier gone
    assert p[4] > p[1]  # the same silence says more from a frequent visitor
    assert p[3] > p[0]  # one visit in 300 days: unlikely to come within the horizon


def _customer_rows() -> pd.DataFrame:
    """Monthly regulars: 1 pre-booked, 2 not, 3 silent for 150 days; 4 is brand new."""
    rows = []
    for customer, last in ((1, 10), (2, 10), (3, 150)):
        for visit in range(8):
            days_ago = last + 30 * (7 - visit)
            rows.append({"customer_id": customer, "starts_at": END - pd.Timedelta(days=days_ago)})
    rows.append(
        {
            "customer_id": 1,
            "starts_at": END + pd.Timedelta(days=5),
            "status": "booked",
            "created_at": END - pd.Timedelta(days=20),
        }
    )
    rows.append({"customer_id": 4, "starts_at": END - pd.Timedelta(days=5)})
    return make_visits(rows)  # fmt: skip


def test_scores_carry_bands_and_drivers_in_plain_words() -> None:
    visits = _customer_rows()
    features = build_churn_features(visits, END)
    scores = build_churn_scores(features, lambda x: score_p_alive(x, horizon_days=90)).set_index(
        "customer_id"
    )
    assert list(scores.index) == [1, 2, 3, 4]
    assert scores.loc[4, "band"] == "too_new"
    assert scores.loc[3, "score"] > scores.loc[2, "score"] == scores.loc[1, "score"]
    drivers = scores.loc[3, "drivers"]
    assert drivers and all({"feature", "text", "effect"} <= set(d) for d in drivers)
    assert all(d["effect"] > 0 for d in drivers)
    assert drivers[0]["feature"] == "recency_days"
    assert drivers[0]["text"] == "Last visit 150 days ago"


def test_bands_and_driver_texts() -> None:
    features = pd.DataFrame(
        {"visits_total": [5.0, 5.0, 5.0, 1.0], "tenure_days": [200.0] * 3 + [3.0]}
    )
    bands = assign_bands(np.array([0.7, 0.3, 0.1, 0.9]), features)
    assert list(bands) == ["high", "medium", "low", "too_new"]
    assert describe_driver("has_future_booking", 0.0) == "No upcoming booking"
    assert describe_driver("recency_gap_ratio", 2.5) == "Silent for 2.5× their usual gap"
    assert describe_driver("typical_gap_days", float("nan")) == "Only one visit so far"
    assert describe_driver("no_show_rate", 0.25) == "Missed 25% of appointments"


def test_no_population_gives_a_typed_empty_score_frame_and_texts_are_never_repeated() -> None:
    empty = build_churn_features(_customer_rows(), END - pd.Timedelta(days=3000))
    scores = build_churn_scores(empty, lambda x: score_p_alive(x, horizon_days=90))
    assert scores.empty and str(scores["customer_id"].dtype) == "int64"
    single = make_visits([{"customer_id": 7, "starts_at": END - pd.Timedelta(days=200)}])
    single_scores = build_churn_scores(
        build_churn_features(single, END),
        lambda x: 0.5 + 0.2 * x["typical_gap_days"].isna() + 0.2 * x["recency_gap_ratio"].isna(),
        reference=pd.Series(dict.fromkeys(["typical_gap_days", "recency_gap_ratio"], 30.0)),
    )
    texts = [driver["text"] for driver in single_scores.loc[0, "drivers"]]
    assert texts == ["Only one visit so far"]  # gap and gap ratio both say it: once
