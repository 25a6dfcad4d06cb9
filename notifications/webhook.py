"""The two Twilio pieces of an inbound-SMS webhook, so a handler stays a few lines long.

Streamlit cannot receive webhooks; a small serverless function does (see
docs/inbound_replies.md). It checks the request with `verify_signature`, applies the
reply with `data.inbound.apply_inbound_reply`, and answers with `twiml_reply`. Both wrap
Twilio's own SDK (`RequestValidator`, `MessagingResponse`) rather than re-implementing
the signature scheme or XML escaping.
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse


def verify_signature(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    """True when `signature` (the X-Twilio-Signature header) is Twilio's signature of this
    request: `url` exactly as Twilio called it (scheme, host, path and query) and the POST
    form `params`. False for a missing token or signature, never an exception."""
    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def twiml_reply(text: str) -> str:
    """The TwiML answer: one <Message> with `text` (XML-escaped), or an empty <Response/>
    when `text` is blank (Twilio then sends nothing)."""
    response = MessagingResponse()
    if text.strip():
        response.message(text)
    return str(response)
