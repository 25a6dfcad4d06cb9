"""The no-show recipe on a synthetic population with a planted mechanism, its baseline,
and the shared metric helpers on hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.noshow_features import build_noshow_features
from analytics.noshow_model import (
    NoShowSettings,
    assign_noshow_bands,
    evaluate_noshow,
    fit_noshow_model,
    score_own_rate,
    select_outcome_rows,
)
from analytics.risk_model import (
    NotEnoughData,
    build_calibration_table,
    compute_calibration_error,
    compute_metrics,
)
from tests.analytics.retention_synthetic import (
    SYNTHETIC_TZ,
    make_more_future,
    make_noshow_population,
)

END = pd.Timestamp("2026-06-01", tz="UTC")
SETTINGS = NoShowSettings()


@pytest.fixture(scope="module")
def population() -> pd.DataFrame:
    return make_noshow_population(3000, seed=1, end=END)


def test_the_model_beats_the_customers_own_rate(population: pd.DataFrame) -> None:
    cutoff = END - pd.Timedelta(days=28)
    _, evaluation = evaluate_noshow(
        population, cutoff=cutoff, now=END, tz=SYNTHETIC_TZ, settings=SETTINGS
    )
    model, history = evaluation.metrics["model"], evaluation.metrics["history"]
    assert model.roc_auc is not None and history.roc_auc is not None
    assert model.roc_auc > history.roc_auc + 0.03
    assert model.pr_auc is not None and history.pr_auc is not None and model.pr_auc > history.pr_auc
    assert evaluation.calibration_error["model"] < 0.05
    expected = len(select_outcome_rows(population, cutoff, END))
    assert evaluation.counts["test_rows"] == expected == model.rows


def test_a_model_for_an_instant_ignores_later_bookings(population: pd.DataFrame) -> None:
    end = END - pd.Timedelta(days=20)
    later = make_more_future(population, end, seed=5)
    rows = select_outcome_rows(population, end - pd.Timedelta(days=30), end)
    features = build_noshow_features(population, rows, tz=SYNTHETIC_TZ)
    first = fit_noshow_model(population, end=end, tz=SYNTHETIC_TZ, settings=SETTINGS)
    again = fit_noshow_model(later, end=end, tz=SYNTHETIC_TZ, settings=SETTINGS)
    np.testing.assert_allclose(first.score(features), again.score(features))


def test_too_few_no_shows_to_learn_from_say_so(population: pd.DataFrame) -> None:
    tidy = population.assign(status=population["status"].replace("no_show", "completed"))
    with pytest.raises(NotEnoughData, match="0 positive"):
        fit_noshow_model(tidy, end=END, tz=SYNTHETIC_TZ, settings=SETTINGS)
    with pytest.raises(NotEnoughData, match="finished appointments"):
        fit_noshow_model(population, end=END - pd.Timedelta(days=3000), tz=SYNTHETIC_TZ,
                         settings=SETTINGS)  # fmt: skip


def test_the_baseline_shrinks_a_short_history_towards_the_business_rate() -> None:
    features = pd.DataFrame({"prior_no_shows": [0.0, 2.0, 0.0], "prior_visits": [0.0, 2.0, 20.0]})
    p = score_own_rate(features, base_rate=0.1, prior=5.0)
    np.testing.assert_allclose(p, [0.1, (2 + 0.5) / 9, 0.5 / 25])
    assert list(assign_noshow_bands(np.array([0.3, 0.12, 0.02]))) == ["high", "medium", "low"]


def test_metrics_and_calibration_on_hand_computed_values() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    metrics = compute_metrics(y, p)
    assert metrics.roc_auc == 0.75  # 3 of the 4 (positive, negative) pairs ordered right
    assert metrics.brier == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4, abs=1e-4)
    assert (metrics.rows, metrics.positives) == (4, 2)
    table = build_calibration_table(y, p)
    assert list(table["bin"]) == ["10%–20%", "30%–40%", "40%–50%", "80%–90%"]
    assert list(table["rows"]) == [1, 1, 1, 1]
    error = compute_calibration_error(y, p)
    assert error == pytest.approx((0.1 + 0.65 + 0.4 + 0.2) / 4)
    one_class = compute_metrics(np.zeros(3), np.array([0.1, 0.2, 0.3]))
    assert one_class.roc_auc is None and one_class.pr_auc is None
