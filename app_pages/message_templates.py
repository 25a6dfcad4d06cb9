"""Message templates (owner, staff): edit the business's SMS and e-mail templates with a
live preview on real data, add A/B variants and switch them on or off. Owners also edit
the automatic reminder rules; staff see them read-only. Checks, conversions and writes
live in ui/templates_data.py, rendering in notifications.templates."""

from __future__ import annotations

from typing import Any

import streamlit as st

from auth.roles import Permission
from data.types import utcnow
from notifications.rules import MAX_RULES, RuleSetting
from notifications.senders import CHANNEL_LABELS
from notifications.sms import count_segments
from notifications.templates import (
    DEFAULT_TEMPLATES,
    TEMPLATE_KINDS,
    TemplateProblem,
    render_template,
)
from ui import templates_data as td
from ui.session import after_write, current_business, get_engine, require_permission, show_flash

NEW = "new"
PICK_NEXT = "mt_pick_next"  # the variant to select on the next run (after creating it)


def render_overview(templates: list[dict[str, Any]]) -> None:
    st.dataframe(td.build_template_table(templates, tz=BUSINESS["timezone"]), hide_index=True)
    for kind, channel in td.find_unsendable(templates):
        st.warning(f"No active {td.describe_pair(kind, channel)} template: such messages "
                   "cannot be sent (they are skipped as 'no active template').")  # fmt: skip


def pick(templates: list[dict[str, Any]]) -> tuple[str, str, str, dict[str, Any] | None]:
    """Kind, channel and variant picked, and the stored template (None: a new variant)."""
    top = st.columns(3)
    kind = top[0].selectbox("Kind", list(TEMPLATE_KINDS), format_func=td.KIND_LABELS.__getitem__,
                            key="mt_kind") or TEMPLATE_KINDS[0]  # fmt: skip
    channel = top[1].radio("Channel", list(CHANNEL_LABELS), format_func=CHANNEL_LABELS.__getitem__,
                           horizontal=True, key="mt_channel") or "sms"  # fmt: skip
    stored = {t["variant"]: t for t in templates if (t["kind"], t["channel"]) == (kind, channel)}
    new = td.next_variant(templates, kind, channel)
    options = [*stored, *([NEW] if new else [])]
    key = f"mt_variant_{kind}_{channel}"
    if st.session_state.get(PICK_NEXT) in options:
        st.session_state[key] = st.session_state.pop(PICK_NEXT)

    def label(option: str) -> str:
        if option == NEW:
            return f"New variant {new}"
        state = "active" if stored[option]["is_active"] else "off"
        return f"{option} – {stored[option]['name']} ({state})"

    variant = top[2].selectbox("Variant", options, format_func=label, key=key) or options[0]
    return kind, channel, (new or "") if variant == NEW else variant, stored.get(variant)


def render_editor(
    kind: str, channel: str, variant: str, template: dict[str, Any] | None
) -> td.Draft:
    shipped = DEFAULT_TEMPLATES[kind, channel]
    start = template or {"id": None, "name": f"{shipped.name} {variant}",
                         "subject": shipped.subject, "body": shipped.body}  # fmt: skip
    slot = start["id"] or f"new_{kind}_{channel}_{variant}"
    name = st.text_input("Name", value=start["name"], key=f"mt_name_{slot}")
    subject = None
    if channel == "email":
        subject = st.text_input("Subject", value=start["subject"] or "", key=f"mt_subject_{slot}")
    body = st.text_area("Message", value=start["body"], height=220, key=f"mt_body_{slot}")
    return td.Draft(start["id"], kind, channel, variant, name, subject, body)


def render_preview(draft: td.Draft) -> None:
    preview = td.load_preview_data(ACTOR, ENGINE, business=BUSINESS, kind=draft.kind, now=utcnow())
    st.markdown("**Preview**")
    st.caption(preview.source)
    try:
        rendered = render_template(draft.body, preview.variables, subject=draft.subject)
    except TemplateProblem as exc:
        st.error(f"The preview cannot be rendered: {exc}")
        return
    if rendered.subject is not None:
        st.text(f"Subject: {rendered.subject}")
    st.text(rendered.body)
    if draft.channel == "sms":
        count = count_segments(rendered.body)
        st.caption(f"{count.characters} characters, {count.encoding}: {count.segments} "
                   f"SMS segment(s) of up to {count.per_segment} characters.")  # fmt: skip


