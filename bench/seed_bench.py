"""Seeding speed: the demo generator written into a fresh database, per engine and size.

For each engine and size: a fresh database (SQLite: a temporary file; PostgreSQL: a new
database on the server named by SLOTBOARD_BENCH_PG_URL or SLOTBOARD_TEST_PG_URL, dropped
afterwards), migrated to head, then `seed_demo(appointments=size)`. Prints one JSON
object per run: seconds for the whole seed, split into building the data (pure) and
inserting it, appointments per second, and the database's size on disk.
Usage: .venv/bin/python bench/seed_bench.py [--sizes 100000 1000000]
                                           [--engines sqlite postgresql] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch import scratch_postgresql, scratch_sqlite  # noqa: E402
from data.db import make_engine  # noqa: E402
from data.demo import seed_demo  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402

TODAY = date(2026, 6, 1)  # fixed, so every run seeds identical data


def _db_bytes(engine: sa.Engine) -> int:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("select pg_database_size(current_database())").scalar())
    path = Path(str(engine.url.database))
    return sum(
        p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


def bench_one(engine_name: str, size: int, seed: int) -> dict[str, object]:
    database = scratch_postgresql if engine_name == "postgresql" else scratch_sqlite
    with database() as url:
        engine = make_engine(url)
        try:
            upgrade_to_head(engine)
            marks: dict[str, float] = {}

            def progress(stage: str, _fraction: float) -> None:
                marks.setdefault(stage, time.perf_counter())

            started = time.perf_counter()
            summary = seed_demo(
                engine, appointments=size, seed=seed, today=TODAY, progress=progress
            )
            seconds = time.perf_counter() - started
            return {
                "bench": "seed",
                "engine": engine_name,
                "appointments": summary.appointments,
                "staff": summary.staff,
                "customers": summary.customers,
                "seconds": round(seconds, 2),
                "build_seconds": round(marks["generated"] - marks["generating"], 2),
                "insert_seconds": round(marks["done"] - marks["generated"], 2),
                "appointments_per_second": round(summary.appointments / seconds),
                "db_bytes": _db_bytes(engine),
            }
        finally:
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--engines", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for engine_name in args.engines:
        for size in args.sizes:
            print(json.dumps(bench_one(engine_name, size, args.seed)), flush=True)


if __name__ == "__main__":
    main()
