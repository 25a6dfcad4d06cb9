"""Which sender each channel uses, chosen from the settings - and, for the UI, why.

`build_senders(settings, is_demo=...)` picks, per channel:
- "sms": Twilio when the Twilio settings are complete (account SID, auth token, and a
  From number or Messaging Service SID; the service wins when both are set);
- "email": SMTP when `smtp_host` and `smtp_from` are set;
- otherwise no sender: the channel's messages are HELD in the outbox (queued; the
  dispatcher claims only channels it has a sender for) and go out once the provider is
  configured. Nothing leaves this machine, and nothing is lost or marked sent.
A demo business ALWAYS gets the console sender on every channel, whatever is configured:
a demo must never message real people, and its outbox shows the messages "sent" by the
console. A configuration the adapter refuses (an invalid From address, a missing Twilio
module) holds the channel too, and the path text says why. `paths` holds one
human-readable line per channel for the UI, e.g. "SMS: Twilio (from +4930123456)"; it
never contains a secret. Never raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from notifications.console import ConsoleSender
from notifications.providers import Sender
from settings import Settings

CHANNEL_LABELS = {"sms": "SMS", "email": "E-mail"}
OFFLINE = "held in the outbox - nothing leaves this machine until a provider is set up"
DEMO = "console only - nothing leaves this machine"


@dataclass(frozen=True)
class Senders:
    """`by_channel`: the sender per channel ("sms", "email"); `paths`: per channel, the
    UI text naming the path in use and, for the offline path, why."""

    by_channel: dict[str, Sender]
    paths: dict[str, str]

    @property
    def offline_channels(self) -> list[str]:
        """Channels whose messages stay on this machine (held, or the console sender)."""
        return [
            channel for channel in CHANNEL_LABELS
            if channel not in self.by_channel
            or isinstance(self.by_channel[channel], ConsoleSender)
        ]  # fmt: skip


def build_senders(settings: Settings, *, is_demo: bool) -> Senders:
    """The senders for one business; see the module docstring."""
    if is_demo:
        console = ConsoleSender()
        why = "demo business: a demo never messages real people"
        return Senders(
            by_channel=dict.fromkeys(CHANNEL_LABELS, console),
            paths={ch: f"{CHANNEL_LABELS[ch]}: {DEMO} ({why})" for ch in CHANNEL_LABELS},
        )
    chosen = {"sms": _build_sms(settings), "email": _build_email(settings)}
    by_channel: dict[str, Sender] = {}
    paths: dict[str, str] = {}
    for channel, (sender, path) in chosen.items():
        if sender is not None:
            by_channel[channel] = sender
        paths[channel] = path
    return Senders(by_channel=by_channel, paths=paths)


def _offline_path(channel: str, why: str) -> str:
    return f"{CHANNEL_LABELS[channel]}: {OFFLINE} ({why})"


def _build_sms(settings: Settings) -> tuple[Sender | None, str]:
    """(TwilioSender, path) or (None, the offline path and why)."""
    missing = _missing_twilio(settings)
    if len(missing) == 3:
        return None, _offline_path("sms", "Twilio not configured")
    if missing:
        return None, _offline_path("sms", f"Twilio settings incomplete: {', '.join(missing)}")
    sid, service = settings.twilio_account_sid or "", settings.twilio_messaging_service_sid
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    origin = {"messaging_service_sid": service} if service else {
        "from_number": settings.twilio_from_number}  # fmt: skip
    try:
        from notifications.twilio_sms import TwilioSender  # lazy: the SDK loads only when used

        sender = TwilioSender(sid, token, **origin)
    except (ImportError, ValueError) as exc:
        return None, _offline_path("sms", f"Twilio adapter unavailable: {type(exc).__name__}")
    via = f"Messaging Service {service}" if service else f"from {settings.twilio_from_number}"
    return sender, f"SMS: Twilio ({via})"


def _missing_twilio(settings: Settings) -> list[str]:
    """The names of the missing Twilio settings (all three when none is set)."""
    origin = settings.twilio_from_number or settings.twilio_messaging_service_sid
    required = {
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
        "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID": origin,
    }
    return [f"{name} missing" for name, value in required.items() if not value]


def _build_email(settings: Settings) -> tuple[Sender | None, str]:
    """(SmtpSender, path) or (None, the offline path and why)."""
    if not (settings.smtp_host and settings.smtp_from):
        names = {"SMTP_HOST": settings.smtp_host, "SMTP_FROM": settings.smtp_from}
        missing = [name for name, value in names.items() if not value]
        why = "SMTP not configured" if len(missing) == 2 else f"{missing[0]} missing"
        return None, _offline_path("email", why)
    from notifications.smtp_email import SmtpSender

    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        sender = SmtpSender(
            settings.smtp_host,
            settings.smtp_port,
            from_address=settings.smtp_from,
            username=settings.smtp_username,
            password=password,
            starttls=settings.smtp_starttls,
        )
    except ValueError:
        return None, _offline_path("email", "SMTP_FROM is not an e-mail address")
    tls = "STARTTLS" if settings.smtp_starttls else "no TLS"
    where = f"{settings.smtp_host}:{settings.smtp_port}, {tls}, from {settings.smtp_from}"
    return sender, f"E-mail: SMTP ({where})"
