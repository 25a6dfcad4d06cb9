"""Customers (owners and staff): search, profile, edit, new customer, duplicates and merge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from analytics.retention_display import describe_churn_score
from auth.roles import Actor, Permission
from data.business import NotFound
from data.customers import (
    create_customer,
    find_duplicate_candidates,
    load_customer_profile,
    merge_customers,
    search_customers,
    update_customer,
)
from data.db import read_conn, write_tx
from scheduling.business import first_error
from scheduling.customers import (
    CustomerInput,
    build_form_values,
    build_profile_details,
    build_profile_metrics,
    build_search_table,
    build_visit_table,
    describe_customer,
    describe_duplicate,
    describe_merge,
    describe_merged,
)
from ui.session import after_write, current_business, get_engine, require_permission, show_flash

actor = require_permission(Permission.MANAGE_BOOKINGS)
engine = get_engine()
business = current_business(actor)
TZ, REGION, CURRENCY = business["timezone"], business["country"], business["currency"]
OPEN_NEXT = "cust_open_next"  # (search text, customer id) to open after the rerun
LIMIT = 50
Then = Callable[[Any], None] | None


def save(write: Callable[[Any], Any], done: str, *, clear: tuple[str, ...], then: Then) -> None:
    """Run one write transaction; show the error, or forget inputs keyed `clear*` and rerun."""
    try:
        with write_tx(engine) as conn:
            result = write(conn)
    except (ValueError, NotFound) as exc:
        st.error(first_error(exc))
        return
    for key in [k for k in st.session_state if str(k).startswith(clear)]:
        del st.session_state[key]
    if then is not None:
        then(result)
    after_write(done)
    st.rerun()


def open_next(search: str, customer_id: int) -> None:
    st.session_state[OPEN_NEXT] = (search, customer_id)


@st.cache_data(ttl=300, show_spinner="Looking for duplicates…")
def load_duplicates(business_id: int, _actor: Actor, _engine: Any, url: str) -> list[dict]:
    """Cached per business: it scans every customer (after_write clears it)."""
    with read_conn(_engine) as conn:
        return find_duplicate_candidates(conn, actor=_actor)


def render_form(p: str, row: dict[str, Any], label: str) -> None:
    """A customer form (widget keys `{p}_…`): edits `row`, or creates one when it has no id."""
    v = build_form_values(row)
    with st.form(f"{p}_form"):
        left, right = st.columns(2)
        fields = {
            "first_name": left.text_input("First name", v["first_name"], key=f"{p}_first"),
            "last_name": right.text_input("Last name", v["last_name"], key=f"{p}_last"),
            "phone": left.text_input(
                "Phone", v["phone"], key=f"{p}_phone", help=f"Local numbers: {REGION}"
            ),
            "email": right.text_input("E-mail", v["email"], key=f"{p}_email"),
            "sms_opt_in": left.checkbox("Agrees to SMS", v["sms_opt_in"], key=f"{p}_sms"),
            "email_opt_in": right.checkbox(
                "Agrees to e-mail", v["email_opt_in"], key=f"{p}_email_opt_in"
            ),
            "tags": st.text_input("Tags", v["tags"], key=f"{p}_tags", help="e.g. vip, colour"),
            "notes": st.text_area("Notes", v["notes"], key=f"{p}_notes"),
        }
        allow_dup = st.checkbox(
            "Save even if another customer has this phone number or e-mail address",
            key=f"{p}_allow_dup",
        )
        if not st.form_submit_button(label, key=f"{p}_save"):
            return
    name = f"{fields['first_name']} {fields['last_name']}".strip()

    def write(conn: Any) -> Any:
        data = CustomerInput.from_form(region=REGION, **fields)
        if "id" not in row:
            return create_customer(conn, actor=actor, data=data, allow_duplicate=allow_dup)
        return update_customer(
            conn, actor=actor, customer_id=row["id"], data=data, allow_duplicate=allow_dup
        )

    then = None if "id" in row else lambda new_id: open_next(name, new_id)
    save(write, f"{name} saved.", clear=(f"{p}_",), then=then)


def render_search() -> int | None:
    if OPEN_NEXT in st.session_state:  # before the widgets exist, so they may be set
        st.session_state["cust_search"], st.session_state["cust_pick"] = st.session_state.pop(
            OPEN_NEXT
        )
    query = st.text_input(
        "Search by name, phone or e-mail", key="cust_search", placeholder="Ana Silva, 0151…"
    )
    with read_conn(engine) as conn:
        rows = search_customers(conn, actor=actor, query=query, limit=LIMIT)
    if not rows:
        st.info("No customer matches." if query.strip() else "No customers yet.")
        return None
    st.dataframe(build_search_table(rows, TZ), hide_index=True)
    if len(rows) == LIMIT:
        st.caption(f"Showing {LIMIT} matches: type more to narrow the search.")
    labels = {row["id"]: describe_customer(row) for row in rows}
    return st.selectbox(
        "Open customer", list(labels), index=None, format_func=labels.get, key="cust_pick",
        placeholder="Choose a customer",
    )  # fmt: skip


def render_profile(customer_id: int) -> None:
    with read_conn(engine) as conn:
        profile = load_customer_profile(conn, actor=actor, customer_id=customer_id)
    st.subheader(profile["full_name"])
    if notice := describe_merged(profile):
        st.warning(notice)
    metrics = build_profile_metrics(profile, TZ, CURRENCY)
    for column, (label, value) in zip(st.columns(len(metrics)), metrics.items(), strict=True):
        column.metric(label, value)
    st.caption(describe_churn_score(profile["churn"], TZ))
    st.dataframe(build_profile_details(profile, TZ), hide_index=True)
    if profile["notes"]:
        st.markdown("**Notes**")
        st.text(profile["notes"])
    st.markdown("**Visit history**")
    if profile["visits"]:
        st.dataframe(build_visit_table(profile["visits"], TZ, CURRENCY), hide_index=True)
    else:
        st.caption("No visits yet.")
    if not notice:  # a merged customer is read-only
        with st.expander("Edit details"):
            render_form(f"edit_{customer_id}", profile, "Save changes")


def render_duplicates() -> None:
    if not st.toggle("Look for possible duplicates", key="dupes_show"):
        return
    pairs = load_duplicates(actor.business_id, actor, engine, str(engine.url))
    if not pairs:
        st.info("No possible duplicates: no two customers share a phone, e-mail or name.")
        return
    by_key = {f"{pair['a_id']}-{pair['b_id']}": pair for pair in pairs}
    key = st.selectbox(
        "Pair", list(by_key), format_func=lambda k: describe_duplicate(by_key[k]), key="dupes_pair"
    )
    pair = by_key[key]
    names = {pair["a_id"]: pair["a_name"], pair["b_id"]: pair["b_name"]}
    keep_id = st.radio(
        "Keep", list(names), format_func=lambda i: f"{names[i]} (#{i})", key="dupes_keep",
        horizontal=True,
    )  # fmt: skip
    merge_id = pair["b_id"] if keep_id == pair["a_id"] else pair["a_id"]
    sure = st.checkbox(  # keyed by the choice: another choice asks again
        describe_merge(names, keep_id=keep_id, merge_id=merge_id),
        key=f"merge_confirm_{keep_id}_{merge_id}",
    )
    if st.button("Merge", key="merge_go", disabled=not sure, type="primary"):
        save(
            lambda conn: merge_customers(conn, actor=actor, keep_id=keep_id, merge_id=merge_id),
            f"Merged {names[merge_id]} into {names[keep_id]}.",
            clear=("merge_", "dupes_pair", "dupes_keep"),
            then=lambda _: open_next(names[keep_id], keep_id),
        )


st.title("Customers")
st.caption(f"Times in {TZ} · prices in {CURRENCY}")
show_flash()
if (opened := render_search()) is not None:
    render_profile(opened)
with st.expander("New customer"):
    render_form("new", {}, "Add customer")
st.subheader("Possible duplicates")
render_duplicates()
