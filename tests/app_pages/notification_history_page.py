"""A minimal page around `ui.notification_history.render_history`, for AppTest: the
signed-in user's business with its senders from the settings - or, when the environment
names SLOTBOARD_TEST_TWILIO_URL, a TwilioSender talking to that local server."""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from auth.roles import Permission
from notifications.senders import Senders
from ui import notifications_data as nd
from ui.notification_history import render_history
from ui.send_widgets import progress_bar
from ui.session import current_business, get_engine, require_permission, show_flash

TWILIO_URL_ENV = "SLOTBOARD_TEST_TWILIO_URL"


def senders_for(business: dict[str, Any]) -> Senders:
    url = os.environ.get(TWILIO_URL_ENV)
    if not url:
        return nd.load_senders(business)
    from notifications.twilio_sms import TwilioSender
    from tests.notifications.test_twilio_sms import SID, TOKEN, LocalTwilio

    sms = TwilioSender(SID, TOKEN, from_number="+15005550006", http_client=LocalTwilio(url))
    return Senders(by_channel={"sms": sms}, paths={"sms": "SMS: Twilio (local test server)"})


ACTOR = require_permission(Permission.MANAGE_BOOKINGS)
BUSINESS = current_business(ACTOR)
st.title("Notification history")
show_flash()
render_history(ACTOR, get_engine(), business=BUSINESS, senders=senders_for(BUSINESS),
               progress_factory=progress_bar)  # fmt: skip
