"""CSV import speed and memory: a generated 100,000-row appointments export, per engine.

The file has the shape of examples/import/us_appointments.csv (12-hour times, a Yes/No
no-show column, dollar prices): 8 providers, 12 services, 10,000 clients (each created by
the import), no overlaps. For each engine: a fresh database (SQLite: a temporary file;
PostgreSQL: a scratch database on the server named by SLOTBOARD_BENCH_PG_URL or
SLOTBOARD_TEST_PG_URL, dropped afterwards), migrated, one US business, then
`import_appointments`. Target: under 60 s per 100,000 rows, memory flat.

Prints one JSON object per engine: seconds, rows per second, peak RSS (ru_maxrss) before
and after the import, and the Python heap's peak during the import (tracemalloc, measured
in a second, untimed run: tracing slows Python down). The heap peak is what shows that
the importer streams: it is set by the batch, not by the file. RSS on SQLite also holds
SQLite's page cache, which data/db.py lets grow to 64 MiB per connection.
Each run is its own process, so one run's peak can't hide another's.
Usage: .venv/bin/python bench/import_bench.py [--rows 100000] [--engines sqlite postgresql]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auth.roles import Actor  # noqa: E402
from bench.scratch import scratch_postgresql, scratch_sqlite  # noqa: E402
from data.business import create_business  # noqa: E402
from data.db import make_engine, write_tx  # noqa: E402
from data.importer import import_appointments  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402
from scheduling.business import BusinessSettings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "examples" / "import" / "us_appointments.toml"
HEADER = ["Appointment ID", "Date", "Time", "Duration (min)", "Provider", "Service", "Client ID",
          "Client", "Mobile", "Email", "No-Show", "Booked On", "Price", "Notes"]  # fmt: skip
PROVIDERS = ["Maria Lopez", "Devon Lane", "Priya Shah", "Sam Park", "Ana Ruiz", "Lee Chen",
             "Noor Aziz", "Tom Berg"]  # fmt: skip
SERVICES = [("Women's Cut", 45, 65), ("Men's Cut", 30, 35), ("Blowout", 45, 55),
            ("Color & Gloss", 60, 145), ("Highlights", 60, 160), ("Kids' Cut", 30, 25),
            ("Beard Trim", 30, 20), ("Perm", 60, 120), ("Keratin", 60, 220),
            ("Updo", 45, 85), ("Toner", 30, 45), ("Consultation", 30, 0)]  # fmt: skip
FIRST = ["Jane", "Robert", "Wade", "Esther", "Cameron", "Leslie", "Guy", "Jenny", "Devon",
         "Kristin", "Cody", "Arlene", "Bessie", "Dianne", "Floyd", "Ralph"]  # fmt: skip
LAST = ["Cooper", "Fox", "Warren", "Howard", "Williamson", "Alexander", "Hawkins", "Wilson",
        "Lane", "Watson", "Fisher", "McCoy", "Cooper", "Russell", "Miles", "Edwards"]  # fmt: skip
SLOTS_PER_DAY = 8  # per provider, one an hour from 9 AM
START_DAY = date(2021, 1, 4)
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def write_appointments_csv(
    path: Path, rows: int, *, customers: int = 10_000, seed: int = 7
) -> None:
    """A realistic export of `rows` non-overlapping appointments (deterministic)."""
    rng = random.Random(seed)
    clients = [
        (f"C-{i}", f"{rng.choice(FIRST)} {rng.choice(LAST)}",
         f"({rng.choice([212, 646, 917, 718])}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}")
        for i in range(customers)
    ]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for n in range(rows):
            day = START_DAY + timedelta(days=n // (SLOTS_PER_DAY * len(PROVIDERS)))
            provider = PROVIDERS[n % len(PROVIDERS)]
            hour = 9 + (n // len(PROVIDERS)) % SLOTS_PER_DAY
            service, minutes, price = rng.choice(SERVICES)
            client_id, name, phone = clients[rng.randrange(customers)]
            start = datetime(day.year, day.month, day.day, hour)
            booked = start - timedelta(hours=rng.randint(1, 24 * 30))
            out.writerow([
                f"A-{n}", f"{day:%m/%d/%Y}", start.strftime("%I:%M %p").lstrip("0"), minutes,
                provider, service, client_id, name, phone, f"{client_id.lower()}@example.com",
                "Yes" if rng.random() < 0.06 else "No", booked.strftime("%m/%d/%Y %I:%M %p"),
                f"${price:,.2f}", "=cmd|' /C calc'!A0" if n % 5000 == 0 else "",
            ])  # fmt: skip


def _peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def bench_one(engine_name: str, rows: int, *, trace: bool = False) -> dict[str, object]:
    database = scratch_postgresql if engine_name == "postgresql" else scratch_sqlite
    with tempfile.TemporaryDirectory() as folder, database() as url:
        path = Path(folder) / "appointments.csv"
        write_appointments_csv(path, rows)
        engine = make_engine(url)
        try:
            upgrade_to_head(engine)
            settings = BusinessSettings(
                name="Bench Salon", timezone="America/New_York", country="US", currency="USD"
            )
            with write_tx(engine) as conn:
                business_id = create_business(conn, settings=settings, slug="bench-salon")
            rss_before = _peak_rss_mib()
            if trace:
                tracemalloc.start()
            started = time.perf_counter()
            report = import_appointments(
                engine, actor=Actor.operator(business_id=business_id), source=path,
                mapping=MAPPING, now=NOW,
            )  # fmt: skip
            seconds = time.perf_counter() - started
            if trace:
                return {
                    "python_heap_peak_mib": round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
                }
            return {
                "bench": "import_appointments",
                "engine": engine_name,
                "rows": report.rows_read,
                "file_mib": round(path.stat().st_size / 2**20, 1),
                "created": report.created,
                "rejected_rows": report.rejected_rows,
                "seconds": round(seconds, 2),
                "rows_per_second": round(report.rows_read / seconds),
                "peak_rss_mib_before": rss_before,
                "peak_rss_mib_after": _peak_rss_mib(),
                "target_seconds": 60,
            }
        finally:
            engine.dispose()


def _child(engine_name: str, rows: int, *, trace: bool) -> dict[str, object]:
    command = [sys.executable, __file__, "--one", "--rows", str(rows), "--engines", engine_name]
    if trace:
        command.append("--trace")
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--engines", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(bench_one(args.engines[0], args.rows, trace=args.trace)), flush=True)
        return
    for engine_name in args.engines:
        figures = _child(engine_name, args.rows, trace=False)
        figures |= _child(engine_name, args.rows, trace=True)
        print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
