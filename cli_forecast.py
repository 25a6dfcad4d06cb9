"""`forecast`: fit, backtest and store peak-time forecasts (for cron or by hand)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from auth.roles import Actor
from cli_common import JsonOption, _business_id, _engine, _fail, app
from data.db import read_conn

ScopeOption = Annotated[
    str, typer.Option("--scope", help="business, staff, service, or all of them.")
]


@app.command("forecast")
def forecast_command(
    business: Annotated[
        str | None, typer.Option("--business", help="Business id or slug (default: the only one).")
    ] = None,
    all_businesses: Annotated[bool, typer.Option("--all", help="Every business.")] = False,
    horizon_days: Annotated[int, typer.Option(min=7, max=42, help="Days ahead.")] = 28,
    scope: ScopeOption = "business",
    force: Annotated[bool, typer.Option("--force", help="Refit even if unchanged.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="Parallel fits.")] = 2,
    as_json: JsonOption = False,
) -> None:
    """Fit, backtest and store forecasts; a series whose data is unchanged reuses its run."""
    from forecasting.models import ForecastSettings
    from reports.forecasts import all_scopes, run_forecasts

    if scope not in ("business", "staff", "service", "all"):
        raise _fail("--scope must be business, staff, service or all")
    engine = _engine()
    settings = ForecastSettings(horizon_days=horizon_days)
    report: list[dict[str, Any]] = []
    for business_id in _business_ids(engine, business, all_businesses):
        actor = Actor.operator(business_id=business_id)
        with read_conn(engine) as conn:
            requests = all_scopes(conn, actor=actor, settings=settings)
        if scope != "all":
            requests = [r for r in requests if r.scope == scope]
        progress = None if as_json else _progress
        outcomes = run_forecasts(
            engine, actor=actor, requests=requests, force=force, n_jobs=jobs, progress=progress
        )
        report += [_summary(business_id, outcome) for outcome in outcomes]
    if as_json:
        typer.echo(json.dumps({"horizon_days": horizon_days, "series": report}, indent=2))
        return
    for row in report:
        ratio = row["mase"].get("prophet")
        typer.echo(
            f"business {row['business_id']} · {row['label']}: {row['winner']} "
            f"({'reused' if row['reused'] else 'fitted'}; Prophet MASE "
            f"{'–' if ratio is None else f'{ratio:.2f}'})"
        )
        for note in row["notes"]:
            typer.echo(f"  note: {note}")


def _business_ids(engine: Any, business: str | None, all_businesses: bool) -> list[int]:
    from data.business import list_businesses

    with read_conn(engine) as conn:
        if all_businesses:
            return [int(b["id"]) for b in list_businesses(conn)]
        return [_business_id(conn, business)]


def _progress(done: int, total: int, label: str) -> None:
    typer.echo(f"[{done}/{total}] {label}", err=True)


def _by_model(metrics: Any, name: str) -> dict[str, float | None]:
    if metrics is None or not len(metrics):
        return {}
    values = metrics.set_index("model")[name]
    return {str(m): None if v != v else round(float(v), 4) for m, v in values.items()}


def _summary(business_id: int, outcome: Any) -> dict[str, Any]:
    result = outcome.result
    return {
        "business_id": business_id, "scope": outcome.request.scope,
        "scope_id": outcome.request.scope_id, "label": outcome.label, "winner": result.winner,
        "reused": outcome.reused, "run_id": outcome.run_id,
        "mae": _by_model(result.metrics, "mae"), "mase": _by_model(result.metrics, "mase"),
        "coverage": _by_model(result.metrics, "coverage"), "notes": list(result.notes),
    }  # fmt: skip
