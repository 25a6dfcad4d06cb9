"""Message templates: sandboxed rendering, refusals, checks, defaults, preview variables
(DST-correct local time) and deterministic A/B variants."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

import notifications.templates as templates_module
from notifications.sms import count_segments
from notifications.templates import (
    DEFAULT_TEMPLATES,
    KIND_VARIABLES,
    SAMPLE_VARIABLES,
    TEMPLATE_CHANNELS,
    TEMPLATE_KINDS,
    VARIABLES,
    Rendered,
    TemplateProblem,
    build_variables,
    check_template,
    choose_variant,
    render_template,
)

V = SAMPLE_VARIABLES


def test_render_body_and_subject() -> None:
    rendered = render_template(
        "  Hi {{ first_name|upper }}, {{ service ~ ' at ' ~ time }}.  \n\n\n\nBye\n",
        V,
        subject="Your {{ service }}\n on {{ date }}",
    )
    assert rendered == Rendered(
        "Your Haircut & blow-dry on Tue 24 Nov", "Hi ALEXANDRA, Haircut & blow-dry at 14:30.\n\nBye"
    )


def test_no_autoescape_and_conditions() -> None:
    body = "{% if cancel_instructions %}<{{ cancel_instructions }}>{% else %}none{% endif %}"
    assert render_template(body, V).body == "<Reply C to cancel.>"
    assert render_template(body, V | {"cancel_instructions": ""}).body == "none"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Hi {{ first_name }", "line 1: unexpected '}'"),
        ("Hi\n{{ first_name }", "line 2: unexpected '}'"),
        ("{% if first_name %}open", "line 1: Unexpected end of template"),
        ("{{ frist_name }}", "unknown variable 'frist_name'; use one of: business_name,"),
        ("{{ first_name|center(10) }}", "line 1: unknown filter 'center'; use one of: capitali"),
    ],
)
def test_problems_are_clear(source: str, message: str) -> None:
    with pytest.raises(TemplateProblem) as caught:
        render_template(source, V)
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, ValueError)


def test_strict_undefined_only_offered_variables() -> None:
    with pytest.raises(
        TemplateProblem, match="unknown variable 'service'; use one of: first_name$"
    ):
        render_template("{{ service }}", {"first_name": "Ada"})
    with pytest.raises(TemplateProblem, match="unknown variable 'nope'"):
        render_template("{% if nope is defined %}x{% endif %}", V)
    with pytest.raises(TemplateProblem, match="^subject: unknown variable 'frist_name'"):
        render_template("ok", V, subject="{{ frist_name }}")


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ first_name.__class__.__base__ }}",
        "{{ first_name['__class__'] }}",
        "{{ first_name|attr('__class__') }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ namespace.__init__.__globals__.os }}",
        "{{ joiner.__init__.__globals__.__builtins__.open('/etc/passwd') }}",
        "{% for i in range(10**9) %}x{% endfor %}",
        "{% for a in first_name %}{% for b in first_name %}x{% endfor %}{% endfor %}",
        "{{ 9**9**9 }}",
        "{{ 'x' * 1000000000 }}",
        "{{ first_name.ljust(1000000000) }}",
        "{% set x = first_name ~ first_name %}{{ x }}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
        "{% include 'other' %}",
        "{% extends 'base' %}",
        "{% import 'os' as os %}",
        "{{ config }}",
        "{{ range(3) }}",
    ],
)
def test_sandbox_escapes_and_unbounded_work_are_refused(source: str) -> None:
    with pytest.raises(TemplateProblem, match="not allowed in templates|unknown (variable|filter)"):
        render_template(source, V)


def test_the_sandbox_is_a_second_wall() -> None:
    """Below the node whitelist, the environment itself is a strict sandbox."""
    env = templates_module._ENV
    assert isinstance(env, SandboxedEnvironment) and env.undefined is StrictUndefined
    assert not env.globals and not env.autoescape
    with pytest.raises(SecurityError):
        env.from_string("{{ x.__class__.__mro__ }}").render(x="")
    with pytest.raises(UndefinedError):
        env.from_string("{{ y }}").render(x="")


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("{{ ''.__class__ }}", "attribute access"),
        ("{% for i in range(10**9) %}{% endfor %}", "loops"),
        ("{{ 9**9**9 }}", "arithmetic"),
        ("{{ range(10) }}", "function or method calls"),
    ],
)
def test_refusals_say_what_is_not_allowed(source: str, what: str) -> None:
    with pytest.raises(TemplateProblem, match=f"^line 1: not allowed in templates: {what}$"):
        render_template(source, V)


def test_runtime_errors_become_template_problems() -> None:
    with pytest.raises(TemplateProblem, match="cannot render"):
        render_template("{{ first_name|truncate(1) }}", V)  # shorter than its '...'
    with pytest.raises(TemplateProblem, match="cannot render"):
        render_template("{{ first_name < 3 }}", V)


def test_oversized_source_is_refused() -> None:
    with pytest.raises(TemplateProblem, match="at most 20000 characters"):
        render_template("x" * 20_001, V)


@pytest.mark.parametrize("key", sorted(DEFAULT_TEMPLATES))
def test_every_default_renders_and_passes_its_check(key: tuple[str, str]) -> None:
    kind, channel = key
    default = DEFAULT_TEMPLATES[key]
    variables = {name: V[name] for name in KIND_VARIABLES[kind]}
    rendered = render_template(default.body, variables, subject=default.subject)
    assert check_template(kind, channel, default.body, default.subject) == []
    assert V["first_name"] in rendered.body and V["business_name"] in rendered.body
    assert "{" not in rendered.body and "  " not in rendered.body and "\n\n\n" not in rendered.body
    if channel == "sms":
        assert rendered.subject is None
        assert count_segments(rendered.body) == count_segments(rendered.body[:160])  # GSM-7, 1
        assert count_segments(rendered.body).encoding == "GSM-7"
        assert count_segments(rendered.body).segments == 1
    else:
        assert rendered.subject and "\n" not in rendered.subject
    if kind != "win_back":
        assert V["date"] in rendered.body and V["service"] in rendered.body


def test_defaults_cover_every_kind_and_channel_and_document_variables() -> None:
    assert set(DEFAULT_TEMPLATES) == {(k, c) for k in TEMPLATE_KINDS for c in TEMPLATE_CHANNELS}
    assert set(KIND_VARIABLES) == set(TEMPLATE_KINDS)
    assert KIND_VARIABLES["win_back"] == {
        "first_name", "business_name", "confirm_instructions", "cancel_instructions"
    }  # fmt: skip
    assert set(SAMPLE_VARIABLES) == set(VARIABLES) and all(VARIABLES.values())


def test_defaults_drop_empty_instructions_cleanly() -> None:
    plain = V | {"confirm_instructions": "", "cancel_instructions": ""}
    sms = render_template(DEFAULT_TEMPLATES["reminder", "sms"].body, plain).body
    assert sms == (
        "Hi Alexandra, a reminder of your Haircut & blow-dry with Maria on Tue 24 Nov at 14:30."
        " Studio Nova Hair"
    )
    mail = render_template(DEFAULT_TEMPLATES["reminder", "email"].body, plain).body
    assert "14:30.\n\nSee you soon,\nStudio Nova Hair" in mail


def test_check_template_lists_problems() -> None:
    assert check_template("win_back", "sms", "Hi {{ first_name }} on {{ date }}", None) == [
        "unknown variable 'date'; use one of: business_name, cancel_instructions, "
        "confirm_instructions, first_name"
    ]
    assert check_template("reminder", "email", "Hi", "  ") == ["an e-mail needs a subject"]
    assert check_template("reminder", "email", " ", "{{ x }}") == [
        "subject: unknown variable 'x'; use one of: business_name, cancel_instructions, "
        "confirm_instructions, date, first_name, service, staff, time",
        "the message is empty",
    ]
    assert check_template("reminder", "sms", "{% if false %}x{% endif %}", None) == [
        "the message renders empty"
    ]
    assert check_template("reminder", "sms", "{{ first_name }", None) == ["line 1: unexpected '}'"]
    assert check_template("birthday", "sms", "Hi", None)[0].startswith("kind must be one of")
    assert check_template("reminder", "fax", "Hi", None)[0].startswith("channel must be one of")


def test_check_template_sms_segment_limit() -> None:
    assert check_template("reminder", "sms", "a" * 1530, None) == []  # 10 x 153
    assert check_template("reminder", "sms", "a" * 1531, None) == [
        "the SMS needs 11 segments; at most 10"
    ]
    assert check_template("reminder", "email", "a" * 5000, "Hi") == []  # no limit for e-mail


BUSINESS = {"name": "Studio Nova", "timezone": "Europe/Berlin", "confirm_instructions": "YES"}


def _visit(starts_at: datetime) -> dict[str, object]:
    return {"first_name": " Ada ", "starts_at": starts_at, "service_name": "Cut",
            "staff_name": "Maria"}  # fmt: skip


@pytest.mark.parametrize(
    ("starts_at", "date", "time"),
    [
        (datetime(2026, 3, 28, 13, 30, tzinfo=UTC), "Sat 28 Mar", "14:30"),  # CET, UTC+1
        (datetime(2026, 3, 29, 12, 30, tzinfo=UTC), "Sun 29 Mar", "14:30"),  # CEST, UTC+2
        (datetime(2026, 10, 24, 12, 30, tzinfo=UTC), "Sat 24 Oct", "14:30"),  # CEST
        (datetime(2026, 10, 25, 13, 30, tzinfo=UTC), "Sun 25 Oct", "14:30"),  # CET again
        (datetime(2026, 11, 24, 23, 30, tzinfo=UTC), "Wed 25 Nov", "00:30"),  # next local day
    ],
)
def test_build_variables_local_time_across_dst(starts_at: datetime, date: str, time: str) -> None:
    assert build_variables(_visit(starts_at), BUSINESS) == {
        "first_name": "Ada", "service": "Cut", "staff": "Maria", "date": date, "time": time,
        "business_name": "Studio Nova", "confirm_instructions": "YES", "cancel_instructions": "",
    }  # fmt: skip


def test_build_variables_zone_override_win_back_and_naive_time() -> None:
    at = datetime(2026, 7, 1, 12, tzinfo=UTC)
    tokyo = build_variables(_visit(at), BUSINESS, "Asia/Tokyo")
    assert (tokyo["date"], tokyo["time"]) == ("Wed 1 Jul", "21:00")
    assert build_variables({"first_name": None}, BUSINESS) == {
        "first_name": "there", "business_name": "Studio Nova", "confirm_instructions": "YES",
        "cancel_instructions": "",
    }  # fmt: skip
    with pytest.raises(ValueError, match="tz-aware"):
        build_variables(_visit(datetime(2026, 7, 1, 12)), BUSINESS)


def test_build_variables_feed_every_default() -> None:
    variables = build_variables(_visit(datetime(2026, 7, 1, 12, tzinfo=UTC)), BUSINESS)
    for (kind, _), default in DEFAULT_TEMPLATES.items():
        offered = {k: v for k, v in variables.items() if k in KIND_VARIABLES[kind]}
        assert render_template(default.body, offered, subject=default.subject).body


def test_choose_variant_is_stable_and_even() -> None:
    keys = [f"b7:appt{n}:reminder:sms:2026-07-01T12:00" for n in range(4000)]
    picks = [choose_variant(("A", "B"), key) for key in keys]
    assert picks == [choose_variant(("A", "B"), key) for key in keys]  # a retry: same variant
    counts = Counter(picks)
    assert set(counts) == {"A", "B"} and abs(counts["A"] - 2000) < 150  # ~5 sigma
    three = Counter(choose_variant(("A", "B", "C"), key) for key in keys)
    assert all(abs(n - 4000 / 3) < 150 for n in three.values()) and len(three) == 3
    assert choose_variant(["only"], "any") == "only"
    with pytest.raises(ValueError, match="at least one variant"):
        choose_variant([], "key")
