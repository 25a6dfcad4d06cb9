"""The Overview at scale: SQL aggregates against pulling the rows into pandas.

The demo salon with --appointments (default 1,000,000; about 150,000 customers at that
size: the generator adds customers in proportion and has no separate knob) is seeded
once per engine into a kept database, reused by later runs while it holds the same
seed: SQLite `var/bench/overview_<N>_s<seed>.db`; PostgreSQL database
`slotboard_bench_overview_<N>_s<seed>` on the server named by SLOTBOARD_BENCH_PG_URL or
SLOTBOARD_TEST_PG_URL (kept; --fresh drops and reseeds). A new seed ends on --today
(default: today in Europe/Berlin); a reused one keeps its own today unless --today
differs, which reseeds. Periods: the last 30 and 365 local days up to that today.

Every measure runs in its own fresh process, so its peak RSS is its own (VmHWM: a
child's ru_maxrss would start at the parent's peak, which seeding makes large):
- ours_<days>d: `reports.overview.build_overview` (SQL aggregates + pure pandas), cold
  (no app cache; modules imported and the connection opened first), then once more;
- naive_<days>d: every appointment of the business through `pd.read_sql`, then the
  same frames computed in pandas and fed to the same pure builders (so the numbers
  must agree: `same_numbers_<days>d` compares the KPIs and each frame's sums); the
  rota (capacity) is loaded as ours loads it; bench/overview_naive.py has the code;
- warm_render: app_pages/overview.py run twice in one AppTest as the demo owner, its
  date filter set to the 30-day period; the second run hits st.cache_data.
Targets (issue 4): cold under 1.5 s on PostgreSQL and 3 s on SQLite, warm render under
200 ms, peak RSS under 1 GiB, naive / ours at least 5.
Usage: .venv/bin/python bench/overview_bench.py [--appointments 1000000]
           [--engines sqlite postgresql] [--seed 7] [--today YYYY-MM-DD] [--fresh]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.report import ReportFilter  # noqa: E402
from auth.roles import Actor  # noqa: E402
from bench import overview_naive as naive  # noqa: E402
from bench.scratch import PG_URL_ENVS  # noqa: E402
from data.audit import load_audit_log  # noqa: E402
from data.business import load_business_by_slug  # noqa: E402
from data.db import check_connection, make_engine, read_conn  # noqa: E402
from data.demo import DEMO_SLUG  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402

TZ = "Europe/Berlin"
URL_ENV = "SLOTBOARD_OVERVIEW_BENCH_URL"  # how the parent hands a child its database
PERIODS = (30, 365)
COLD_TARGET_S = {"postgresql": 1.5, "sqlite": 3.0}
WARM_TARGET_S, RSS_TARGET_MIB, RATIO_TARGET = 0.2, 1024, 5.0


# --- kept, seeded databases ----------------------------------------------------------


def _admin_url() -> str:
    url = next((os.environ[n] for n in PG_URL_ENVS if os.environ.get(n)), None)
    if url is None:
        raise SystemExit(f"set {' or '.join(PG_URL_ENVS)} to bench PostgreSQL")
    return url


def kept_database(engine_name: str, size: int, seed: int, *, fresh: bool) -> str:
    """The URL of this size and seed's kept database, created empty if missing."""
    name = f"overview_{size}_s{seed}"
    if engine_name == "sqlite":
        path = ROOT / "var" / "bench" / f"{name}.db"
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if fresh else ():
            stale.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = sa.create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    database = f"slotboard_bench_{name}"
    with admin.connect() as conn:
        if fresh:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        exists = conn.execute(
            sa.text("select 1 from pg_database where datname = :name"), {"name": database}
        ).first()
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    admin.dispose()
    return sa.make_url(_admin_url()).set(database=database).render_as_string(hide_password=False)


