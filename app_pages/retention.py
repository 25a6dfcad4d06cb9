"""Retention (owner, analyst): who is likely to leave, how far the scores can be trusted,
the upcoming appointments at risk of a no-show, and win-back campaign drafts. Modelling
lives in analytics/, orchestration in reports/, caching and display text in ui/."""

from __future__ import annotations

import streamlit as st

from analytics import retention_display as show
from analytics.churn_model import MODEL_NAMES as CHURN_NAMES
from analytics.churn_scoring import BAND_LABELS
from analytics.noshow_model import MODEL_NAMES as NOSHOW_NAMES
from auth.roles import Permission, PermissionDenied
from data.campaigns import MAX_NAME_LENGTH
from data.schema import CHANNELS
from reports.model_files import StoredModel
from reports.retention_view import BAND_ORDER, RetentionView
from scheduling.catalog import format_money
from scheduling.timezones import local_today
from ui import retention_data as rd
from ui.analytics_data import load_filter_options, read_analytics_version
from ui.session import (
    after_write,
    current_business,
    get_engine,
    require_permission,
    show_flash,
    take_handoff,
)

MAX_ROWS = 500
LEVELS = {"act": st.success, "care": st.warning, "baseline": st.error}
CHANNEL_LABELS = {"sms": "SMS", "email": "E-mail"}
SCORES = {"Risk": st.column_config.ProgressColumn("Risk", min_value=0.0, max_value=1.0,
                                                  format="percent")}  # fmt: skip


def render_model(stored: StoredModel, names: dict[str, str], kind: str) -> None:
    """Verdict, metrics against the baselines, what it was evaluated on, calibration."""
    evaluation = stored.evaluation or {}
    verdict = evaluation.get("verdict") or {}
    LEVELS.get(verdict.get("level", "care"), st.warning)(verdict.get("text", "Not evaluated."))
    if not evaluation.get("metrics"):
        return
    st.dataframe(show.build_quality_table(evaluation, names).round(3), hide_index=True)
    st.caption(show.describe_evaluation(evaluation, kind=kind, trained_at=stored.trained_at, tz=TZ))
    with st.expander("Calibration" if kind == "churn" else "No-show calibration"):
        rows = evaluation.get("calibration", {}).get("model", [])
        st.dataframe(rows, hide_index=True)
        st.plotly_chart(show.make_calibration_figure(rows), key=f"ret_calibration_{kind}")


def render_trust(view: RetentionView, notes: list[str]) -> None:
    st.subheader("Can these scores be trusted?")
    if (reason := rd.heuristic_reason(view, notes)) is not None:
        st.warning(f"Heuristic scores (not a trained model): {reason}")
    elif view.churn_model is None:
        st.info(f"No churn model yet: {view.churn_model_note or 'nothing scored yet'}.")
    else:
        render_model(view.churn_model, CHURN_NAMES, "churn")
    st.markdown("**No-show risk**")
    if view.noshow_model is None:
        st.info("No no-show model yet: risks below use each customer's own no-show rate.")
    else:
        render_model(view.noshow_model, NOSHOW_NAMES, "noshow")
    for note in notes:
        st.caption(note)


def render_bands(view: RetentionView) -> None:
    st.subheader("Risk bands")
    if view.scores.empty:
        st.info("Nothing scored yet: customers are scored once they have a completed visit.")
    for column, row in zip(st.columns(len(view.bands)), view.bands.to_dict("records"), strict=True):
        column.metric(row["label"], f"{row['customers']:,}", border=True, help="Customers")
        stake = format_money(round(row["value_at_stake"] * 100), CURRENCY)
        column.caption(f"{stake} spent in the last 12 months")


def render_customers(view: RetentionView) -> tuple[str, list[int]]:
    """The band filter and the customer table; returns (band, selected customer ids)."""
    st.subheader("Customers")
    if not INCLUDE_NAMES:
        st.caption("Customers appear by their external id or #number: names are for owners.")
    picked = take_handoff("app_pages/retention.py").get("band")
    if picked in BAND_ORDER:  # from a Recommendations action link
        st.session_state["ret_band"] = picked
        st.info(f"From Recommendations: the {BAND_LABELS[picked]} band is picked. Create "
                "the win-back campaign below.")  # fmt: skip
    band = st.segmented_control(
        "Band", list(BAND_ORDER), format_func=BAND_LABELS.__getitem__, required=True,
        default=None if "ret_band" in st.session_state else "high", key="ret_band",
    ) or "high"  # fmt: skip
    if (in_band := view.scores[view.scores["band"] == band]).empty:
        st.info(f"No customers in the {BAND_LABELS[band]} band.")
        return band, []
    table = show.build_customer_table(in_band, include_names=INCLUDE_NAMES, tz=TZ)
    config = SCORES | {
        "Usual gap": st.column_config.NumberColumn("Usual gap (days)", format="%.0f"),
        "Spend last 12 months": st.column_config.NumberColumn(format=show.money_format(CURRENCY)),
    }
    event = st.dataframe(
        table.head(MAX_ROWS), hide_index=True, column_config=config, on_select="rerun",
        selection_mode="multi-row", key=f"ret_table_{band}",
    )  # fmt: skip
    if len(table) > MAX_ROWS:
        st.caption(f"Showing the {MAX_ROWS} riskiest of {len(table):,} customers in this band.")
    rows = event.selection.rows if event is not None else []
    return band, [int(table.index[i]) for i in rows]


