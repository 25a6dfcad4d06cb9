"""`remind reply`: apply one inbound SMS reply (STOP, START, HELP, YES, C ...) by hand.

For operators (a customer called instead of texting, or a reply to replay) and for a
webhook function that would rather shell out than import the app. It calls the same
`data.inbound.apply_inbound_reply` a webhook calls, in one transaction, and prints the
intent, the outcome, the appointment and the answer to send, never the phone number.
Registers itself on the `remind` command group.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

import typer

from cli_common import JsonOption, _business_id, _engine, _fail
from cli_remind import remind_app
from data.db import read_conn, write_tx


@remind_app.command("reply")
def reply(
    from_phone: Annotated[
        str, typer.Option("--from", help="The sender's number, e.g. +4915112345678.")
    ],
    body: Annotated[str, typer.Option("--body", help="The text of the reply, e.g. YES.")],
    business: Annotated[
        str | None, typer.Option("--business", help="Business id or slug (default: the only one).")
    ] = None,
    message_sid: Annotated[
        str | None, typer.Option("--sid", help="Twilio's MessageSid, kept in the audit log.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Apply an inbound SMS reply: consent (STOP/START), confirm (YES) or cancel (C)."""
    from data.business import NotFound
    from data.inbound import apply_inbound_reply

    engine = _engine()
    with read_conn(engine) as conn:
        business_id = _business_id(conn, business)
    try:
        with write_tx(engine) as conn:
            result = apply_inbound_reply(
                conn, business_id=business_id, from_phone=from_phone, body=body,
                now=datetime.now(UTC), message_sid=message_sid,
            )  # fmt: skip
    except NotFound as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps({"business_id": business_id, **asdict(result)}, indent=2))
        return
    appointment = f", appointment {result.appointment_id}" if result.appointment_id else ""
    changed = "changed" if result.changed else "nothing changed"
    typer.echo(f"{result.intent} -> {result.outcome}{appointment} ({changed})")
    if result.provider_replied:
        typer.echo("answer: none (Twilio answers this keyword itself)")
    else:
        typer.echo(f"answer: {result.reply_text}")