def render_save(draft: td.Draft, template: dict[str, Any] | None) -> None:
    problems = td.check_draft(draft)
    if problems:
        st.error("Not saved until fixed:\n" + "\n".join(f"- {p}" for p in problems))
    if not st.button("Save", type="primary", key="mt_save", disabled=bool(problems)):
        return
    if problems:
        return
    if td.is_unchanged(template, draft):
        st.info("No change: this template is saved as it is.")
        return
    try:
        td.save_draft(ACTOR, ENGINE, draft)
    except ValueError as exc:
        st.error(f"Not saved: {exc}")
        return
    st.session_state[PICK_NEXT] = draft.variant
    after_write(f"Saved variant {draft.variant} of {td.describe_pair(draft.kind, draft.channel)}.")
    st.rerun()


def render_switch(templates: list[dict[str, Any]], template: dict[str, Any] | None) -> None:
    if template is None:
        return
    on = bool(template["is_active"])
    last = td.is_last_active(templates, template)
    if st.button("Switch off" if on else "Switch on", key="mt_switch", disabled=last):
        try:
            td.switch_active(ACTOR, ENGINE, template_id=template["id"], is_active=not on)
        except ValueError as exc:
            st.error(f"Not switched off: {exc}")
            return
        after_write(f"Variant {template['variant']} is now {'off' if on else 'on'}.")
        st.rerun()
    if last:
        st.caption("The only active variant of this kind and channel stays on: switch another "
                   "variant on first, or these messages could not be sent.")  # fmt: skip
    elif on:
        st.caption("Active variants share the messages at random, recorded per message.")


def render_templates() -> None:
    st.subheader("Templates")
    templates = td.load_templates(ACTOR, ENGINE)
    render_overview(templates)
    kind, channel, variant, template = pick(templates)
    left, right = st.columns(2)
    with left:
        draft = render_editor(kind, channel, variant, template)
        render_save(draft, template)
        render_switch(templates, template)
    with right:
        render_preview(draft)
        st.markdown("**Variables you can use**\n\n" + "\n".join(
            f"- {line}" for line in td.describe_variables(kind)))  # fmt: skip


def render_rule_rows(settings: list[RuleSetting]) -> list[td.RuleRow]:
    rows = []
    for number in range(1, MAX_RULES + 1):
        rule = settings[number - 1] if number <= len(settings) else None
        cells = st.columns([2, 2, 1])
        channel = cells[0].selectbox(
            f"Rule {number}", ["", *CHANNEL_LABELS], key=f"mt_rule_channel_{number}",
            index=0 if rule is None else 1 + list(CHANNEL_LABELS).index(rule.channel),
            format_func=lambda c: CHANNEL_LABELS.get(c, "(not used)"),
        )  # fmt: skip
        hours = cells[1].number_input(
            "Hours before", min_value=0.25, max_value=336.0, step=0.25, format="%.2f",
            value=24.0 if rule is None else rule.offset_minutes / 60, key=f"mt_rule_hours_{number}",
        )  # fmt: skip
        active = cells[2].checkbox("Active", value=rule is None or rule.active,
                                   key=f"mt_rule_active_{number}")  # fmt: skip
        rows.append((channel or None, float(hours), bool(active)))
    return rows


def render_rules() -> None:
    st.subheader("Automatic reminder rules")
    st.caption("A whole number of days (24, 48 h ...) keeps the appointment's local time, "
               "so across a DST change \"24 h before\" is 23 or 25 real hours. Quiet hours "
               "may move a reminder earlier, or later if that is too late.")  # fmt: skip
    try:
        settings = td.load_rule_settings(BUSINESS)
    except ValueError as exc:
        st.error(f"The stored reminder rules cannot be read: {exc}")
        settings = []
    lines = [f"- {td.describe_rule(s)}" for s in settings]
    st.markdown("\n".join(lines) or "No reminder rules.")
    if not ACTOR.can(Permission.MANAGE_BUSINESS):
        st.caption("Read-only: only owners can change the reminder rules.")
    else:
        rows = render_rule_rows(settings)
        if st.button("Save reminder rules", key="mt_rules_save"):
            try:
                changed = td.save_rules(ACTOR, ENGINE, rows)
            except ValueError as exc:
                st.error(f"Not saved: {exc}")
            else:
                if changed:
                    after_write("Reminder rules saved. The change is in the audit log.")
                    st.rerun()
                st.info("No change: these are the rules already.")
    st.info(td.describe_risk_rule())


ACTOR = require_permission(Permission.MANAGE_BOOKINGS)
ENGINE, BUSINESS = get_engine(), current_business(ACTOR)
st.title("Message templates")
show_flash()
render_templates()
render_rules()
