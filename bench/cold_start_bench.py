"""Cold start: `streamlit run app.py` to the first rendered page in headless Chromium.

Prints one JSON object: the seconds from process start to the server answering its health
check, and to the sign-in page being rendered, over several runs (median and max).
Usage: .venv/bin/python bench/cold_start_bench.py [--runs 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.streamlit_server import chromium_page, run_streamlit  # noqa: E402
from data.db import make_engine  # noqa: E402
from data.demo import seed_demo  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402


def _demo_database(folder: Path) -> str:
    url = f"sqlite:///{folder / 'cold.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    seed_demo(engine)
    engine.dispose()
    return url


def _one_run(url: str) -> tuple[float, float]:
    started = time.perf_counter()
    with run_streamlit(url) as base:
        healthy = time.perf_counter() - started
        with chromium_page() as page:
            page.goto(base)
            page.get_by_text("Sign in to Slotboard").wait_for(timeout=60_000)
            rendered = time.perf_counter() - started
    return healthy, rendered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", help="default: a fresh demo SQLite database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or _demo_database(Path(folder))
        runs = [_one_run(url) for _ in range(args.runs)]
    healthy = [h for h, _ in runs]
    rendered = [r for _, r in runs]
    print(json.dumps({
        "bench": "cold_start",
        "runs": args.runs,
        "server_ready_s_median": round(statistics.median(healthy), 3),
        "first_page_s_median": round(statistics.median(rendered), 3),
        "first_page_s_max": round(max(rendered), 3),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
