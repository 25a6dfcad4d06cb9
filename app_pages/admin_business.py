"""Business settings (owner): identity (name, time zone, country, currency) and booking policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st
from pydantic import ValidationError

from auth.roles import Permission
from data.business import save_booking_policy, save_business_settings
from data.db import write_tx
from scheduling.business import (
    CURRENCIES,
    BookingPolicySettings,
    BusinessSettings,
    first_error,
    supported_countries,
    timezone_names,
)
from ui.session import after_write, current_business, get_engine, require_permission

actor = require_permission(Permission.MANAGE_BUSINESS)
business = current_business(actor)


def _save(write: Callable[[Any], bool]) -> None:
    """Validate and write in one transaction, then say what happened."""
    try:
        with write_tx(get_engine()) as conn:
            changed = write(conn)
    except (ValidationError, ValueError) as exc:
        st.error(first_error(exc))
    else:
        if changed:
            after_write()  # the forms keep their values; no rerun needed
            st.success("Saved. The change is in the audit log.")
        else:
            st.info("Nothing changed.")


st.title("Business settings")
st.caption(
    "The time zone governs every local time: working hours, the calendar, peak times and "
    "reminders. The country selects public holidays."
)

zones = timezone_names()
countries = sorted(supported_countries())
currencies = sorted(CURRENCIES)
with st.form("business_settings"):
    name = st.text_input("Name", value=business["name"], max_chars=200, key="biz_name")
    timezone = st.selectbox(
        "Time zone", zones, index=zones.index(business["timezone"]), key="biz_timezone"
    )
    country = st.selectbox(
        "Country", countries, index=countries.index(business["country"]), key="biz_country"
    )
    currency = st.selectbox(
        "Currency", currencies, index=currencies.index(business["currency"]), key="biz_currency"
    )
    if st.form_submit_button("Save", type="primary"):
        _save(
            lambda conn: save_business_settings(
                conn,
                actor=actor,
                settings=BusinessSettings(
                    name=name, timezone=timezone, country=country, currency=currency
                ),
            )
        )

st.subheader("Booking policy")
with st.form("booking_policy"):
    notice = st.number_input(
        "Minimum notice (minutes)", 0, 7 * 24 * 60, business["min_notice_minutes"],
        step=15, key="policy_notice",
    )  # fmt: skip
    ahead = st.number_input(
        "Bookable up to (days ahead)", 1, 730, business["max_days_ahead"], key="policy_ahead"
    )
    step = st.selectbox(
        "Slot grid (minutes)", [5, 10, 15, 20, 30, 60],
        index=[5, 10, 15, 20, 30, 60].index(business["slot_step_minutes"]), key="policy_step",
    )  # fmt: skip
    if st.form_submit_button("Save booking policy"):
        _save(
            lambda conn: save_booking_policy(
                conn,
                actor=actor,
                policy=BookingPolicySettings(
                    min_notice_minutes=int(notice),
                    max_days_ahead=int(ahead),
                    slot_step_minutes=step,
                ),  # fmt: skip
            )
        )
