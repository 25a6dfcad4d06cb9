"""Recommendations (owner; analysts read-only): a short list of things to do this week,
each with its evidence, the engine that made it and, where possible, a link that opens
the right page pre-filled. Facts, engines and storage live in assistant/ and reports/;
reads and writes in ui/recommendations_data.py."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from assistant.schema import Recommendation
from auth.roles import Permission
from ui import recommendations_data as rd
from ui.session import after_write, current_business, get_engine, require_permission, show_flash

CATEGORY_LABELS = {"no_shows": "No-shows"}  # the others read well capitalised
CONFIDENCE_ICONS = {"high": "●●●", "medium": "●●○", "low": "●○○"}
LAST_GENERATION = "rec_last_generation"  # session: what the last Generate could not use


def render_generate() -> None:
    if not CAN_ACT:
        st.caption("Owners generate recommendations and mark them done; analysts read them.")
        return
    if not st.button("Generate recommendations", key="rec_generate", type="primary",
                     icon=":material/auto_awesome:"):  # fmt: skip
        return
    with st.spinner("Reading the business's numbers and asking the engine…"):
        generation = rd.generate(ACTOR, ENGINE)
    rules = generation.engine == "rules"  # its skipped rules already name what is missing
    st.session_state[LAST_GENERATION] = {
        "missing": [] if rules else [f"{m.topic}: {m.reason}" for m in generation.facts.missing],
        "skipped": [f"{s.rule}: {s.reason}" for s in generation.skipped],
    }
    source = "the stored run for these numbers" if generation.cached else "a new run"
    engine = _engine_name(generation.engine, generation.model)
    after_write(f"{len(generation.recommendations)} recommendation(s) from {source} ({engine}).")
    st.rerun()


def _engine_name(engine: str, model: str | None) -> str:
    return f"OpenAI · {model}" if engine == "openai" else "Rule engine"


def render_limits() -> None:
    """What the last Generate in this session could not use, and rules with nothing to say."""
    last = st.session_state.get(LAST_GENERATION)
    if not last or not (last["missing"] or last["skipped"]):
        return
    with st.expander("What the advice could not use"):
        for line in [*last["missing"], *last["skipped"]]:
            st.markdown(f"- {line}")


def render_run(run: rd.StoredRun, *, latest: bool) -> None:
    when = run.created_at.astimezone(BUSINESS_TZ).strftime("%d %b %Y %H:%M")
    st.caption(f"{_engine_name(run.engine, run.model)} · generated {when}")
    if run.note:
        st.warning(run.note)
    if not run.items:
        st.info("Nothing to recommend from these numbers.")
    for item in run.items:
        render_item(item, run, latest=latest)


def render_item(item: dict[str, Any], run: rd.StoredRun, *, latest: bool) -> None:
    rec: Recommendation = item["rec"]
    done = {"implemented": " · ✓ implemented", "dismissed": " · dismissed"}.get(item["status"], "")
    with st.container(border=True):
        st.markdown(f"**{rec.title}**")
        st.caption(f"{CATEGORY_LABELS.get(rec.category, rec.category.capitalize())} · confidence "
                   f"{CONFIDENCE_ICONS[rec.confidence]} {rec.confidence} · "
                   f"{_engine_name(run.engine, run.model)}{done}")  # fmt: skip
        left, right = st.columns([3, 2])
        left.markdown(f"{rec.rationale}\n\n**Do this week:** {rec.action}\n\n"
                      f"**Expected impact:** {rec.expected_impact}")  # fmt: skip
        right.markdown("**Evidence**")
        right.dataframe(rd.evidence_table(item["evidence"], currency=CURRENCY),
                        hide_index=True, key=f"rec_ev_{item['id']}")  # fmt: skip
        if latest:
            render_actions(item, rec)


def render_actions(item: dict[str, Any], rec: Recommendation) -> None:
    columns = st.columns(3)
    if rec.action_link is not None:
        _, label = rd.LINK_PAGES[rec.action_link.kind]
        if columns[0].button(label, key=f"rec_link_{item['id']}", disabled=not CAN_FOLLOW):
            rd.follow(rec.action_link)
    if not CAN_ACT:
        return
    choices = (("implemented", "Mark implemented"), ("dismissed", "Dismiss"))
    for column, (status, label) in zip(columns[1:], choices, strict=True):
        if item["status"] == status:
            status, label = "open", "Reopen"
        if column.button(label, key=f"rec_{status}_{item['id']}"):
            rd.set_status(ACTOR, ENGINE, suggestion_id=item["id"], status=status)
            after_write(f"“{rec.title}” marked {status}.")
            st.rerun()


def render_history(runs: list[rd.StoredRun]) -> None:
    if not runs:
        return
    with st.expander(f"Earlier runs ({len(runs)})"):
        for run in runs:
            render_run(run, latest=False)


ACTOR = require_permission(Permission.VIEW_ANALYTICS)
ENGINE, BUSINESS = get_engine(), current_business(ACTOR)
CAN_ACT = ACTOR.can(Permission.ACT_ON_RECOMMENDATIONS)
CAN_FOLLOW = CAN_ACT  # the linked pages (campaigns, rules, staffing) are owners' work
CURRENCY = BUSINESS["currency"]
BUSINESS_TZ = ZoneInfo(BUSINESS["timezone"])
st.title("Recommendations")
show_flash()
st.info(rd.engine_label())
render_generate()
render_limits()
runs = rd.load_runs(ACTOR, ENGINE)
if not runs:
    st.caption("No recommendations yet." + (" Press Generate." if CAN_ACT else ""))
else:
    render_run(runs[0], latest=True)
    render_history(runs[1:])
