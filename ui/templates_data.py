"""Glue behind the Message templates page: the business's templates (the shipped defaults
added when missing), a draft's problems and its "no change" check, the preview variables
(the next upcoming appointment, else sample data), saving and switching variants on and
off, and the automatic reminder rules as form rows. Not cached: every read is small and a
save must show at once. Writes run in their own short transactions.

Policy for switching off: the last active variant of a kind and channel cannot be switched
off (`switch_active` refuses in the same transaction), because reminders of that kind and
channel would then be skipped as "no active template". Should it happen anyway (two
screens at once), `find_unsendable` names the pair and the page warns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from string import ascii_uppercase
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from auth.roles import Actor
from data.business import save_reminder_rules
from data.db import read_conn, write_tx
from data.reminders import load_reminder_inputs
from data.templates import (
    MAX_NAME_LENGTH,
    ensure_default_templates,
    list_templates,
    save_template,
    set_template_active,
)
from notifications.planning import UPCOMING_STATUSES
from notifications.reminders import RISK_RULE
from notifications.rules import RuleSetting, dump_rule_settings, parse_rule_settings
from notifications.senders import CHANNEL_LABELS
from notifications.templates import (
    KIND_VARIABLES,
    SAMPLE_VARIABLES,
    TEMPLATE_CHANNELS,
    TEMPLATE_KINDS,
    VARIABLES,
    build_variables,
    check_template,
)

KIND_LABELS = {"reminder": "Reminder", "confirmation": "Confirmation",
               "cancellation": "Cancellation", "win_back": "Win-back"}  # fmt: skip
PREVIEW_DAYS = 14
TABLE_COLUMNS = {"kind": "Kind", "channel": "Channel", "variant": "Variant", "name": "Name",
                 "is_active": "Active", "updated_at": "Updated"}  # fmt: skip
RuleRow = tuple[str | None, float, bool]  # channel (None: row unused), hours before, active


@dataclass(frozen=True)
class Draft:
    """A template as edited on the page; template_id None for a new variant."""

    template_id: int | None
    kind: str
    channel: str
    variant: str
    name: str
    subject: str | None
    body: str


@dataclass(frozen=True)
class PreviewData:
    """Variables for the preview and a sentence saying where they come from."""

    variables: dict[str, str]
    source: str
    is_sample: bool


def describe_pair(kind: str, channel: str) -> str:
    """ "Reminder by SMS"."""
    return f"{KIND_LABELS[kind]} by {CHANNEL_LABELS[channel]}"


def load_templates(actor: Actor, engine: Engine) -> list[dict[str, Any]]:
    """Every template of the business, active or not, the shipped defaults added first."""
    with write_tx(engine) as conn:
        ensure_default_templates(conn, actor=actor)
        return list_templates(conn, actor=actor)


def build_template_table(templates: Sequence[dict[str, Any]], *, tz: str) -> pd.DataFrame:
    """One row per template, grouped by kind and channel (in TEMPLATE_KINDS and
    TEMPLATE_CHANNELS order), then by variant; the update time local to `tz`."""
    table = pd.DataFrame(list(templates), columns=list(TABLE_COLUMNS))
    table["kind_order"] = table["kind"].map(TEMPLATE_KINDS.index)
    table["channel_order"] = table["channel"].map(TEMPLATE_CHANNELS.index)
    table = table.sort_values(["kind_order", "channel_order", "variant"])
    table = table.drop(columns=["kind_order", "channel_order"])
    table["updated_at"] = pd.to_datetime(table["updated_at"], utc=True).dt.tz_convert(tz)
    table["kind"] = table["kind"].map(KIND_LABELS)
    table["channel"] = table["channel"].map(CHANNEL_LABELS)
    return table.rename(columns=TABLE_COLUMNS).reset_index(drop=True)


def next_variant(templates: Sequence[dict[str, Any]], kind: str, channel: str) -> str | None:
    """The first letter A-Z no variant of this kind and channel uses; None if all are."""
    used = {t["variant"] for t in templates if (t["kind"], t["channel"]) == (kind, channel)}
    return next((letter for letter in ascii_uppercase if letter not in used), None)


def find_unsendable(templates: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(kind, channel) pairs with no active variant: their messages cannot be sent."""
    active = {(t["kind"], t["channel"]) for t in templates if t["is_active"]}
    return [(k, c) for k in TEMPLATE_KINDS for c in TEMPLATE_CHANNELS if (k, c) not in active]


def is_last_active(templates: Sequence[dict[str, Any]], template: dict[str, Any]) -> bool:
    """Whether `template` is the only active variant of its kind and channel."""
    pair = (template["kind"], template["channel"])
    others = [t for t in templates if (t["kind"], t["channel"]) == pair and t["is_active"]
              and t["id"] != template["id"]]  # fmt: skip
    return bool(template["is_active"]) and not others


def check_draft(draft: Draft) -> list[str]:
    """Every problem that keeps the draft from being saved (check_template's and the
    name's); empty when it can be saved."""
    problems = []
    if not 1 <= len(draft.name.strip()) <= MAX_NAME_LENGTH:
        problems.append(f"name must have 1 to {MAX_NAME_LENGTH} characters")
    return problems + check_template(draft.kind, draft.channel, draft.body, draft.subject)


