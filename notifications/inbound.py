"""Inbound SMS replies (pure): what a customer's text means, what it changes, what we answer.

`parse_reply(body)` reads a reply; `classify_reply(body)` is its intent alone. The text is
read leniently: Unicode is NFKC-folded, case-folded and stripped of accents and invisible
format characters, and punctuation and emoji separate words ("STOP." = "stop", "Ｙｅｓ!" =
"yes", "opt-out" = "opt out").

A one-word reply is a keyword, as for Twilio, which acts only on one-word messages:
| word                                                       | intent   |
|------------------------------------------------------------|----------|
| STOP STOPALL UNSUBSCRIBE CANCEL END QUIT OPTOUT REVOKE     | opt_out  |
| START UNSTOP                                               | opt_in   |
| HELP INFO                                                  | help     |
| YES Y CONFIRM CONFIRMED                                    | confirm  |
| C                                                          | cancel   |

The clash with Twilio's keywords, decided deliberately:
- A lone CANCEL is an opt-out, not an appointment cancel: Twilio has already blocked the
  number when we see it, so we mirror that (no reminder could reach them anyway). To cancel
  an appointment, customers reply C, which Twilio ignores.
- A lone YES confirms the next appointment and, since Twilio re-subscribes a number that
  texts YES, also records SMS consent again for a customer who had opted out
  (`ParsedReply.consent` is RESUBSCRIBE); a customer who never consented stays as they are.

Longer replies, read more carefully:
- Any of STOP, STOPALL, UNSUBSCRIBE, OPTOUT, REVOKE or "opt out" anywhere is an opt-out
  ("Please stop texting me"): a wrong opt-out costs a reminder, a missed one breaks the law.
- Otherwise the first word decides: YES, CONFIRM or CONFIRMED confirm ("Yes please"),
  CANCEL cancels the appointment ("Cancel my appointment": Twilio does not block on it),
  HELP or INFO ask for help. A later word of the other appointment intent makes the reply
  unknown ("Yes, cancel it?"): nothing changes on an ambiguous text, we answer with help.
- Single letters count only alone ("c u then" is not a cancel), and START only alone
  (consent must be explicit; "Start time?" is a question).

`provider_replied` is true for the lone keywords Twilio answers itself (opt-out, START,
UNSTOP, HELP, INFO): the webhook then sends no reply of its own, so nobody gets two.

`plan_appointment_change` picks the appointment a confirm or cancel applies to and the
outcome; `build_reply_text` words the answer (short, plain, GSM-7, nothing the customer
does not already know: the business's name and their own appointment's local date).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from notifications.templates import build_variables

#: The appointments.cancellation_reason of a cancel by reply (also how a repeat is spotted).
CANCEL_REASON = "cancelled by SMS reply"


class ReplyIntent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    CONFIRM = "confirm"
    CANCEL = "cancel"
    UNKNOWN = "unknown"


class Consent(StrEnum):
    """The SMS consent change a reply asks for."""

    OPT_OUT = "opt_out"  # every matching customer: consent off
    OPT_IN = "opt_in"  # every matching customer: consent on
    RESUBSCRIBE = "resubscribe"  # consent on again, only for customers who had opted out


class ReplyOutcome(StrEnum):
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    HELP = "help"
    UNRECOGNISED = "unrecognised"  # answered with the help text
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"
    NOTHING_TO_CONFIRM = "nothing_to_confirm"
    CANCELLED = "cancelled"
    ALREADY_CANCELLED = "already_cancelled"
    NOTHING_TO_CANCEL = "nothing_to_cancel"
    UNKNOWN_SENDER = "unknown_sender"


@dataclass(frozen=True)
class ParsedReply:
    intent: ReplyIntent
    consent: Consent | None = None
    provider_replied: bool = False  # Twilio auto-answers this lone keyword itself


OPT_OUT_WORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"}
)
STRONG_OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "optout", "revoke"})
OPT_IN_WORDS = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help", "info"})
CONFIRM_WORDS = frozenset({"yes", "confirm", "confirmed"})
SINGLE_WORDS: dict[str, ReplyIntent] = {
    **dict.fromkeys(OPT_OUT_WORDS, ReplyIntent.OPT_OUT),
    **dict.fromkeys(OPT_IN_WORDS, ReplyIntent.OPT_IN),
    **dict.fromkeys(HELP_WORDS, ReplyIntent.HELP),
    **dict.fromkeys(CONFIRM_WORDS | {"y"}, ReplyIntent.CONFIRM),
    "c": ReplyIntent.CANCEL,
}
LEADING_WORDS: dict[str, ReplyIntent] = {
    **dict.fromkeys(CONFIRM_WORDS, ReplyIntent.CONFIRM),
    "cancel": ReplyIntent.CANCEL,
    **dict.fromkeys(HELP_WORDS, ReplyIntent.HELP),
}
_CONSENT = {ReplyIntent.OPT_OUT: Consent.OPT_OUT, ReplyIntent.OPT_IN: Consent.OPT_IN}


def split_words(body: str | None) -> list[str]:
    """The reply's words: NFKC, case-folded, accents and format characters dropped,
    anything but letters and digits a separator."""
    text = unicodedata.normalize("NFKC", body or "").casefold()
    text = unicodedata.normalize("NFKD", text)
    kept = (ch for ch in text if unicodedata.category(ch) not in ("Mn", "Cf"))
    return "".join(ch if ch.isalnum() else " " for ch in kept).split()


def parse_reply(body: str | None) -> ParsedReply:
    """The intent, consent change and Twilio's own handling of a reply (module docstring)."""
    words = split_words(body)
    if len(words) == 1:
        return _parse_keyword(words[0])
    if STRONG_OPT_OUT_WORDS & set(words) or _has_phrase(words, ("opt", "out")):
        return ParsedReply(ReplyIntent.OPT_OUT, Consent.OPT_OUT)
    intent = LEADING_WORDS.get(words[0]) if words else None
    if intent is None:
        return ParsedReply(ReplyIntent.UNKNOWN)
    later = {LEADING_WORDS[word] for word in words[1:] if word in LEADING_WORDS}
    if intent is not ReplyIntent.HELP and later - {intent, ReplyIntent.HELP}:
        return ParsedReply(ReplyIntent.UNKNOWN)
    return ParsedReply(intent)