def render_upcoming(version: tuple) -> None:
    st.subheader("Upcoming appointments at risk of a no-show")
    scoring, details = rd.load_noshow_risks(ACTOR, ENGINE, version=version,
                                            include_names=INCLUDE_NAMES)  # fmt: skip
    if scoring.scores.empty:
        st.info("No booked or confirmed appointments in the next 14 days.")
        return
    options = load_filter_options(ACTOR, ENGINE, version=version)
    labels = show.customer_labels(details, include_names=INCLUDE_NAMES)
    table = show.build_upcoming_table(
        scoring.scores, labels, staff=options.staff, services=options.services, tz=TZ
    )
    st.dataframe(table, hide_index=True, column_config=SCORES)
    method = "No-show model." if scoring.method == "model" else scoring.note
    st.caption(f"Next 14 days, riskiest first. Method: {method}")


def render_campaign(view: RetentionView, band: str, selected: list[int]) -> None:
    st.subheader("Create win-back campaign")
    in_band = view.scores.loc[view.scores["band"] == band, "customer_id"].tolist()
    ids = selected or in_band
    who = f"the {len(selected)} selected customers" if selected else (
        f"all {len(in_band):,} customers in the {BAND_LABELS[band]} band")  # fmt: skip
    st.caption(f"Audience: {who}. Send the draft from Notifications → A customer segment.")
    default = show.default_campaign_name(band, selected=len(selected), today=local_today(TZ))
    name = st.text_input(
        "Campaign name", default,
        max_chars=MAX_NAME_LENGTH, key=f"ret_name_{band}_{len(selected)}",
    )  # fmt: skip
    channel = st.radio("Channel", CHANNELS, format_func=CHANNEL_LABELS.get, horizontal=True,
                       key="ret_channel")  # fmt: skip
    may_create = ACTOR.can(Permission.MANAGE_BOOKINGS)
    if not may_create:
        st.caption("Owners and staff create campaigns.")
    clicked = st.button("Create win-back campaign", key="ret_create", type="primary",
                        disabled=not may_create or not ids)  # fmt: skip
    if not clicked:
        return
    if not name.strip():
        st.error("Give the campaign a name.")
        return
    try:
        rd.save_campaign_draft(ACTOR, ENGINE, view=view, band=None if selected else band,
                               ids=ids, name=name, channel=channel)  # fmt: skip
    except (ValueError, PermissionDenied) as exc:
        st.error(f"The campaign was not created: {exc}")
        return
    after_write(f"Campaign draft “{name.strip()}” created for {len(ids):,} customers.")
    st.rerun()


def render_drafts() -> None:
    st.markdown("**Campaign drafts**")
    if (table := rd.load_campaign_table(ACTOR, ENGINE, tz=TZ)).empty:
        st.caption("No campaigns yet.")
    else:
        st.dataframe(table, hide_index=True)


ACTOR = require_permission(Permission.VIEW_ANALYTICS)
ENGINE, business = get_engine(), current_business(ACTOR)
TZ, CURRENCY = business["timezone"], business["currency"]
INCLUDE_NAMES = ACTOR.can(Permission.MANAGE_BOOKINGS)
version = read_analytics_version(ACTOR, ENGINE)
st.title("Retention")
show_flash()
view = rd.load_retention_view(ACTOR, ENGINE, version=version, include_names=INCLUDE_NAMES)
retrain = st.button("Retrain and rescore", key="ret_retrain", icon=":material/refresh:")
if retrain or (view.needs_scoring and not rd.already_scored(ACTOR, version)):
    stale = view.needs_training and view.churn_model is not None
    rd.refresh_scores(ACTOR, ENGINE, view=view, version=version, retrain=retrain or stale)
    st.rerun()
if view.scored_at is not None:
    st.caption(f"Scores as of {show.local_day(view.scored_at, TZ)} ({TZ}).")
render_trust(view, st.session_state.get(rd.NOTES_KEY, []))
render_bands(view)
band, selected = render_customers(view)
render_upcoming(version)
render_campaign(view, band, selected)
render_drafts()
