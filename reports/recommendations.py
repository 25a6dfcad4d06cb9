"""Recommendations end to end: facts -> an engine -> checked recommendations -> stored.

`generate_recommendations` builds the business's facts, then:
- with OPENAI_API_KEY set, looks for a stored OpenAI run of the same facts and model (the
  cache: reloading or pressing Generate again on unchanged data costs no API call), else
  asks OpenAI once (the client's own bounded retries only);
- on any OpenAI failure (refused key, rate limit, server error, timeout, refusal, output
  that breaks the schema, nothing valid left) it falls back to the rule engine and says
  why in `note`, which the page shows;
- without a key it uses the rule engine directly (offline: the default).
Rule-engine runs are cached by the facts' hash too, so a reload stores nothing new.

Every recommendation stored has passed `assistant.schema.check_recommendation` against
the facts, and carries its evidence: the cited facts as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from assistant.facts import BusinessFacts
from assistant.rules import SkippedRule, recommend
from assistant.schema import Recommendation, check_recommendation
from auth.roles import Actor, Permission
from data.db import read_conn, write_tx
from data.suggestions import find_cached_run, save_run
from reports.assistant_facts import build_business_facts

RULES_LABEL = "Rule engine (offline)"


@dataclass(frozen=True)
class LlmConfig:
    """The OpenAI settings a run uses (None: the offline rule engine)."""

    api_key: str
    model: str
    base_url: str | None
    timeout: float


@dataclass
class Generation:
    """One "Generate": what was shown and why."""

    engine: str  # "openai" | "rules"
    model: str | None
    facts: BusinessFacts
    recommendations: list[Recommendation]
    run: str | None  # the stored run's id
    cached: bool = False  # taken from a stored run of the same facts
    note: str | None = None  # why the rule engine was used although a key is set
    skipped: list[SkippedRule] = field(default_factory=list)  # rules with nothing to say
    dropped: list[tuple[str, list[str]]] = field(default_factory=list)  # (title, problems)


LlmCall = Callable[..., Any]


def generate_recommendations(
    engine: Engine,
    *,
    actor: Actor,
    llm: LlmConfig | None,
    today: date | None = None,
    models_dir: Path | None = None,
    llm_call: LlmCall | None = None,
) -> Generation:
    """Build facts, pick the engine (module docstring), store the run; needs
    ACT_ON_RECOMMENDATIONS. `llm_call` replaces `generate_with_openai` (tests)."""
    actor.require(Permission.ACT_ON_RECOMMENDATIONS)
    facts = build_business_facts(engine, actor=actor, today=today, models_dir=models_dir)
    note = None
    if llm is not None:
        cached = _cached(engine, actor, facts, "openai", llm.model)
        if cached is not None:
            return cached
        try:
            return _with_openai(engine, actor, facts, llm, llm_call)
        except _Unavailable as exc:
            note = f"OpenAI was not used: {exc}. These come from the rule engine."
    cached = _cached(engine, actor, facts, "rules", None, note=note)
    if cached is not None:
        return cached
    outcome = recommend(facts)
    run = _store(engine, actor, facts, outcome.recommendations, "rules", None, note)
    return Generation("rules", None, facts, outcome.recommendations, run, note=note,
                      skipped=list(outcome.skipped))  # fmt: skip


class _Unavailable(Exception):
    pass


def _with_openai(
    engine: Engine, actor: Actor, facts: BusinessFacts, llm: LlmConfig, call: LlmCall | None
) -> Generation:
    from assistant.openai_engine import LlmUnavailable, generate_with_openai

    try:
        result = (call or generate_with_openai)(
            facts, api_key=llm.api_key, model=llm.model, base_url=llm.base_url,
            timeout=llm.timeout,
        )  # fmt: skip
    except LlmUnavailable as exc:
        raise _Unavailable(exc.reason) from exc
    checked = [rec for rec in result.recommendations if not check_recommendation(rec, facts)]
    if not checked:
        raise _Unavailable("its answer held no recommendation that cites the facts")
    run = _store(engine, actor, facts, checked, "openai", llm.model, None)
    return Generation("openai", llm.model, facts, checked, run, dropped=list(result.dropped))


def _cached(
    engine: Engine,
    actor: Actor,
    facts: BusinessFacts,
    kind: str,
    model: str | None,
    note: str | None = None,
) -> Generation | None:
    with read_conn(engine) as conn:
        rows = find_cached_run(conn, actor=actor, facts_hash=facts.facts_hash(), engine=kind,
                               model=model)  # fmt: skip
    if not rows:
        return None
    recs = [Recommendation.model_validate(row["suggestion_data"]["recommendation"])
            for row in rows]  # fmt: skip
    run = rows[0]["suggestion_data"].get("run")
    skipped = list(recommend(facts).skipped) if kind == "rules" else []
    return Generation(kind, model, facts, recs, run, cached=True, note=note, skipped=skipped)


def _store(
    engine: Engine,
    actor: Actor,
    facts: BusinessFacts,
    recs: list[Recommendation],
    kind: str,
    model: str | None,
    note: str | None,
) -> str:
    known = facts.by_id()
    items = [{
        "category": rec.category,
        "recommendation": rec.model_dump(mode="json"),
        "evidence": [known[i].model_dump(mode="json") for i in rec.cites if i in known],
    } for rec in recs]  # fmt: skip
    with write_tx(engine) as conn:
        return save_run(conn, actor=actor, items=items, engine=kind, model=model,
                        facts_hash=facts.facts_hash(), note=note)  # fmt: skip
