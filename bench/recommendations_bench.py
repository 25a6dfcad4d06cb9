"""Recommendations: how long the facts, the rule engine and the page take. Prints one JSON
object.

Seeds the demo salon into a scratch SQLite file (or PostgreSQL with --engine postgresql,
SLOTBOARD_BENCH_PG_URL), stores the whole-business forecast and the churn scores as the
CLI does, then measures:
- facts_seconds: `build_business_facts` (median of --repeats; it never fits or trains);
- rules_seconds: `assistant.rules.recommend` on those facts (pure);
- generate_seconds: a first "Generate" (facts + rules + store), then cached_seconds: the
  same press again on unchanged numbers (facts + finding the stored run);
- page_render_seconds: app_pages/recommendations.py through AppTest as the owner, warm.
Usage: .venv/bin/python bench/recommendations_bench.py [--engine sqlite|postgresql]
           [--appointments N] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.rules import recommend  # noqa: E402
from auth.roles import Actor, Role  # noqa: E402
from auth.service import SignedIn  # noqa: E402
from bench.scratch import scratch_postgresql, scratch_sqlite  # noqa: E402
from data.accounts import list_accounts  # noqa: E402
from data.db import make_engine, read_conn  # noqa: E402
from data.demo import seed_demo  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402
from reports.assistant_facts import build_business_facts  # noqa: E402
from reports.churn import score_churn  # noqa: E402
from reports.forecasts import ForecastRequest, run_forecasts  # noqa: E402
from reports.recommendations import generate_recommendations  # noqa: E402


def main() -> None:
    args = _parse()
    scratch = scratch_postgresql if args.engine == "postgresql" else scratch_sqlite
    with scratch() as url, tempfile.TemporaryDirectory() as models:
        report = {"engine": args.engine} | measure(url, Path(models), args)
    print(json.dumps(report, indent=2))


def _timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def measure(url: str, models: Path, args: argparse.Namespace) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade_to_head(engine)
    summary = seed_demo(engine, appointments=args.appointments)
    actor = Actor.operator(business_id=summary.business_id, label="bench")
    run_forecasts(engine, actor=actor, requests=[ForecastRequest("business", None)], n_jobs=1)
    score_churn(engine, actor=actor, models_dir=models)
    facts_runs = [_timed(lambda: build_business_facts(engine, actor=actor, models_dir=models))
                  for _ in range(args.repeats)]  # fmt: skip
    facts = facts_runs[-1][1]
    rules_runs = [_timed(lambda: recommend(facts))[0] for _ in range(args.repeats)]
    generate, first = _timed(
        lambda: generate_recommendations(engine, actor=actor, llm=None, models_dir=models)
    )
    cached, again = _timed(
        lambda: generate_recommendations(engine, actor=actor, llm=None, models_dir=models)
    )
    with read_conn(engine) as conn:
        owner = next(a for a in list_accounts(conn, actor=actor) if a["role"] == "owner")
    engine.dispose()
    return {
        "appointments": summary.appointments,
        "facts": len(facts.facts),
        "missing": [m.topic for m in facts.missing],
        "recommendations": len(first.recommendations),
        "facts_seconds": round(statistics.median(t for t, _ in facts_runs), 3),
        "rules_seconds": round(statistics.median(rules_runs), 4),
        "generate_seconds": round(generate, 3),
        "cached_seconds": round(cached, 3),
        "cached": again.cached,
        "page_render_seconds": _page(url, models, owner, actor.business_id, args.repeats),
        "method": "median of --repeats; the page is warm (the median of the later runs)",
    }


def _page(url: str, models: Path, owner: dict[str, Any], business_id: int, repeats: int) -> float:
    from streamlit.testing.v1 import AppTest

    from ui.session import USER_KEY

    os.environ |= {"DATABASE_URL": url, "MODELS_DIR": str(models)}
    os.environ.pop("OPENAI_API_KEY", None)
    at = AppTest.from_file(str(ROOT / "app_pages" / "recommendations.py"), default_timeout=600)
    at.session_state[USER_KEY] = SignedIn(
        owner["id"], business_id, Role.OWNER, owner["email"], "Owner", "local"
    )
    times = []
    for _ in range(1 + repeats):
        seconds, _ = _timed(at.run)
        times.append(seconds)
        if at.exception:
            raise RuntimeError(f"the Recommendations page failed: {at.exception[0].value}")
    return round(statistics.median(times[1:]), 3)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--appointments", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    return parser.parse_args()


if __name__ == "__main__":
    main()
