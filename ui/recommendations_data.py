"""Glue behind the Recommendations page: the engine in use, generating a run, the stored
runs, marking one implemented or dismissed, the evidence table, and the action links
that open another page pre-filled (a hand-off through the session)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from sqlalchemy.engine import Engine

from assistant.schema import ActionLink, Recommendation
from auth.roles import Actor
from data.db import read_conn, write_tx
from data.suggestions import list_suggestions, set_suggestion_status
from reports.recommendations import Generation, LlmConfig, generate_recommendations
from ui.session import get_settings, hand_off

LINK_PAGES = {
    "win_back_campaign": ("app_pages/retention.py", "Open Retention with the band picked"),
    "staffing_view": ("app_pages/peak_times.py", "Open the staffing view"),
    "reminder_rules": ("app_pages/message_templates.py", "Open the reminder rules"),
    "targeted_campaign": ("app_pages/notification_panel.py", "Open a campaign in Notifications"),
    "service_review": ("app_pages/admin_team.py", "Open Team & services"),
}


@dataclass
class StoredRun:
    run: str
    engine: str
    model: str | None
    created_at: Any
    note: str | None
    items: list[dict[str, Any]] = field(default_factory=list)  # rows with "rec", "evidence"


def llm_config() -> LlmConfig | None:
    settings = get_settings()
    if settings.openai_api_key is None:
        return None
    return LlmConfig(
        api_key=settings.openai_api_key.get_secret_value(), model=settings.openai_model,
        base_url=settings.openai_base_url, timeout=settings.openai_timeout_seconds,
    )  # fmt: skip


def engine_label() -> str:
    """Which engine a Generate uses now, for the page's status line."""
    settings = get_settings()
    if settings.openai_api_key is None:
        return ("Offline rule engine: no OPENAI_API_KEY is set, so recommendations come from "
                "deterministic rules over the same facts.")  # fmt: skip
    where = urlsplit(settings.openai_base_url).netloc if settings.openai_base_url else "OpenAI"
    return (f"OpenAI ({settings.openai_model}, {where}), with the rule engine as the "
            "fallback when it cannot answer.")  # fmt: skip


def generate(actor: Actor, engine: Engine) -> Generation:
    settings = get_settings()
    return generate_recommendations(
        engine, actor=actor, llm=llm_config(), models_dir=settings.models_dir
    )


def load_runs(actor: Actor, engine: Engine, *, status: str | None = None) -> list[StoredRun]:
    """The stored recommendations grouped by run, newest run first."""
    with read_conn(engine) as conn:
        rows = list_suggestions(conn, actor=actor, status=status, limit=400)
    runs: dict[str, StoredRun] = {}
    for row in rows:
        data = row["suggestion_data"]
        run = runs.setdefault(data.get("run") or f"row{row['id']}", StoredRun(
            data.get("run") or "", row["engine"], row["model"], row["created_at"],
            data.get("note"),
        ))  # fmt: skip
        run.items.append({
            "id": row["id"], "status": row["status"],
            "rec": Recommendation.model_validate(data["recommendation"]),
            "evidence": data.get("evidence") or [],
        })  # fmt: skip
    return list(runs.values())


def set_status(actor: Actor, engine: Engine, *, suggestion_id: int, status: str) -> bool:
    with write_tx(engine) as conn:
        return set_suggestion_status(conn, actor=actor, suggestion_id=suggestion_id, status=status)


def evidence_table(evidence: list[dict[str, Any]], *, currency: str) -> pd.DataFrame:
    """The cited facts as people read them: what, value, change."""
    rows = [{"Fact": fact.get("label") or fact.get("id"),
             "Value": format_value(fact.get("value"), fact.get("unit") or "", currency),
             "Change": format_change(fact.get("change"), fact.get("unit") or ""),
             "Id": fact.get("id")} for fact in evidence]  # fmt: skip
    return pd.DataFrame(rows, columns=["Fact", "Value", "Change", "Id"])


def format_value(value: Any, unit: str, currency: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if unit == "percent":
        return f"{value:.0%}"
    if unit == "money":
        return f"{currency} {value:,.0f}"
    if unit in ("ratio",):
        return f"{value:.2f}"
    return f"{value:,.1f}".removesuffix(".0")


def format_change(change: Any, unit: str) -> str:
    if change is None:
        return ""
    if unit == "percent":
        return f"{change * 100:+.1f} pts"
    return f"{change:+.0%}"


def follow(link: ActionLink) -> None:
    """Open the page the link names, pre-filled with the link's fields."""
    page, _ = LINK_PAGES[link.kind]
    values = {k: v for k, v in link.model_dump().items() if v is not None}
    hand_off(page, values)
