"""The Peak times page's render times. Prints one JSON object.

Seeds the demo salon (two years of history up to today) into a scratch SQLite file, or
a scratch PostgreSQL database with --engine postgresql (SLOTBOARD_BENCH_PG_URL), fits and
stores the whole-business forecast the way `cli.py forecast` does, then renders
app_pages/peak_times.py in one AppTest session as the demo owner:
- first_render: the stored run is found by the data fingerprint (series SQL, no fit);
- warm_render: the same page again, as a user's next interaction: cached (target 300 ms);
- fit_seconds: the fit, backtest and store itself, for scale.
Usage: .venv/bin/python bench/peak_times_page_bench.py [--engine sqlite|postgresql]
           [--appointments N] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auth.roles import Actor, Role  # noqa: E402
from auth.service import SignedIn  # noqa: E402
from bench.scratch import scratch_postgresql, scratch_sqlite  # noqa: E402
from data.accounts import list_accounts  # noqa: E402
from data.db import make_engine, read_conn  # noqa: E402
from data.demo import seed_demo  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402
from reports.forecasts import ForecastRequest, run_forecasts  # noqa: E402

WARM_TARGET_S = 0.300


def main() -> None:
    args = _parse()
    scratch = scratch_postgresql if args.engine == "postgresql" else scratch_sqlite
    with scratch() as url:
        report = {"engine": args.engine} | measure(url, args.appointments, args.repeats)
    print(json.dumps(report, indent=2))


def measure(url: str, appointments: int | None, repeats: int) -> dict[str, Any]:
    from streamlit.testing.v1 import AppTest

    from ui.session import USER_KEY

    engine = make_engine(url)
    upgrade_to_head(engine)
    started = time.perf_counter()
    summary = seed_demo(engine, appointments=appointments)
    seed_seconds = time.perf_counter() - started
    actor = Actor.operator(business_id=summary.business_id, label="bench")
    started = time.perf_counter()
    run_forecasts(engine, actor=actor, requests=[ForecastRequest("business", None)], n_jobs=1)
    fit_seconds = time.perf_counter() - started
    with read_conn(engine) as conn:
        owner = next(a for a in list_accounts(conn, actor=actor) if a["role"] == "owner")
    engine.dispose()

    os.environ["DATABASE_URL"] = url
    at = AppTest.from_file(str(ROOT / "app_pages" / "peak_times.py"), default_timeout=600)
    at.session_state[USER_KEY] = SignedIn(
        owner["id"], actor.business_id, Role.OWNER, owner["email"], "Owner", "local"
    )
    times = []
    for _ in range(1 + repeats):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        if at.exception:
            raise RuntimeError(f"the Peak times page failed: {at.exception[0].value}")
    if at.warning and not at.success:
        verdict = at.warning[0].value
    else:
        verdict = at.success[0].value if at.success else None
    warm = statistics.median(times[1:])
    return {
        "appointments": summary.appointments,
        "seed_seconds": round(seed_seconds, 2),
        "fit_seconds": round(fit_seconds, 2),
        "first_render_seconds": round(times[0], 3),
        "warm_render_seconds": round(warm, 3),
        "warm_render_runs": [round(t, 3) for t in times[1:]],
        "charts": len(at.get("plotly_chart")),
        "verdict": verdict,
        "target_warm_render_seconds": WARM_TARGET_S,
        "ok": warm < WARM_TARGET_S,
        "method": "AppTest of app_pages/peak_times.py as the demo owner, stored run; "
        "warm = median of the later runs",
    }


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--appointments", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    return parser.parse_args()


if __name__ == "__main__":
    main()
