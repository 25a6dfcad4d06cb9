"""`churn` and `noshow`: train and evaluate retention models, and score as of a date.

Every --as-of is a local calendar day of the business (its midnight is the cutoff), so
a history imported from a system that closed years ago is scored as of its own dates.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from auth.roles import Actor
from cli_common import BusinessOption, JsonOption, _business_id, _engine, _fail, _settings, app
from data.db import read_conn

churn_app = typer.Typer(help="Churn risk: train, evaluate and score.", no_args_is_help=True)
noshow_app = typer.Typer(help="No-show risk: train, evaluate and score.", no_args_is_help=True)
app.add_typer(churn_app, name="churn")
app.add_typer(noshow_app, name="noshow")

AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Local day YYYY-MM-DD (the cutoff is its midnight).")
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="CSV file to write (default: stdout).")
]


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"--as-of must be a date like 2026-03-31, not {value!r}") from None


def _actor(engine: Any, business: str | None) -> Actor:
    with read_conn(engine) as conn:
        return Actor.operator(business_id=_business_id(conn, business))


@churn_app.command("train")
def churn_train_command(
    as_of: AsOfOption = None,
    horizon_days: Annotated[
        int | None,
        typer.Option(min=14, max=365, help="Churned: no completed visit within N days."),
    ] = None,
    as_json: JsonOption = False,
    business: BusinessOption = None,
) -> None:
    """Evaluate at a cutoff whose horizon has passed (default: the latest), against
    recency-only and probability-alive baselines; then train for use and store it."""
    from analytics.churn_model import ChurnSettings
    from analytics.risk_model import NotEnoughData
    from reports.churn import train_churn

    settings = _settings()
    engine = _engine()
    churn = ChurnSettings(horizon_days=horizon_days or settings.churn_horizon_days)
    actor = _actor(engine, business)
    try:
        stored = train_churn(
            engine, actor=actor, models_dir=settings.models_dir, settings=churn,
            as_of=_as_of(as_of),
        )  # fmt: skip
    except (NotEnoughData, ValueError) as exc:
        raise _fail(str(exc)) from None
    _echo_training(stored, as_json)


@churn_app.command("score")
def churn_score_command(
    as_of: AsOfOption = None,
    output: OutputOption = None,
    horizon_days: Annotated[int | None, typer.Option(min=14, max=365)] = None,
    business: BusinessOption = None,
) -> None:
    """One row per customer: external id, score, band and top drivers, using only data
    from before the cutoff. The scores are also stored for the Retention page."""
    from analytics.churn_model import ChurnSettings
    from reports.churn import build_churn_table, score_churn

    settings = _settings()
    engine = _engine()
    churn = ChurnSettings(horizon_days=horizon_days or settings.churn_horizon_days)
    actor = _actor(engine, business)
    scoring = score_churn(
        engine, actor=actor, models_dir=settings.models_dir, settings=churn, as_of=_as_of(as_of)
    )
    table = build_churn_table(engine, actor=actor, scores=scoring.scores)
    typer.echo(
        f"{scoring.method}: {scoring.model_version}, as of {scoring.as_of:%Y-%m-%d %H:%M} UTC",
        err=True,
    )
    if scoring.note:
        typer.echo(f"note: {scoring.note}", err=True)
    _write_csv(table, output)


@noshow_app.command("train")
def noshow_train_command(
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
    business: BusinessOption = None,
) -> None:
    """Train on appointments before the cutoff (default: 56 days ago) and evaluate on
    those from it on, against each customer's own no-show rate; then train for use."""
    from analytics.risk_model import NotEnoughData
    from reports.noshow import train_noshow

    settings = _settings()
    engine = _engine()
    actor = _actor(engine, business)
    try:
        stored = train_noshow(
            engine, actor=actor, models_dir=settings.models_dir, as_of=_as_of(as_of)
        )
    except (NotEnoughData, ValueError) as exc:
        raise _fail(str(exc)) from None
    _echo_training(stored, as_json)


@noshow_app.command("score")
def noshow_score_command(
    as_of: AsOfOption = None,
    output: OutputOption = None,
    days: Annotated[
        int, typer.Option(min=1, max=365, help="Appointments starting within N days.")
    ] = 28,
    business: BusinessOption = None,
) -> None:
    """No-show risk of the appointments booked by the cutoff that start in the N days
    after it, from what was known at the cutoff."""
    from reports.noshow import score_noshow_as_of

    settings = _settings()
    engine = _engine()
    actor = _actor(engine, business)
    scoring = score_noshow_as_of(
        engine, actor=actor, models_dir=settings.models_dir, as_of=_as_of(as_of), days=days
    )
    typer.echo(f"{scoring.method}, as of {scoring.as_of:%Y-%m-%d %H:%M} UTC", err=True)
    if scoring.note:
        typer.echo(f"note: {scoring.note}", err=True)
    _write_csv(scoring.scores, output)


def _echo_training(stored: Any, as_json: bool) -> None:
    report = stored.evaluation or {}
    if as_json:
        out = {
            "kind": stored.kind, "business_id": stored.business_id,
            "model_version": stored.version, "trained_through": stored.end.isoformat(),
            **report,
        }  # fmt: skip
        typer.echo(json.dumps(out, indent=2, default=str))
        return
    typer.echo(f"{stored.kind} model {stored.version}: evaluated at {report.get('cutoff')}")
    for name, metrics in report.get("metrics", {}).items():
        typer.echo(
            f"  {name:<10} ROC AUC {_num(metrics['roc_auc'])}  PR AUC {_num(metrics['pr_auc'])}"
            f"  Brier {_num(metrics['brier'])}"
            f"  ({metrics['rows']} rows, {metrics['positives']} positive)"
        )
    verdict = report.get("verdict") or {}
    if verdict:
        typer.echo(f"  {verdict['text']}")


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _write_csv(table: Any, output: Path | None) -> None:
    from analytics.export_format import write_csv

    if output is None:
        write_csv([table], sys.stdout.buffer)
        return
    with open(output, "wb") as stream:
        write_csv([table], stream)
    typer.echo(f"wrote {len(table)} rows to {output}", err=True)
