"""Business settings (owner): name, time zone, country and currency."""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from auth.roles import Permission
from data.business import save_business_settings
from data.db import write_tx
from scheduling.business import (
    CURRENCIES,
    BusinessSettings,
    first_error,
    supported_countries,
    timezone_names,
)
from ui.session import after_write, current_business, get_engine, require_permission

actor = require_permission(Permission.MANAGE_BUSINESS)
business = current_business(actor)

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
    submitted = st.form_submit_button("Save", type="primary")

if submitted:
    try:
        new = BusinessSettings(name=name, timezone=timezone, country=country, currency=currency)
        with write_tx(get_engine()) as conn:
            changed = save_business_settings(conn, actor=actor, settings=new)
    except (ValidationError, ValueError) as exc:
        st.error(first_error(exc))
    else:
        if changed:
            after_write()  # the form keeps its values; no rerun needed
            st.success("Saved. The change is in the audit log.")
        else:
            st.info("Nothing changed.")
