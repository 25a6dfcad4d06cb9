"""The offline default provider: NOTHING LEAVES THIS MACHINE.

`ConsoleSender` "sends" by logging a one-line summary (message id, channel, length) -
never the recipient or the body, so no personal data reaches the logs - and returns a
made-up provider id "console-<uuid>". The outbox row then reads sent by "console", which
means: recorded here only, no SMS or e-mail was delivered to anyone.
"""

from __future__ import annotations

import logging
import uuid

from notifications.providers import OutgoingMessage, SendResult

log = logging.getLogger("slotboard.notifications.console")


class ConsoleSender:
    """Offline stand-in for SMS and e-mail: logs a summary, delivers nothing.

    Nothing leaves the machine; no recipient or body is logged. Returns
    SendResult("console-<uuid>"). `sent` counts the calls (for tests and benches).
    """

    name = "console"
    description = "Console (offline): nothing leaves this machine; messages are only logged."

    def __init__(self) -> None:
        self.sent = 0

    def send(self, message: OutgoingMessage) -> SendResult:
        self.sent += 1
        provider_id = f"console-{uuid.uuid4()}"
        log.info(
            "not delivered (console provider, nothing left this machine): message %s, %s, "
            "%d characters, attempt %d -> %s",
            message.id, message.channel, len(message.body), message.attempt, provider_id,
        )  # fmt: skip
        return SendResult(provider_id)