def is_unchanged(template: dict[str, Any] | None, draft: Draft) -> bool:
    """Whether saving the draft would store what `template` holds already (the name and
    subject compared as save_template stores them: stripped; no subject for an SMS)."""
    if template is None:
        return False
    subject = ((draft.subject or "").strip() or None) if draft.channel == "email" else None
    stored = (template["name"], template["subject"], template["body"])
    return stored == (draft.name.strip(), subject, draft.body)


def save_draft(actor: Actor, engine: Engine, draft: Draft) -> int:
    """Create or update the template; its id. ValueError listing the problems."""
    with write_tx(engine) as conn:
        return save_template(
            conn, actor=actor, template_id=draft.template_id, kind=draft.kind,
            channel=draft.channel, variant=draft.variant, name=draft.name,
            subject=draft.subject, body=draft.body,
        )  # fmt: skip


def switch_active(actor: Actor, engine: Engine, *, template_id: int, is_active: bool) -> bool:
    """Switch a variant on or off; whether it changed. ValueError for switching off the
    last active variant of its kind and channel (see the module docstring)."""
    with write_tx(engine) as conn:
        templates = list_templates(conn, actor=actor)
        template = next((t for t in templates if t["id"] == template_id), None)
        if not is_active and template is not None and is_last_active(templates, template):
            raise ValueError(
                f"variant {template['variant']} is the only active "
                f"{describe_pair(template['kind'], template['channel'])} template; "
                "switch another variant on first"
            )
        return set_template_active(conn, actor=actor, template_id=template_id,
                                   is_active=is_active)  # fmt: skip


def describe_variables(kind: str) -> list[str]:
    """ "`{{ first_name }}`: the customer's first name ..." for each variable of `kind`."""
    return [
        f"`{{{{ {name} }}}}`: {text}" for name, text in VARIABLES.items()
        if name in KIND_VARIABLES[kind]
    ]  # fmt: skip


def load_preview_data(
    actor: Actor, engine: Engine, *, business: dict[str, Any], kind: str, now: datetime
) -> PreviewData:
    """Variables of the business's next upcoming (booked or confirmed) appointment in the
    next PREVIEW_DAYS days; win-back gets only the contact variables of its customer.
    Without one: SAMPLE_VARIABLES, said so in `source`."""
    with read_conn(engine) as conn:
        inputs = load_reminder_inputs(
            conn, actor=actor, start=now, end=now + timedelta(days=PREVIEW_DAYS)
        )
    upcoming = [row for row in inputs.appointments if row["status"] in UPCOMING_STATUSES]
    allowed = KIND_VARIABLES[kind]
    if not upcoming:
        sample = {name: value for name, value in SAMPLE_VARIABLES.items() if name in allowed}
        return PreviewData(sample, f"Sample data: no upcoming appointment in the next "
                                   f"{PREVIEW_DAYS} days.", is_sample=True)  # fmt: skip
    first = upcoming[0]
    customer = inputs.customers.get(first["customer_id"], {})
    variables = build_variables({**first, "first_name": customer.get("first_name")}, business)
    if "date" not in allowed:  # win-back: no appointment, only who and from where
        contact = {name: value for name, value in variables.items() if name in allowed}
        return PreviewData(contact, "Real data: the customer of the next upcoming "
                                    "appointment.", is_sample=False)  # fmt: skip
    when = f"{variables['date']}, {variables['time']}"
    return PreviewData(variables, f"Real data: the next upcoming appointment ({when}).",
                       is_sample=False)  # fmt: skip


def load_rule_settings(business: dict[str, Any]) -> list[RuleSetting]:
    """The business's reminder rules; ValueError if the stored value is unreadable."""
    return parse_rule_settings(business["reminder_rules"])


def describe_rule(setting: RuleSetting) -> str:
    """ "24 h before by SMS (same local time the day before, across DST too)", " (off)"."""
    text = setting.label
    if setting.offset_minutes % 1440 == 0:
        text += " (the same local time, across DST too)"
    return text + ("" if setting.active else " (off)")


def build_rule_settings(rows: Sequence[RuleRow]) -> list[RuleSetting]:
    """The rules of the used rows (hours rounded to whole minutes), checked by
    parse_rule_settings: ValueError with its message, "rule N" being the row's number
    on the page (unused rows count too)."""
    used = [number for number, row in enumerate(rows, start=1) if row[0]]
    settings = [RuleSetting(channel, round(hours * 60), bool(active))
                for channel, hours, active in rows if channel]  # fmt: skip
    try:
        return parse_rule_settings(dump_rule_settings(settings))
    except ValueError as exc:
        found = re.match(r"rule (\d+):", str(exc))
        if found is None:
            raise
        row = used[int(found.group(1)) - 1]
        raise ValueError(f"rule {row}:{str(exc)[found.end() :]}") from None


def save_rules(actor: Actor, engine: Engine, rows: Sequence[RuleRow]) -> bool:
    """Check and save the rows as the business's reminder rules (owners); whether they
    changed. ValueError as build_rule_settings; PermissionDenied for other roles."""
    settings = build_rule_settings(rows)
    with write_tx(engine) as conn:
        return save_reminder_rules(conn, actor=actor, rules=settings)


def describe_risk_rule() -> str:
    """The extra reminder for high no-show risk, in one sentence."""
    hours = RISK_RULE.offset / timedelta(hours=1)
    return (
        f"Besides these rules, appointments with a high no-show risk (see Retention) get one "
        f"extra {CHANNEL_LABELS[RISK_RULE.channel]} {hours:g} h before, with the reminder "
        "template, unless a rule above sends that one already. It is not editable here."
    )
