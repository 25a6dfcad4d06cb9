"""The newest stored churn scores as an export table ("churn_scores"): one row per scored
customer with the internal and external id, score, band, drivers in plain words, the
instant scored and the model version. No names or contact details: join with the
customers export (whose contact details are audited) when they are needed."""

from __future__ import annotations

import pandas as pd

from data.retention import load_churn_customer_details, load_latest_churn_scores
from reports.exports import ExportSource, ExportTable, register_export

COLUMNS = ["customer_id", "external_id", "score", "band", "drivers", "scored_at", "model_version"]


def churn_score_table(source: ExportSource) -> pd.DataFrame:
    """COLUMNS, highest risk first; scored_at in UTC (naive); drivers "; "-joined."""
    scores = load_latest_churn_scores(source.conn, actor=source.actor)
    details = load_churn_customer_details(
        source.conn, actor=source.actor, customer_ids=scores["customer_id"].tolist(),
        include_names=False,
    )  # fmt: skip
    table = scores.merge(details[["customer_id", "external_id"]], on="customer_id", how="left")
    table["drivers"] = [
        "; ".join(str(driver.get("text", "")) for driver in drivers or [])
        for drivers in table["drivers"]
    ]
    scored = pd.to_datetime(table["as_of"], utc=True).dt.tz_localize(None)
    table = table.assign(scored_at=scored.astype("datetime64[s]"))
    return table[COLUMNS].sort_values("score", ascending=False, ignore_index=True)


register_export(
    ExportTable(
        "churn_scores", "Churn scores",
        "The newest stored churn score of every scored customer: risk, band and the reasons "
        "in plain words, with internal and external ids (no names or contact details). The "
        "date range does not apply; the Retention page or `cli.py churn score` makes them.",
        count=lambda s: len(churn_score_table(s)),
        chunks=lambda s: [churn_score_table(s)],
    )
)  # fmt: skip
