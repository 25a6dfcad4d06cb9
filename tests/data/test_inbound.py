"""Inbound SMS replies on both engines: each intent's effect, repeats that change nothing,
unknown and merged senders, another business's customer with the same number, past
appointments left alone, and audit entries without the number or the text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data.business import NotFound
from data.db import read_conn, write_tx
from data.inbound import ACTOR_LABEL, InboundResult, apply_inbound_reply
from data.schema import appointments, audit_log, customers
from notifications.inbound import CANCEL_REASON, ReplyIntent, ReplyOutcome
from tests.factories import make_business, make_customer, make_service, make_staff

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
PHONE = "+4915112345678"
DAY = timedelta(days=1)
SID = "SM" + "f" * 32


def reply(engine: Engine, business: int, body: str, phone: str = PHONE, **kw: Any) -> InboundResult:
    with write_tx(engine) as conn:
        return apply_inbound_reply(
            conn, business_id=business, from_phone=phone, body=body, now=NOW, **kw
        )


def add_customer(engine: Engine, business: int, *, phone: str | None = PHONE,
                 opt_in: bool = True, opted_out: bool = False, **values: Any) -> int:  # fmt: skip
    with write_tx(engine) as conn:
        customer_id = make_customer(conn, business)
        stamp = NOW - 30 * DAY if opt_in or opted_out else None
        conn.execute(
            customers.update().where(customers.c.id == customer_id)
            .values(phone=phone, sms_opt_in=opt_in, sms_opt_in_at=stamp, **values)
        )  # fmt: skip
    return customer_id


def add_appointment(engine: Engine, business: int, customer_id: int, start: datetime,
                    status: str = "booked", reason: str | None = None) -> int:  # fmt: skip
    with write_tx(engine) as conn:
        staff_id, service_id = make_staff(conn, business), make_service(conn, business)
        values = {
            "business_id": business, "staff_id": staff_id, "service_id": service_id,
            "customer_id": customer_id, "starts_at": start, "ends_at": start + timedelta(hours=1),
            "status": status, "price_cents": 4500, "cancellation_reason": reason,
            "created_at": NOW - 40 * DAY, "updated_at": NOW - 40 * DAY,
        }  # fmt: skip
        return int(conn.execute(appointments.insert().values(**values)).inserted_primary_key[0])


def consent(engine: Engine) -> dict[int, tuple[bool, datetime | None]]:
    with read_conn(engine) as conn:
        query = sa.select(customers.c.id, customers.c.sms_opt_in, customers.c.sms_opt_in_at)
        return {row.id: (row.sms_opt_in, row.sms_opt_in_at) for row in conn.execute(query)}


def statuses(engine: Engine) -> dict[int, str]:
    with read_conn(engine) as conn:
        query = sa.select(appointments.c.id, appointments.c.status)
        return {row.id: row.status for row in conn.execute(query)}


def snapshot(engine: Engine) -> tuple[list[Any], list[Any], int]:
    with read_conn(engine) as conn:
        rows = [
            [tuple(row) for row in conn.execute(sa.select(table).order_by(table.c.id))]
            for table in (customers, appointments)
        ]
        audits = conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one()
    return rows[0], rows[1], int(audits)


def audits(engine: Engine) -> list[dict[str, Any]]:
    with read_conn(engine) as conn:
        query = sa.select(audit_log).where(audit_log.c.actor == ACTOR_LABEL)
        return [dict(row) for row in conn.execute(query.order_by(audit_log.c.id)).mappings()]


# --- consent --------------------------------------------------------------------------


def test_stop_opts_out_every_record_with_the_number_once(engine: Engine, business: int) -> None:
    ada, ada_again = add_customer(engine, business), add_customer(engine, business)
    merged = add_customer(engine, business, merged_into_id=ada)
    never = add_customer(engine, business, opt_in=False)
    with write_tx(engine) as conn:
        other_business = make_business(conn)
    elsewhere = add_customer(engine, other_business)
    before = consent(engine)
    first = reply(engine, business, "STOP")
    assert (first.intent, first.outcome, first.changed, first.provider_replied) == (
        ReplyIntent.OPT_OUT, ReplyOutcome.OPTED_OUT, True, True)  # fmt: skip
    after = consent(engine)
    assert after[ada] == after[ada_again] == (False, NOW)
    assert {key: after[key] for key in (merged, never, elsewhere)} == {
        key: before[key] for key in (merged, never, elsewhere)}  # fmt: skip
    state = snapshot(engine)
    again = reply(engine, business, "stop.")
    assert (again.outcome, again.changed) == (ReplyOutcome.OPTED_OUT, False)
    assert snapshot(engine) == state
    assert [(row["entity"], row["entity_id"]) for row in audits(engine)] == [
        ("customers", str(ada)), ("customers", str(ada_again))]  # fmt: skip


def test_a_longer_stop_is_honoured_and_answered_by_us(engine: Engine, business: int) -> None:
    ada = add_customer(engine, business)
    result = reply(engine, business, "Please stop texting me")
    assert (result.outcome, result.provider_replied) == (ReplyOutcome.OPTED_OUT, False)
    assert "START" in result.reply_text and consent(engine)[ada] == (False, NOW)


def test_start_opts_in_and_is_idempotent(engine: Engine, business: int) -> None:
    out = add_customer(engine, business, opt_in=False, opted_out=True)
    never = add_customer(engine, business, opt_in=False)
    result = reply(engine, business, "START", message_sid=SID)
    assert (result.outcome, result.changed) == (ReplyOutcome.OPTED_IN, True)
    assert consent(engine) == {out: (True, NOW), never: (True, NOW)}
    state = snapshot(engine)
    assert not reply(engine, business, "Unstop").changed
    assert snapshot(engine) == state


def test_a_lone_yes_resubscribes_only_who_had_opted_out(engine: Engine, business: int) -> None:
    out = add_customer(engine, business, opt_in=False, opted_out=True)
    never = add_customer(engine, business, opt_in=False)
    result = reply(engine, business, "YES")
    assert result.outcome is ReplyOutcome.NOTHING_TO_CONFIRM and result.changed
    assert consent(engine) == {out: (True, NOW), never: (False, None)}
    other = add_customer(engine, business, phone="+4915199999999", opt_in=False, opted_out=True)
    reply(engine, business, "Yes please", phone="+4915199999999")  # Twilio ignores it too
    assert consent(engine)[other] == (False, NOW - 30 * DAY)


# --- appointments -----------------------------------------------------------------------


def test_yes_confirms_the_next_appointment_once(engine: Engine, business: int) -> None:
    ada = add_customer(engine, business)
    past = add_appointment(engine, business, ada, NOW - DAY)
    staff_cancelled = add_appointment(engine, business, ada, NOW + DAY / 2, "cancelled", "ill")
    soon = add_appointment(engine, business, ada, NOW + DAY)
    later = add_appointment(engine, business, ada, NOW + 7 * DAY)
    first = reply(engine, business, "Yes please", message_sid=SID)
    assert (first.intent, first.outcome, first.appointment_id, first.changed) == (
        ReplyIntent.CONFIRM, ReplyOutcome.CONFIRMED, soon, True)  # fmt: skip
    assert first.reply_text.startswith("Thanks, your appointment on Wed 11 Mar at 10:00 is")
    assert not first.provider_replied
    assert statuses(engine) == {past: "booked", staff_cancelled: "cancelled",
                                soon: "confirmed", later: "booked"}  # fmt: skip
    state = snapshot(engine)
    second = reply(engine, business, "YES")
    assert (second.outcome, second.appointment_id, second.changed) == (
        ReplyOutcome.ALREADY_CONFIRMED, soon, False)  # fmt: skip
    assert snapshot(engine) == state
    [entry] = [row for row in audits(engine) if row["entity"] == "appointments"]
    assert (entry["action"], entry["entity_id"]) == ("confirm", str(soon))
    assert entry["diff"]["status"] == ["booked", "confirmed"]
    assert entry["diff"]["message_sid"] == [None, SID]


def test_c_cancels_the_next_appointment_once(engine: Engine, business: int) -> None:
    ada = add_customer(engine, business)
    past = add_appointment(engine, business, ada, NOW - DAY)
    soon = add_appointment(engine, business, ada, NOW + DAY, "confirmed")
    later = add_appointment(engine, business, ada, NOW + 7 * DAY)
    first = reply(engine, business, "C")
    assert (first.outcome, first.appointment_id, first.changed) == (
        ReplyOutcome.CANCELLED, soon, True)  # fmt: skip
    assert first.reply_text.startswith("Your appointment on Wed 11 Mar at 10:00 is cancelled.")
    with read_conn(engine) as conn:
        row = conn.execute(sa.select(appointments).where(appointments.c.id == soon)).one()
    assert (row.status, row.cancellation_reason, row.cancelled_at) == (
        "cancelled", CANCEL_REASON, NOW)  # fmt: skip
    state = snapshot(engine)
    second = reply(engine, business, "c.")
    assert (second.outcome, second.appointment_id, second.changed) == (
        ReplyOutcome.ALREADY_CANCELLED, soon, False)  # fmt: skip
    assert snapshot(engine) == state
    assert statuses(engine) == {past: "booked", soon: "cancelled", later: "booked"}
    cancel_my = reply(engine, business, "Cancel my appointment")
    assert cancel_my.outcome is ReplyOutcome.ALREADY_CANCELLED


def test_a_lone_cancel_is_an_opt_out_not_a_cancellation(engine: Engine, business: int) -> None:
    ada = add_customer(engine, business)
    soon = add_appointment(engine, business, ada, NOW + DAY)
    result = reply(engine, business, "CANCEL")
    assert (result.outcome, result.appointment_id) == (ReplyOutcome.OPTED_OUT, None)
    assert statuses(engine) == {soon: "booked"} and consent(engine)[ada] == (False, NOW)


def test_nothing_upcoming_means_nothing_to_do(engine: Engine, business: int) -> None:
    ada = add_customer(engine, business)
    add_appointment(engine, business, ada, NOW - DAY)
    add_appointment(engine, business, ada, NOW + DAY, "cancelled", "customer called")
    add_appointment(engine, business, ada, NOW - timedelta(minutes=5))  # started already
    state = snapshot(engine)
    assert reply(engine, business, "Y").outcome is ReplyOutcome.NOTHING_TO_CONFIRM
    assert reply(engine, business, "C").outcome is ReplyOutcome.NOTHING_TO_CANCEL
    assert snapshot(engine) == state


def test_several_records_share_the_soonest_appointment(engine: Engine, business: int) -> None:
    ada, ada_again = add_customer(engine, business), add_customer(engine, business)
    merged = add_customer(engine, business, merged_into_id=ada)
    add_appointment(engine, business, merged, NOW + DAY / 4)  # merged away: not hers now
    later = add_appointment(engine, business, ada, NOW + 2 * DAY)
    sooner = add_appointment(engine, business, ada_again, NOW + DAY)
    result = reply(engine, business, "confirm")
    assert (result.outcome, result.appointment_id) == (ReplyOutcome.CONFIRMED, sooner)
    assert statuses(engine)[later] == "booked"


def test_another_business_with_the_same_number_is_untouched(engine: Engine, business: int) -> None:
    with write_tx(engine) as conn:
        other = make_business(conn)
    theirs = add_customer(engine, other)
    their_appointment = add_appointment(engine, other, theirs, NOW + DAY / 2)
    mine = add_customer(engine, business)
    my_appointment = add_appointment(engine, business, mine, NOW + DAY)
    for body in ("YES", "C", "STOP"):
        reply(engine, business, body)
    assert statuses(engine) == {their_appointment: "booked", my_appointment: "cancelled"}
    assert consent(engine)[theirs] == (True, NOW - 30 * DAY)
    with read_conn(engine) as conn:
        query = sa.select(audit_log.c.business_id).where(audit_log.c.actor == ACTOR_LABEL)
        assert set(conn.execute(query).scalars()) == {business}


# --- senders ----------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["+4915199990000", "not a number", "", "+49 30"])
def test_an_unknown_sender_changes_nothing(engine: Engine, business: int, phone: str) -> None:
    ada = add_customer(engine, business)
    add_appointment(engine, business, ada, NOW + DAY)
    state = snapshot(engine)
    for body in ("STOP", "YES", "C", "START", "HELP"):
        result = reply(engine, business, body, phone=phone)
        assert (result.outcome, result.appointment_id, result.changed) == (
            ReplyOutcome.UNKNOWN_SENDER, None, False)  # fmt: skip
    assert snapshot(engine) == state


def test_a_national_number_is_read_in_the_business_country(engine: Engine, business: int) -> None:
    ada = add_customer(engine, business)
    result = reply(engine, business, "STOP", phone="0151 1234 5678")  # the business is in DE
    assert result.outcome is ReplyOutcome.OPTED_OUT and consent(engine)[ada] == (False, NOW)


def test_help_and_unknown_text_change_nothing(engine: Engine, business: int) -> None:
    ada = add_customer(engine, business)
    add_appointment(engine, business, ada, NOW + DAY)
    state = snapshot(engine)
    assert reply(engine, business, "HELP").outcome is ReplyOutcome.HELP
    unknown = reply(engine, business, "Can I come at 3 instead?")
    assert (unknown.intent, unknown.outcome) == (ReplyIntent.UNKNOWN, ReplyOutcome.UNRECOGNISED)
    assert "YES" in unknown.reply_text
    assert snapshot(engine) == state


def test_an_unknown_business_is_refused(engine: Engine, business: int) -> None:
    with pytest.raises(NotFound):
        reply(engine, business + 999, "YES")


def test_audit_entries_hold_ids_and_intent_never_number_or_text(
    engine: Engine, business: int
) -> None:
    ada = add_customer(engine, business)
    add_appointment(engine, business, ada, NOW + DAY)
    add_appointment(engine, business, ada, NOW + 2 * DAY)
    secret = "unmistakable words"
    for body in (f"Yes {secret}", f"Cancel {secret}", f"Stop {secret}", "START"):
        assert reply(engine, business, body, message_sid=SID).changed
    entries = audits(engine)
    assert [row["action"] for row in entries] == ["confirm", "cancel", "update", "update"]
    text = json.dumps([row["diff"] for row in entries]) + repr(entries)
    for leak in (secret, PHONE, PHONE[3:], "15112345678"):
        assert leak not in text
    assert {row["diff"]["via"][1] for row in entries} == {
        "sms reply: confirm",
        "sms reply: cancel",
        "sms reply: opt_out",
        "sms reply: opt_in",
    }