def _parse_keyword(word: str) -> ParsedReply:
    intent = SINGLE_WORDS.get(word, ReplyIntent.UNKNOWN)
    twilio_answers = word in OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS
    consent = Consent.RESUBSCRIBE if word == "yes" else _CONSENT.get(intent)
    return ParsedReply(intent, consent, provider_replied=twilio_answers)


def _has_phrase(words: Sequence[str], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tuple(words[i : i + size]) == phrase for i in range(len(words) - size + 1))


def classify_reply(body: str | None) -> ReplyIntent:
    """The reply's intent alone (see `parse_reply`)."""
    return parse_reply(body).intent


# --- which appointment, and what becomes of it ----------------------------------------


@dataclass(frozen=True)
class AppointmentPlan:
    outcome: ReplyOutcome
    appointment: Mapping[str, Any] | None = None  # the one the reply is about
    new_status: str | None = None  # None: nothing to write


def plan_appointment_change(
    intent: ReplyIntent, upcoming: Sequence[Mapping[str, Any]]
) -> AppointmentPlan:
    """What a confirm or cancel does to the customer's upcoming appointments.

    `upcoming`: mappings with id, status, starts_at and cancellation_reason, soonest
    first, that start after now and are booked, confirmed, or cancelled by an earlier
    reply (CANCEL_REASON). A confirm is about the soonest booked or confirmed one: booked
    becomes confirmed, confirmed is left as it is. A cancel is about the soonest of them
    all: booked or confirmed becomes cancelled; one already cancelled by a reply means
    this is a repeat, and the next appointment is left alone. So the same reply twice
    changes nothing the second time.
    """
    if intent is ReplyIntent.CONFIRM:
        active = [row for row in upcoming if row["status"] in ("booked", "confirmed")]
        if not active:
            return AppointmentPlan(ReplyOutcome.NOTHING_TO_CONFIRM)
        if active[0]["status"] == "confirmed":
            return AppointmentPlan(ReplyOutcome.ALREADY_CONFIRMED, active[0])
        return AppointmentPlan(ReplyOutcome.CONFIRMED, active[0], "confirmed")
    if intent is ReplyIntent.CANCEL:
        candidates = [row for row in upcoming if _cancellable_or_repeat(row)]
        if not candidates:
            return AppointmentPlan(ReplyOutcome.NOTHING_TO_CANCEL)
        if candidates[0]["status"] == "cancelled":
            return AppointmentPlan(ReplyOutcome.ALREADY_CANCELLED, candidates[0])
        return AppointmentPlan(ReplyOutcome.CANCELLED, candidates[0], "cancelled")
    raise ValueError(f"{intent} is not about an appointment")


