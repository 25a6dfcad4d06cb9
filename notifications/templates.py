"""Message templates (pure): variables, shipped defaults, sandboxed rendering, checks,
preview variables and A/B variant assignment.

Templates are Jinja2, compiled in a `SandboxedEnvironment` with `StrictUndefined`, no
autoescaping (SMS and plain-text e-mail) and no globals. On top of the sandbox, a template
may only use the message variables, `if`/`elif`/`else`, comparisons, tests, `~`
concatenation and the filters in SAFE_FILTERS: no loops, assignments, macros, calls,
attribute or item access, arithmetic or imports. So a user-edited template can neither
reach Python internals nor run long or grow a huge string: rendering is linear in the
template and its variables. Every refusal is a TemplateProblem (a ValueError).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.defaults import DEFAULT_FILTERS
from jinja2.environment import Template
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from notifications.sms import count_segments

TEMPLATE_KINDS = ("reminder", "confirmation", "cancellation", "win_back")
TEMPLATE_CHANNELS = ("sms", "email")
VARIABLES: dict[str, str] = {
    "first_name": "the customer's first name ('there' when unknown)",
    "service": "the booked service's name",
    "staff": "the staff member's name",
    "date": "the appointment's local date in the business's zone, e.g. 'Tue 24 Nov'",
    "time": "the appointment's local start time (24-hour), e.g. '14:30'",
    "business_name": "the business's name",
    "confirm_instructions": "how to confirm (text or a link the business configures)",
    "cancel_instructions": "how to cancel or reschedule (text or a link)",
}
_CONTACT = ("first_name", "business_name", "confirm_instructions", "cancel_instructions")
KIND_VARIABLES: dict[str, frozenset[str]] = {
    "reminder": frozenset(VARIABLES),
    "confirmation": frozenset(VARIABLES),
    "cancellation": frozenset(VARIABLES),
    "win_back": frozenset(_CONTACT),  # no appointment: no service, staff, date or time
}
SAMPLE_VARIABLES: dict[str, str] = {
    "first_name": "Alexandra", "service": "Haircut & blow-dry", "staff": "Maria",
    "date": "Tue 24 Nov", "time": "14:30", "business_name": "Studio Nova Hair",
    "confirm_instructions": "Reply YES to confirm.", "cancel_instructions": "Reply C to cancel.",
}  # fmt: skip
SAFE_FILTERS = ("capitalize", "d", "default", "lower", "title", "trim", "truncate", "upper")
MAX_SMS_SEGMENTS = 10
MAX_SOURCE_CHARS = 20_000
_ALLOWED_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.If,
    nodes.CondExpr, nodes.And, nodes.Or, nodes.Not, nodes.Compare, nodes.Operand,
    nodes.Filter, nodes.Test, nodes.Concat,
)  # fmt: skip
_DESCRIBED = (
    (nodes.For, "loops"), (nodes.Call, "function or method calls"),
    (nodes.Getattr, "attribute access"), (nodes.Getitem, "item access"),
    ((nodes.Assign, nodes.AssignBlock), "assignments"), ((nodes.Macro, nodes.CallBlock), "macros"),
    ((nodes.BinExpr, nodes.UnaryExpr), "arithmetic"),
    ((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends), "other templates"),
)  # fmt: skip
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class TemplateProblem(ValueError):
    """A template that cannot be used, with a message fit to show its author."""


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str


@dataclass(frozen=True)
class DefaultTemplate:
    name: str
    subject: str | None
    body: str


_SIGN = "{% if confirm_instructions %} {{ confirm_instructions }}{% endif %}"
_SIGN += "{% if cancel_instructions %} {{ cancel_instructions }}{% endif %}"
_WHEN = "{{ service }} with {{ staff }} on {{ date }} at {{ time }}"
_MAIL_END = (
    "\n\n{% if confirm_instructions %}\n{{ confirm_instructions }}\n{% endif %}\n"
    "{% if cancel_instructions %}\n{{ cancel_instructions }}\n{% endif %}\n"
    "\nSee you soon,\n{{ business_name }}"
)
DEFAULT_TEMPLATES: dict[tuple[str, str], DefaultTemplate] = {
    ("reminder", "sms"): DefaultTemplate(
        "Reminder (SMS)", None,
        "Hi {{ first_name }}, a reminder of your " + _WHEN + "." + _SIGN
        + " {{ business_name }}"),
    ("reminder", "email"): DefaultTemplate(
        "Reminder (e-mail)", "Reminder: {{ service }} on {{ date }} at {{ time }}",
        "Hi {{ first_name }},\n\nthis is a reminder of your " + _WHEN + "." + _MAIL_END),
    ("confirmation", "sms"): DefaultTemplate(
        "Confirmation (SMS)", None,
        "Hi {{ first_name }}, you're booked: " + _WHEN + "." + _SIGN + " {{ business_name }}"),
    ("confirmation", "email"): DefaultTemplate(
        "Confirmation (e-mail)", "Booked: {{ service }} on {{ date }} at {{ time }}",
        "Hi {{ first_name }},\n\nyou're booked: " + _WHEN + "." + _MAIL_END),
    ("cancellation", "sms"): DefaultTemplate(
        "Cancellation (SMS)", None,
        "Hi {{ first_name }}, your " + _WHEN + " is cancelled. We hope to see you again soon."
        " {{ business_name }}"),
    ("cancellation", "email"): DefaultTemplate(
        "Cancellation (e-mail)", "Cancelled: {{ service }} on {{ date }}",
        "Hi {{ first_name }},\n\nyour " + _WHEN + " is cancelled.\n\n"
        "We hope to see you again soon,\n{{ business_name }}"),
    ("win_back", "sms"): DefaultTemplate(
        "Win-back (SMS)", None,
        "Hi {{ first_name }}, we miss you at {{ business_name }}! Fancy a visit soon?"
        "{% if confirm_instructions %} {{ confirm_instructions }}{% endif %}"),
    ("win_back", "email"): DefaultTemplate(
        "Win-back (e-mail)", "We miss you, {{ first_name }}",
        "Hi {{ first_name }},\n\nit's been a while, and we'd love to see you again at "
        "{{ business_name }}.\n\n{% if confirm_instructions %}{{ confirm_instructions }}\n\n"
        "{% endif %}Warm wishes,\n{{ business_name }}"),
}  # fmt: skip


class _MessageEnvironment(SandboxedEnvironment):
    def __init__(self) -> None:
        super().__init__(
            undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
        )
        self.globals.clear()
        self.filters = {name: DEFAULT_FILTERS[name] for name in SAFE_FILTERS}


_ENV = _MessageEnvironment()


def _refuse_unsafe_nodes(tree: nodes.Template) -> None:
    for node in tree.find_all(nodes.Node):
        if isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
            raise TemplateProblem(
                f"line {node.lineno}: unknown filter '{node.name}'; "
                f"use one of: {', '.join(SAFE_FILTERS)}"
            )
        if not isinstance(node, _ALLOWED_NODES):
            what = next((text for kinds, text in _DESCRIBED if isinstance(node, kinds)),
                        f"'{type(node).__name__}' expressions")  # fmt: skip
            raise TemplateProblem(f"line {node.lineno}: not allowed in templates: {what}")


def _tidy(text: str) -> str:
    """Ends stripped, trailing spaces dropped, never more than one blank line in a row."""
    lines = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return re.sub(r"\n{3,}", "\n\n", lines)


@functools.lru_cache(maxsize=512)
def _compile(source: str) -> tuple[Template, frozenset[str]]:
    """The compiled template and the variable names it uses; TemplateProblem if unusable.
    Cached on the source, so rendering many messages compiles each template once."""
    if len(source) > MAX_SOURCE_CHARS:
        raise TemplateProblem(f"a template may have at most {MAX_SOURCE_CHARS} characters")
    try:
        tree = _ENV.parse(source)
        _refuse_unsafe_nodes(tree)
        template = _ENV.from_string(tree)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"line {exc.lineno}: {exc.message}") from None
    names = frozenset(node.name for node in tree.find_all(nodes.Name))
    return template, names


def _check_names(names: frozenset[str], allowed: Iterable[str]) -> None:
    allowed = sorted(allowed)
    unknown = sorted(names.difference(allowed))
    if unknown:
        raise TemplateProblem(
            f"unknown variable '{unknown[0]}'; use one of: {', '.join(allowed) or '(none)'}"
        )


def _render_one(source: str, variables: Mapping[str, str]) -> str:
    template, names = _compile(source)
    _check_names(names, variables)
    try:
        return _tidy(template.render(variables))
    except SecurityError as exc:
        raise TemplateProblem(f"not allowed in templates: {exc}") from None
    except UndefinedError as exc:
        raise TemplateProblem(f"unknown variable: {exc}") from None
    except (TemplateError, TypeError, ValueError, ArithmeticError, AssertionError) as exc:
        raise TemplateProblem(f"cannot render: {exc}") from None


def render_template(
    body: str, variables: Mapping[str, str], *, subject: str | None = None
) -> Rendered:
    """Render `body` (and `subject`, when given, as one line) with `variables`; leading and
    trailing whitespace trimmed. Raises TemplateProblem for a syntax error ("line 2:
    unexpected '}'"), a variable not in `variables`, or anything the sandbox refuses.
    The body's whitespace is tidied: ends stripped, trailing spaces dropped, at most one
    blank line in a row (so an `{% if %}` that renders nothing leaves no gap)."""
    rendered_subject = None
    if subject is not None:
        try:
            rendered_subject = " ".join(_render_one(subject, variables).split())
        except TemplateProblem as exc:
            raise TemplateProblem(f"subject: {exc}") from None
    return Rendered(rendered_subject, _render_one(body, variables))


def check_template(kind: str, channel: str, body: str, subject: str | None) -> list[str]:
    """Every problem that keeps this template from use (empty list: fine): unknown kind or
    channel, an empty body, a syntax error, a variable the kind does not offer
    (KIND_VARIABLES), anything the sandbox refuses, an e-mail without a subject, or an SMS
    longer than MAX_SMS_SEGMENTS segments when rendered with SAMPLE_VARIABLES."""
    if kind not in TEMPLATE_KINDS:
        return [f"kind must be one of {', '.join(TEMPLATE_KINDS)}, not {kind!r}"]
    if channel not in TEMPLATE_CHANNELS:
        return [f"channel must be one of {', '.join(TEMPLATE_CHANNELS)}, not {channel!r}"]
    variables = {name: SAMPLE_VARIABLES[name] for name in KIND_VARIABLES[kind]}
    problems = []
    if channel == "email" and not (subject or "").strip():
        problems.append("an e-mail needs a subject")
    elif channel == "email":
        try:
            render_template("", variables, subject=subject)
        except TemplateProblem as exc:
            problems.append(str(exc))
    if not (body or "").strip():
        return [*problems, "the message is empty"]
    try:
        text = render_template(body, variables).body
    except TemplateProblem as exc:
        return [*problems, str(exc)]
    if not text:
        return [*problems, "the message renders empty"]
    segments = count_segments(text).segments
    if channel == "sms" and segments > MAX_SMS_SEGMENTS:
        problems.append(f"the SMS needs {segments} segments; at most {MAX_SMS_SEGMENTS}")
    return problems


def _local_date(local: datetime) -> str:
    return f"{_WEEKDAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"


def build_variables(
    appointment: Mapping[str, object], business: Mapping[str, object], tz: str | None = None
) -> dict[str, str]:
    """Template variables for one message. `appointment` holds first_name and, for
    appointment kinds, starts_at (a tz-aware UTC instant), service_name and staff_name;
    `business` holds name and optionally confirm_instructions, cancel_instructions and
    timezone. The local date and time are in `tz` (default: business["timezone"]), via
    zoneinfo, so DST is honoured. Without starts_at, only the contact variables exist."""
    variables = {
        "first_name": str(appointment.get("first_name") or "").strip() or "there",
        "business_name": str(business.get("name") or ""),
        "confirm_instructions": str(business.get("confirm_instructions") or ""),
        "cancel_instructions": str(business.get("cancel_instructions") or ""),
    }
    starts_at = appointment.get("starts_at")
    if starts_at is None:
        return variables
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        raise ValueError("starts_at must be a tz-aware datetime")
    local = starts_at.astimezone(ZoneInfo(str(tz or business["timezone"])))
    return variables | {
        "service": str(appointment.get("service_name") or ""),
        "staff": str(appointment.get("staff_name") or ""),
        "date": _local_date(local),
        "time": f"{local:%H:%M}",
    }


def choose_variant(variants: Sequence[str], key: str) -> str:
    """One of `variants`, chosen by the SHA-256 of `key`: random across keys (an even
    split), the same for the same key (so a retry keeps its variant). The order of
    `variants` matters; pass them sorted. ValueError when there are none."""
    if not variants:
        raise ValueError("choose_variant needs at least one variant")
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return variants[int.from_bytes(digest[:8], "big") % len(variants)]
