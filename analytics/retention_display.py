"""What the Retention page and the customer profile say about churn and no-show risk,
as text, tables and a chart. Pure: frames and mappings in, frames, strings or a plotly
figure out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from analytics.churn_scoring import BAND_LABELS
from scheduling.catalog import CURRENCY_SYMBOLS


def local_day(instant: Any, tz: str) -> str:
    return f"{pd.Timestamp(instant).tz_convert(tz):%d %b %Y}"


def build_quality_table(evaluation: Mapping[str, Any], names: Mapping[str, str]) -> pd.DataFrame:
    """Model and baselines (in `names` order): ROC AUC, PR AUC, Brier, rows."""
    metrics = evaluation.get("metrics", {})
    rows = [
        {"Model": label, "ROC AUC": m.get("roc_auc"), "PR AUC": m.get("pr_auc"),
         "Brier": m.get("brier"), "Rows": m.get("rows")}
        for key, label in names.items() if (m := metrics.get(key)) is not None
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["Model", "ROC AUC", "PR AUC", "Brier", "Rows"])


def describe_evaluation(
    evaluation: Mapping[str, Any], *, kind: str, trained_at: Any, tz: str
) -> str:
    """One sentence: what the model was evaluated on, and when it was trained."""
    model = evaluation.get("metrics", {}).get("model", {})
    rows, positives = model.get("rows", 0), model.get("positives", 0)
    cutoff, trained = local_day(evaluation["cutoff"], tz), local_day(trained_at, tz)
    if kind == "churn":
        return (
            f"Evaluated on the {rows:,} customers active at {cutoff}: {positives:,} did not "
            f"come back within {evaluation.get('horizon_days')} days. Trained {trained}."
        )
    until = local_day(evaluation.get("until", trained_at), tz)
    return (
        f"Evaluated on the {rows:,} appointments from {cutoff} to {until}: {positives:,} "
        f"were no-shows. Trained {trained}."
    )


def make_calibration_figure(rows: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Predicted against observed share per bin, with the diagonal of perfect calibration."""
    t = pd.DataFrame(list(rows), columns=["bin", "rows", "predicted", "observed"])
    hover = "%{text}: %{x:.0%} predicted, %{y:.0%} observed"
    return go.Figure([
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Perfectly calibrated",
                   line={"dash": "dash", "color": "grey"}),
        go.Scatter(x=t["predicted"], y=t["observed"], mode="lines+markers", name="Model",
                   text=t["bin"], hovertemplate=hover),
    ]).update_layout(xaxis_title="Predicted", yaxis_title="Observed", height=360,
                     xaxis_tickformat=".0%", yaxis_tickformat=".0%")  # fmt: skip


def customer_labels(details: pd.DataFrame, *, include_names: bool) -> dict[int, str]:
    """customer_id -> "First Last" (owners) or the external id, else "#id"."""
    labels = {}
    for row in details.to_dict("records"):
        name = f"{row.get('first_name') or ''} {row.get('last_name') or ''}".strip()
        external = row["external_id"] if isinstance(row["external_id"], str) else ""
        labels[int(row["customer_id"])] = (
            (include_names and name) or external or f"#{row['customer_id']}"
        )
    return labels


def join_drivers(drivers: Sequence[Mapping[str, Any]]) -> str:
    """The drivers' texts, "; "-joined, each once (two features may read alike)."""
    return "; ".join(dict.fromkeys(str(driver["text"]) for driver in drivers))


def build_customer_table(scores: pd.DataFrame, *, include_names: bool, tz: str) -> pd.DataFrame:
    """Display rows, highest risk first, indexed by customer_id: Customer, Risk (0..1),
    Band, Why, Last visit (local date), Usual gap (days; NaN for one visit), Spend."""
    frame = scores.sort_values(["score", "customer_id"], ascending=[False, True])
    labels = customer_labels(frame, include_names=include_names)
    return pd.DataFrame({
        "Customer": frame["customer_id"].map(labels),
        "Risk": frame["score"].astype(float),
        "Band": frame["band"].map(BAND_LABELS),
        "Why": [join_drivers(drivers) for drivers in frame["drivers"]],
        "Last visit": frame["last_visit_at"].dt.tz_convert(tz).dt.date,
        "Usual gap": frame["typical_gap_days"].astype(float).round(0),
        "Spend last 12 months": frame["spend_365d"].astype(float),
    }).set_index(frame["customer_id"].to_numpy())  # fmt: skip


def money_format(currency: str) -> str:
    """A printf format for st.column_config.NumberColumn in the business's currency."""
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    return f"{symbol}%.2f" if symbol else f"%.2f {currency.upper()}"


def build_upcoming_table(
    scores: pd.DataFrame,
    labels: Mapping[int, str],
    *,
    staff: Mapping[int, str],
    services: Mapping[int, str],
    tz: str,
) -> pd.DataFrame:
    """Start (local), Customer, Service, Staff, Risk (0..1), Band; riskiest first."""
    frame = scores.sort_values(["score", "starts_at"], ascending=[False, True])
    return pd.DataFrame({
        "Start": frame["starts_at"].dt.tz_convert(tz).dt.strftime("%a %d %b %H:%M"),
        "Customer": frame["customer_id"].map(lambda i: labels.get(int(i), f"#{i}")),
        "Service": frame["service_id"].map(lambda i: services.get(int(i), f"#{i}")),
        "Staff": frame["staff_id"].map(lambda i: staff.get(int(i), f"#{i}")),
        "Risk": frame["score"].astype(float),
        "Band": frame["band"].str.capitalize(),
    })  # fmt: skip


def default_campaign_name(band: str, *, selected: int, today: date) -> str:
    audience = f"{selected} selected" if selected else f"{BAND_LABELS[band]} risk"
    return f"Win back – {audience} – {today:%d %b %Y}"


def describe_churn_score(row: Mapping[str, Any] | None, tz: str) -> str:
    """The profile's line: "Churn risk: 72% · High · as of 24 Nov 2026 — Last visit 84
    days ago; No upcoming booking" (or not scored yet, or too new to score)."""
    if row is None:
        return "Churn risk: not scored yet"
    as_of = local_day(row["as_of"], tz)
    if row["band"] == "too_new":
        return f"Churn risk: Too new to score · as of {as_of}"
    line = f"Churn risk: {row['score']:.0%} · {BAND_LABELS[row['band']]} · as of {as_of}"
    why = join_drivers(row.get("drivers") or [])
    return f"{line} — {why}" if why else line