def seeded_with(engine: sa.Engine) -> dict[str, Any] | None:
    """The demo seed's recorded counts, seed and today (or None: not seeded)."""
    with read_conn(engine) as conn:
        business = load_business_by_slug(conn, slug=DEMO_SLUG)
        if business is None:
            return None
        actor = Actor.operator(business_id=business["id"], label="bench")
        [entry] = load_audit_log(conn, actor=actor, entity="businesses", action="seed", limit=1)
    return {key: new for key, (_old, new) in entry["diff"].items()} | {
        "business_id": business["id"]
    }


def ensure_seeded(engine_name: str, args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """A database holding exactly this seed; seeds (or reseeds) only when it must."""
    url = kept_database(engine_name, args.appointments, args.seed, fresh=args.fresh)
    engine = make_engine(url)
    try:
        upgrade_to_head(engine)
        seed = seeded_with(engine)
        wanted = args.today.isoformat() if args.today else (seed or {}).get("today")
        if seed and seed["appointments"] == args.appointments and seed["today"] == wanted:
            return url, seed | {"seeded_seconds": None}
    finally:
        engine.dispose()
    if seed:  # another today: start over
        url = kept_database(engine_name, args.appointments, args.seed, fresh=True)
    return url, _seed(url, args)


def _seed(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from data.demo import seed_demo  # the generator stays out of the measured children

    engine = make_engine(url)
    try:
        upgrade_to_head(engine)
        today = args.today or datetime.now(ZoneInfo(TZ)).date()
        started = time.perf_counter()
        seed_demo(engine, appointments=args.appointments, seed=args.seed, today=today)
        seconds = round(time.perf_counter() - started, 1)
        if engine.dialect.name == "postgresql":  # as autovacuum would, soon after
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        seed = seeded_with(engine)
        assert seed is not None
        return seed | {"seeded_seconds": seconds}
    finally:
        engine.dispose()


# --- the measures, each run in a child process ---------------------------------------


def _filters(today: date, days: int) -> ReportFilter:
    return ReportFilter(today - timedelta(days=days - 1), today)


def _peak_rss_mib() -> float:
    """This process's peak RSS. Linux's VmHWM, because ru_maxrss survives exec: a child
    of a big parent would report the parent's peak. ru_maxrss where /proc is missing."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure_ours(engine: sa.Engine, actor: Actor, filters: ReportFilter) -> dict[str, Any]:
    from reports.overview import build_overview

    check_connection(engine)  # the app's engine is open before any page runs
    times = []
    for _ in range(2):
        started = time.perf_counter()
        with read_conn(engine) as conn:
            overview = build_overview(conn, actor=actor, filters=filters, rebook_days=30)
        times.append(time.perf_counter() - started)
    return {"seconds": round(times[0], 3), "repeat_seconds": round(times[1], 3),
            "digest": naive.digest(overview)}  # fmt: skip


def measure_warm_render(url: str, actor: Actor, filters: ReportFilter) -> dict[str, Any]:
    from streamlit.testing.v1 import AppTest

    from auth.roles import Role
    from auth.service import SignedIn
    from data.accounts import list_accounts
    from ui.session import USER_KEY

    os.environ["DATABASE_URL"] = url
    with read_conn(make_engine(url)) as conn:
        owner = next(a for a in list_accounts(conn, actor=actor) if a["role"] == "owner")
    user = SignedIn(owner["id"], actor.business_id, Role.OWNER, owner["email"], "Owner", "local")
    at = AppTest.from_file(str(ROOT / "app_pages" / "overview.py"), default_timeout=600)
    at.session_state[USER_KEY] = user
    at.session_state["ov_dates"] = (filters.start, filters.end)  # the page's date filter
    times = []
    for _ in range(2):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        if at.exception:
            raise RuntimeError(f"the Overview page failed: {at.exception[0].value}")
    method = "AppTest of app_pages/overview.py: the second run"
    return {"first_render_seconds": round(times[0], 3), "seconds": round(times[1], 3),
            "kpi_cards": len(at.metric), "method": method}  # fmt: skip


def child(kind: str, days: int) -> dict[str, Any]:
    url = os.environ[URL_ENV]
    engine = make_engine(url)
    seed = seeded_with(engine)
    assert seed is not None
    actor = Actor.operator(business_id=seed["business_id"], label="bench")
    filters = _filters(date.fromisoformat(seed["today"]), days)
    if kind == "ours":
        figures = measure_ours(engine, actor, filters)
    elif kind == "naive":
        figures = measure_naive(engine, actor, filters)
    else:
        figures = measure_warm_render(url, actor, filters)
    engine.dispose()
    return figures | {"peak_rss_mib": _peak_rss_mib()}


# --- the naive alternative (bench/overview_naive.py) -----------------------------


def measure_naive(engine: sa.Engine, actor: Actor, filters: ReportFilter) -> dict[str, Any]:
    check_connection(engine)
    started = time.perf_counter()
    with read_conn(engine) as conn:
        inputs = naive.load_inputs(conn, actor, filters)
    loaded = time.perf_counter() - started
    frames = naive.build_naive_overview(inputs, filters)
    return {"seconds": round(time.perf_counter() - started, 3), "load_seconds": round(loaded, 3),
            "rows": len(inputs.rows), "digest": naive.digest(frames)}  # fmt: skip


# --- the parent: seed, run the children, print one document ---------------------------


def _run_child(url: str, kind: str, days: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", kind, "--days", str(days)]
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, URL_ENV: url}, check=False
    )
    if done.returncode:
        raise SystemExit(f"the {kind} {days}d run failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _agree(ours: dict[str, Any], naive: dict[str, Any]) -> list[str]:
    """The digest entries (KPIs, frame sums) on which the two paths differ."""
    a, b = ours.pop("digest"), naive.pop("digest")

    def same(x: float | None, y: float | None) -> bool:
        return x == y or (x is not None and y is not None and math.isclose(x, y, rel_tol=1e-6))

    return [key for key in a if not same(a[key], b.get(key))]


def bench_engine(engine_name: str, args: argparse.Namespace) -> dict[str, Any]:
    url, seed = ensure_seeded(engine_name, args)
    result: dict[str, Any] = {"seeded_seconds": seed["seeded_seconds"], "today": seed["today"],
                              "customers": seed["customers"], "staff": seed["staff"]}  # fmt: skip
    for days in PERIODS:
        ours, naive = _run_child(url, "ours", days), _run_child(url, "naive", days)
        differ = _agree(ours, naive)
        result[f"ours_{days}d"] = ours | {"ok": ours["seconds"] < COLD_TARGET_S[engine_name]}
        result[f"naive_{days}d"] = naive
        result[f"ratio_naive_over_ours_{days}d"] = round(naive["seconds"] / ours["seconds"], 1)
        result[f"same_numbers_{days}d"] = not differ
        if differ:
            result[f"numbers_differ_{days}d"] = differ
    warm = _run_child(url, "warm", PERIODS[0])
    result["warm_render"] = warm | {"ok": warm["seconds"] < WARM_TARGET_S}
    peaks = [v["peak_rss_mib"] for k, v in result.items() if k.startswith(("ours", "warm"))]
    result["ours_peak_rss_ok"] = max(peaks) < RSS_TARGET_MIB
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument(
        "--engines", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--today", type=date.fromisoformat)
    parser.add_argument("--fresh", action="store_true", help="drop the kept databases first")
    parser.add_argument("--child", choices=["ours", "naive", "warm"], help=argparse.SUPPRESS)
    parser.add_argument("--days", type=int, default=30, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.days), default=str), flush=True)
        return
    engines = {name: bench_engine(name, args) for name in args.engines}
    document = {
        "bench": "overview", "appointments": args.appointments, "seed": args.seed,
        "periods_days": list(PERIODS), "rebook_days": 30,
        "targets": {"cold_seconds": COLD_TARGET_S, "warm_render_seconds": WARM_TARGET_S,
                    "peak_rss_mib": RSS_TARGET_MIB, "ratio_naive_over_ours": RATIO_TARGET},
        "engines": engines,
    }  # fmt: skip
    print(json.dumps(document, indent=2, default=str), flush=True)


if __name__ == "__main__":
    main()
