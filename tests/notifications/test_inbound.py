"""Reading inbound SMS replies (pure): keywords, the clash with Twilio's keywords, tricky
text, which appointment a confirm or cancel is about, and the answers we send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifications.inbound import (
    CANCEL_REASON,
    Consent,
    ParsedReply,
    ReplyIntent,
    ReplyOutcome,
    build_reply_text,
    classify_reply,
    parse_reply,
    plan_appointment_change,
    split_words,
)
from notifications.sms import count_segments

I = ReplyIntent  # noqa: E741 - short alias for the tables below
T0 = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)  # 14:30 in Berlin (CET)


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        *[(word, I.OPT_OUT) for word in
          ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE")],
        ("START", I.OPT_IN), ("UNSTOP", I.OPT_IN),
        ("HELP", I.HELP), ("INFO", I.HELP),
        ("YES", I.CONFIRM), ("Y", I.CONFIRM), ("CONFIRM", I.CONFIRM), ("Confirmed", I.CONFIRM),
        ("C", I.CANCEL),
    ],
)  # fmt: skip
def test_one_word_keywords(body: str, intent: ReplyIntent) -> None:
    assert classify_reply(body) is intent
    assert classify_reply(body.lower()) is intent


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        ("STOP.", I.OPT_OUT), ("  stop  ", I.OPT_OUT), ("Stop!!!", I.OPT_OUT),
        ("ＳＴＯＰ", I.OPT_OUT),  # full-width letters (NFKC)
        ("ST\u200bOP", I.OPT_OUT),  # a zero-width space inside the word
        ("\u202eSTOP", I.OPT_OUT),  # a bidi control before it
        ("Opt-out", I.OPT_OUT), ("opt out please", I.OPT_OUT),
        ("Please stop texting me", I.OPT_OUT),
        ("Yes please", I.CONFIRM), ("yes!", I.CONFIRM), ("Yes 👍", I.CONFIRM),
        ("YÉS", I.CONFIRM), ("Ｙｅｓ", I.CONFIRM), ("\tY\n", I.CONFIRM),
        ("C.", I.CANCEL), ("c", I.CANCEL), ("Cancel my appointment", I.CANCEL),
        ("İNFO", I.HELP), ("Help, what can I send?", I.HELP), ("help cancel", I.HELP),
        ("", I.UNKNOWN), ("   ", I.UNKNOWN), ("👍", I.UNKNOWN), ("?!", I.UNKNOWN),
        ("No", I.UNKNOWN), ("ok", I.UNKNOWN), ("1", I.UNKNOWN),
        ("c u then", I.UNKNOWN),  # a lone letter counts only alone
        ("y not", I.UNKNOWN),
        ("Start time?", I.UNKNOWN),  # opting in needs the lone keyword
        ("Yes, cancel it?", I.UNKNOWN), ("Cancel? Yes", I.UNKNOWN),  # two intents: ambiguous
        ("I will be there, see you", I.UNKNOWN), ("The END", I.UNKNOWN),
        ("S T O P", I.UNKNOWN),
    ],
)  # fmt: skip
def test_tricky_replies(body: str, intent: ReplyIntent) -> None:
    assert classify_reply(body) is intent


def test_none_and_non_latin_text_are_unknown() -> None:
    assert classify_reply(None) is I.UNKNOWN
    assert classify_reply("да") is I.UNKNOWN
    assert split_words("Ｙｅｓ, ＰＬＥＡＳＥ!") == ["yes", "please"]
    assert split_words("straße") == ["strasse"]


def test_the_clash_with_twilio_keywords_is_decided() -> None:
    # A lone CANCEL: Twilio has blocked the number, so it is an opt-out we mirror.
    assert parse_reply("cancel") == ParsedReply(I.OPT_OUT, Consent.OPT_OUT, provider_replied=True)
    # With more words Twilio does nothing, and it is the appointment.
    assert parse_reply("cancel please") == ParsedReply(I.CANCEL)
    # A lone YES confirms and re-subscribes (Twilio does), and we answer it ourselves.
    assert parse_reply("Yes") == ParsedReply(I.CONFIRM, Consent.RESUBSCRIBE)
    assert parse_reply("yes please") == ParsedReply(I.CONFIRM)  # Twilio ignores it: no consent
    assert parse_reply("Y") == ParsedReply(I.CONFIRM)  # not one of Twilio's keywords
    assert parse_reply("C") == ParsedReply(I.CANCEL)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", ParsedReply(I.OPT_OUT, Consent.OPT_OUT, provider_replied=True)),
        ("Stop texting me", ParsedReply(I.OPT_OUT, Consent.OPT_OUT)),  # Twilio: no block
        ("START", ParsedReply(I.OPT_IN, Consent.OPT_IN, provider_replied=True)),
        ("unstop", ParsedReply(I.OPT_IN, Consent.OPT_IN, provider_replied=True)),
        ("HELP", ParsedReply(I.HELP, provider_replied=True)),
        ("help me", ParsedReply(I.HELP)),
        ("nonsense", ParsedReply(I.UNKNOWN)),
    ],
)
def test_consent_and_who_answers(body: str, expected: ParsedReply) -> None:
    assert parse_reply(body) == expected


# --- which appointment ------------------------------------------------------------------


def row(id_: int, status: str, hours: int, reason: str | None = None) -> dict[str, object]:
    return {"id": id_, "status": status, "starts_at": T0 + timedelta(hours=hours),
            "cancellation_reason": reason}  # fmt: skip


def test_confirm_takes_the_soonest_booked_or_confirmed() -> None:
    plan = plan_appointment_change(I.CONFIRM, [row(1, "booked", 2), row(2, "booked", 30)])
    assert (plan.outcome, plan.appointment["id"], plan.new_status) == (  # type: ignore[index]
        ReplyOutcome.CONFIRMED, 1, "confirmed")  # fmt: skip
    again = plan_appointment_change(I.CONFIRM, [row(1, "confirmed", 2), row(2, "booked", 30)])
    assert (again.outcome, again.appointment["id"], again.new_status) == (  # type: ignore[index]
        ReplyOutcome.ALREADY_CONFIRMED, 1, None)  # fmt: skip
    after_cancel = [row(1, "cancelled", 2, CANCEL_REASON), row(2, "booked", 30)]
    plan = plan_appointment_change(I.CONFIRM, after_cancel)
    assert plan.outcome is ReplyOutcome.CONFIRMED and plan.appointment["id"] == 2  # type: ignore[index]
    none = plan_appointment_change(I.CONFIRM, [row(1, "cancelled", 2, CANCEL_REASON)])
    assert none.outcome is ReplyOutcome.NOTHING_TO_CONFIRM and none.appointment is None


def test_cancel_twice_cancels_only_one_appointment() -> None:
    first = plan_appointment_change(I.CANCEL, [row(1, "confirmed", 2), row(2, "booked", 30)])
    assert (first.outcome, first.appointment["id"], first.new_status) == (  # type: ignore[index]
        ReplyOutcome.CANCELLED, 1, "cancelled")  # fmt: skip
    repeat = [row(1, "cancelled", 2, CANCEL_REASON), row(2, "booked", 30)]
    second = plan_appointment_change(I.CANCEL, repeat)
    assert (second.outcome, second.appointment["id"], second.new_status) == (  # type: ignore[index]
        ReplyOutcome.ALREADY_CANCELLED, 1, None)  # fmt: skip
    by_staff = [row(1, "cancelled", 2, "customer called"), row(2, "booked", 30)]
    assert plan_appointment_change(I.CANCEL, by_staff).appointment["id"] == 2  # type: ignore[index]
    assert plan_appointment_change(I.CANCEL, []).outcome is ReplyOutcome.NOTHING_TO_CANCEL


def test_only_confirm_and_cancel_have_an_appointment() -> None:
    with pytest.raises(ValueError, match="not about an appointment"):
        plan_appointment_change(I.OPT_OUT, [row(1, "booked", 2)])


# --- answers ----------------------------------------------------------------------------


def test_confirmation_reads_like_the_reminders_in_local_time() -> None:
    text = build_reply_text(ReplyOutcome.CONFIRMED, business_name="Studio Nova",
                            starts_at=T0, timezone="Europe/Berlin")  # fmt: skip
    assert text == "Thanks, your appointment on Tue 24 Nov at 14:30 is confirmed. Studio Nova"
    june = T0 - timedelta(days=150)
    summer = build_reply_text(ReplyOutcome.CANCELLED, business_name="Studio Nova",
                              starts_at=june, timezone="Europe/Berlin")  # fmt: skip
    assert summer == "Your appointment on Sat 27 Jun at 15:30 is cancelled. Studio Nova"  # CEST


@pytest.mark.parametrize("outcome", list(ReplyOutcome))
def test_every_answer_is_one_plain_sms_with_the_business_name(outcome: ReplyOutcome) -> None:
    text = build_reply_text(outcome, business_name="  Studio   Nova Hair ", starts_at=T0,
                            timezone="Europe/Berlin")  # fmt: skip
    count = count_segments(text)
    assert (count.encoding, count.segments) == ("GSM-7", 1), text
    assert "Studio Nova Hair" in text and "{" not in text


def test_unknown_text_and_help_explain_the_keywords() -> None:
    help_text = build_reply_text(ReplyOutcome.HELP, business_name="Nova")
    unknown = build_reply_text(ReplyOutcome.UNRECOGNISED, business_name="Nova")
    for text in (help_text, unknown):
        assert all(word in text for word in ("YES", " C ", "STOP", "START"))
    assert unknown.startswith("Sorry") and unknown.endswith(help_text)


def test_appointment_answers_need_the_start_and_zone() -> None:
    with pytest.raises(ValueError, match="needs the appointment"):
        build_reply_text(ReplyOutcome.CONFIRMED, business_name="Nova")
    with pytest.raises(ValueError, match="tz-aware"):
        build_reply_text(ReplyOutcome.CONFIRMED, business_name="Nova",
                         starts_at=datetime(2026, 1, 1, 9), timezone="Europe/Berlin")  # fmt: skip
