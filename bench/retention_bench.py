"""Churn and no-show models: training and scoring time at 100,000 customers, and model
quality against the baselines on the demo salon. Prints one JSON object.

Two demo salons are seeded into SQLite files under var/bench/ (kept for later runs;
--fresh reseeds): the standard demo (about 20,000 appointments) and one sized for about
--customers customers (the demo generator makes about 0.16 customers per appointment).
For each: the time to load the visits, `train_churn` (evaluate at the latest cutoff whose
horizon has passed, refit, store), `score_churn` with the stored model (features,
scores, per-customer drivers) and saving the scores, `train_noshow` and scoring the next
14 days' appointments; then each model's ROC AUC, PR AUC and Brier score against its
baselines on the held-out cutoff.
Targets (issue 6): train under 60 s and score under 5 s for 100,000 customers.
Usage: .venv/bin/python bench/retention_bench.py [--customers 100000] [--fresh]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auth.roles import Actor  # noqa: E402
from data.db import make_engine, read_conn, write_tx  # noqa: E402
from data.demo import seed_demo  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402
from data.retention import save_churn_scores  # noqa: E402
from reports.churn import score_churn, train_churn  # noqa: E402
from reports.noshow import score_noshow_risk, train_noshow  # noqa: E402
from reports.retention_inputs import load_inputs  # noqa: E402

CUSTOMERS_PER_APPOINTMENT = 0.16
TARGETS = {"train_seconds": 60.0, "score_seconds": 5.0}


def main() -> None:
    args = _parse()
    appointments = round(args.customers / CUSTOMERS_PER_APPOINTMENT)
    report: dict[str, Any] = {"targets": TARGETS}
    report["demo"] = measure(_database("retention_demo", None, args.fresh))
    report["large"] = measure(_database(f"retention_{appointments}", appointments, args.fresh))
    large = report["large"]
    report["ok"] = {
        "train": large["churn_train_seconds"] < TARGETS["train_seconds"],
        "score": large["churn_score_seconds"] < TARGETS["score_seconds"],
    }
    print(json.dumps(report, indent=2, default=str))


def _database(name: str, appointments: int | None, fresh: bool) -> str:
    path = ROOT / "var" / "bench" / f"{name}.db"
    if fresh and path.exists():
        path.unlink()
    url = f"sqlite:///{path}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url)
        upgrade_to_head(engine)
        seed_demo(engine, appointments=appointments)
        engine.dispose()
    return url


def measure(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    actor = Actor.operator(business_id=1, label="bench")
    out: dict[str, Any] = {"database": url.rsplit("/", 1)[-1]}
    with tempfile.TemporaryDirectory() as folder:
        models = Path(folder)
        with read_conn(engine) as conn:
            started = time.perf_counter()
            inputs = load_inputs(conn, actor=actor)
            out["load_visits_seconds"] = _since(started)
        out["appointments_with_customer"] = len(inputs.visits)
        out["customers"] = int(inputs.visits["customer_id"].nunique())
        started = time.perf_counter()
        churn = train_churn(engine, actor=actor, models_dir=models)
        out["churn_train_seconds"] = _since(started)
        started = time.perf_counter()
        scoring = score_churn(engine, actor=actor, models_dir=models, save=False)
        out["churn_score_seconds"] = _since(started)
        out["scored_customers"] = len(scoring.scores)
        with write_tx(engine) as conn:
            started = time.perf_counter()
            save_churn_scores(
                conn, actor=actor, as_of=scoring.as_of, model_version=scoring.model_version,
                fingerprint="bench",
                scores=scoring.scores[["customer_id", "score", "band", "drivers"]],
            )  # fmt: skip
            out["churn_save_scores_seconds"] = _since(started)
        started = time.perf_counter()
        noshow = train_noshow(engine, actor=actor, models_dir=models)
        out["noshow_train_seconds"] = _since(started)
        started = time.perf_counter()
        upcoming = score_noshow_risk(engine, actor=actor, models_dir=models)
        out["noshow_score_seconds"] = _since(started)
        out["upcoming_appointments_scored"] = len(upcoming.scores)
    out["churn"] = _quality(churn.evaluation)
    out["noshow"] = _quality(noshow.evaluation)
    engine.dispose()
    return out


def _quality(evaluation: dict[str, Any] | None) -> dict[str, Any]:
    evaluation = evaluation or {}
    return {
        "cutoff": evaluation.get("cutoff"),
        "counts": evaluation.get("counts"),
        "metrics": evaluation.get("metrics"),
        "calibration_error": evaluation.get("calibration_error"),
        "verdict": (evaluation.get("verdict") or {}).get("level"),
    }


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 2)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--fresh", action="store_true", help="Reseed the kept databases.")
    return parser.parse_args()


if __name__ == "__main__":
    main()
