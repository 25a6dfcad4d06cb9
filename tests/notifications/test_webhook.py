"""The webhook helpers: Twilio's request signature (computed by Twilio's own validator)
and the TwiML answer, escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from twilio.request_validator import RequestValidator

from notifications.webhook import twiml_reply, verify_signature

TOKEN = "12345678901234567890123456789012"
URL = "https://example.functions.supabase.co/sms-reply?business=3"
PARAMS = {"MessageSid": "SM" + "a" * 32, "From": "+4915112345678", "To": "+4930901820",
          "Body": "Yes please"}  # fmt: skip


def signed(params: dict[str, str], url: str = URL, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def test_a_request_signed_by_twilio_is_accepted() -> None:
    assert verify_signature(TOKEN, URL, PARAMS, signed(PARAMS))


def test_anything_else_is_refused() -> None:
    signature = signed(PARAMS)
    assert not verify_signature(TOKEN, URL, PARAMS | {"Body": "C"}, signature)  # body changed
    assert not verify_signature(TOKEN, URL, PARAMS | {"From": "+4915199999999"}, signature)
    assert not verify_signature(TOKEN, URL.replace("=3", "=4"), PARAMS, signature)  # other URL
    assert not verify_signature("another-token-entirely-0000000000", URL, PARAMS, signature)
    assert not verify_signature(TOKEN, URL, PARAMS, signed(PARAMS, token="x" * 32))
    assert not verify_signature(TOKEN, URL, PARAMS, None)
    assert not verify_signature(TOKEN, URL, PARAMS, "")
    assert not verify_signature("", URL, PARAMS, signature)


def test_twiml_carries_the_text_escaped() -> None:
    text = 'Tue 24 Nov at 14:30 <b>Nails & Co</b> "Studio"'
    xml = twiml_reply(text)
    assert "&lt;b&gt;Nails &amp; Co&lt;/b&gt;" in xml and "<b>" not in xml
    root = ET.fromstring(xml)  # noqa: S314 - our own output
    assert root.tag == "Response"
    assert [(child.tag, child.text) for child in root] == [("Message", text)]


def test_a_blank_text_is_an_empty_response() -> None:
    for text in ("", "   "):
        root = ET.fromstring(twiml_reply(text))  # noqa: S314 - our own output
        assert root.tag == "Response" and list(root) == []
