"""Smart slot suggestions on the New booking form: glue between `data.slot_hints` and
the pure ranking in `scheduling.slot_ranking`.

Once a customer and a service are chosen, the form shows "Suggested for <first name>":
up to SUGGEST_LIMIT free slots of the next SUGGEST_DAYS days, ranked by the customer's
habits and the business's idle hours, each with its reasons. "Use" pre-fills the form
through session state (staff, "From" date and time, first slot of the list), so the
form's first free slot is the suggestion; the booking itself stays the form's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine

from auth.roles import Actor
from data.db import read_conn
from data.slot_hints import find_slots_ahead, load_customer_visit_pattern, load_idle_profile
from scheduling.availability import Slot
from scheduling.catalog import to_local
from scheduling.slot_ranking import RankedSlot, ReasonCode, build_customer_habits, rank_slots
from scheduling.timezones import local_today
from ui.session import get_engine

SUGGEST_DAYS = 14
SUGGEST_LIMIT = 5
IDLE_WEEKS = 8
# The New booking form's widget keys (ui.booking_widgets.render_new_booking).
FORM_KEYS = {"staff": "nb_staff", "day": "nb_after", "time": "nb_after_time", "slot": "nb_slot"}


@st.cache_data(ttl=600, max_entries=32, show_spinner=False)
def _idle(business_id: int, url: str, today: date, _actor: Actor, _engine: Engine) -> dict:
    """The idle profile changes slowly (past weeks): cached by business and day."""
    with read_conn(_engine) as conn:
        return load_idle_profile(conn, actor=_actor, weeks=IDLE_WEEKS, today=today)


def load_suggestions(
    actor: Actor, *, tz: str, customer_id: int, service_id: int, staff_id: int | None
) -> tuple[str, int, list[RankedSlot]]:
    """The customer's first name, their counted visits and the ranked suggestions."""
    engine = get_engine()
    idle = _idle(actor.business_id, str(engine.url), local_today(tz), actor, engine)
    with read_conn(engine) as conn:
        pattern = load_customer_visit_pattern(conn, actor=actor, customer_id=customer_id)
        slots = find_slots_ahead(
            conn, actor=actor, service_id=service_id, staff_id=staff_id, days=SUGGEST_DAYS
        )
    habits = build_customer_habits(pattern.visits, tz=tz)
    ranked = rank_slots(slots, habits=habits, idle=idle, tz=tz, limit=SUGGEST_LIMIT)
    return pattern.first_name, habits.visits, ranked


def _prefill(slot: Slot, tz: str) -> None:
    """Callback of "Use": runs before the next render, so the form's widgets take it."""
    local = to_local(slot.start, tz)
    st.session_state[FORM_KEYS["staff"]] = slot.staff_id
    st.session_state[FORM_KEYS["day"]] = local.date()
    st.session_state[FORM_KEYS["time"]] = local.time().replace(second=0, microsecond=0)
    st.session_state[FORM_KEYS["slot"]] = 0


def describe_reasons(ranked: RankedSlot, staff_name: str) -> str:
    """The reasons in one line, naming the staff member where the reason is theirs."""
    texts = [
        f"With {staff_name}, their usual stylist" if r.code == ReasonCode.USUAL_STAFF else r.text
        for r in ranked.reasons
    ]
    return " · ".join(texts) or "A free slot soon"


def render_slot_suggestions(
    actor: Actor,
    business: dict[str, Any],
    *,
    customer_id: int,
    service_id: int,
    staff_id: int | None,
    staff_names: dict[int, str],
) -> None:
    """'Suggested for <first name>' with a "Use" button per suggestion."""
    tz = business["timezone"]
    first_name, visits, ranked = load_suggestions(
        actor, tz=tz, customer_id=customer_id, service_id=service_id, staff_id=staff_id
    )
    st.markdown(f"**Suggested for {first_name}**")
    if not visits:
        st.caption("No completed visits yet: the quietest hours come first.")
    if not ranked:
        st.caption(f"No free slot for this service in the next {SUGGEST_DAYS} days.")
        return
    for index, item in enumerate(ranked):
        name = staff_names.get(item.slot.staff_id, "?")
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.markdown(
            f"{to_local(item.slot.start, tz):%a %d %b, %H:%M} · {name}  \n"
            f":gray[{describe_reasons(item, name)}]"
        )
        right.button("Use", key=f"nb_suggest_{index}", on_click=_prefill, args=(item.slot, tz))