def _cancellable_or_repeat(row: Mapping[str, Any]) -> bool:
    if row["status"] in ("booked", "confirmed"):
        return True
    return row["status"] == "cancelled" and row.get("cancellation_reason") == CANCEL_REASON


# --- the answer -------------------------------------------------------------------------

_HELP = ("{business}: reply YES to confirm or C to cancel your next appointment, STOP to "
         "stop texts, START to get them again.")  # fmt: skip
_TEXTS: dict[ReplyOutcome, str] = {
    ReplyOutcome.OPTED_OUT: "You will get no more texts from {business}. Reply START to undo.",
    ReplyOutcome.OPTED_IN: "You will get texts from {business} again. Reply STOP to stop them.",
    ReplyOutcome.HELP: _HELP,
    ReplyOutcome.UNRECOGNISED: "Sorry, we did not understand. " + _HELP,
    ReplyOutcome.CONFIRMED: "Thanks, your appointment on {when} is confirmed. {business}",
    ReplyOutcome.ALREADY_CONFIRMED: "Your appointment on {when} is already confirmed. {business}",
    ReplyOutcome.NOTHING_TO_CONFIRM: "{business}: we found no upcoming appointment to confirm.",
    ReplyOutcome.CANCELLED: "Your appointment on {when} is cancelled. {business}",
    ReplyOutcome.ALREADY_CANCELLED: "Your appointment on {when} is already cancelled. {business}",
    ReplyOutcome.NOTHING_TO_CANCEL: "{business}: we found no upcoming appointment to cancel.",
    ReplyOutcome.UNKNOWN_SENDER: "{business}: we found no booking for this number. "
    "Please contact us directly.",
}
_NEEDS_WHEN = frozenset({ReplyOutcome.CONFIRMED, ReplyOutcome.ALREADY_CONFIRMED,
                         ReplyOutcome.CANCELLED, ReplyOutcome.ALREADY_CANCELLED})  # fmt: skip


def build_reply_text(
    outcome: ReplyOutcome,
    *,
    business_name: str,
    starts_at: datetime | None = None,
    timezone: str | None = None,
) -> str:
    """The answer to send for `outcome`. Appointment outcomes need `starts_at` (tz-aware)
    and the business's `timezone`: the date reads as in reminders ("Tue 24 Nov at 14:30",
    local time, DST honoured). Raises ValueError when they are missing."""
    when = ""
    if outcome in _NEEDS_WHEN:
        if starts_at is None or not timezone:
            raise ValueError(f"the {outcome} reply needs the appointment's start and zone")
        local = build_variables({"starts_at": starts_at}, {"timezone": timezone})
        when = f"{local['date']} at {local['time']}"
    business = " ".join(business_name.split())
    return _TEXTS[outcome].format(business=business, when=when)
