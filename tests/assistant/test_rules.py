"""The offline rule engine on hand-built facts: each rule fires at its threshold and not
below it, missing families are explained, the order is deterministic, and every output
passes the schema's checks."""

from __future__ import annotations

from datetime import date

import pytest

from assistant import rules
from assistant.facts import BusinessFacts, DetailValue, Fact, Missing, Topic
from assistant.rules import NOTHING_TO_ACT_ON, RULES, Candidate, Rule, RuleOutcome, recommend
from assistant.schema import MAX_RECOMMENDATIONS, Recommendation, check_recommendation

FORECAST_MISSING = "No forecast yet: open Peak times or run `cli.py forecast`."


def make(*facts: Fact, missing: tuple[Missing, ...] = (), currency: str = "EUR") -> BusinessFacts:
    return BusinessFacts(
        as_of=date(2025, 3, 3), period_start=date(2025, 2, 3), period_end=date(2025, 3, 3),
        currency=currency, timezone="Europe/Berlin", facts=facts, missing=missing,
    )  # fmt: skip


def fact(
    fact_id: str, topic: Topic, value: float | str | None, *, change: float | None = None,
    **detail: DetailValue,
) -> Fact:  # fmt: skip
    return Fact(id=fact_id, topic=topic, label=fact_id, value=value, change=change, detail=detail)


def idle(used: float = 0.38, free: float = 6.5, day: str = "Tue", start: str = "14:00",
         end: str = "17:00", weeks: int = 8) -> Fact:  # fmt: skip
    return fact(f"idle.{day}.{start}-{end}", "utilization", used, weekday=day, start=start,
                end=end, free_hours_per_week=free, weeks=weeks)  # fmt: skip


def quiet(day: str = "Tue", start: str = "15:00", end: str = "17:00") -> Fact:
    return fact(f"quiet.{day}.{start}-{end}", "forecast", 0.4, weekday=day, start=start,
                end=end, kind="quiet")  # fmt: skip


def shift(flag: str, hours: float, *, weeks: int = 4, day: str = "Sat", start: str = "10:00",
          end: str = "13:00") -> Fact:  # fmt: skip
    delta = 1 if flag == "under" else -1
    return fact(f"staffing.{flag}.{day}.{start}-{end}", "staffing", delta, flag=flag,
                weekday=day, start=start, end=end, staff_delta=delta, expected_hours=hours,
                weeks=weeks)  # fmt: skip


def kpi(key: str, value: float, change: float | None = None) -> Fact:
    return fact(f"kpi.{key}", "kpi", value, change=change)


def upcoming(expected: float = 4.2, high_risk: int = 7, revenue: float = 250.0) -> Fact:
    return fact("noshow.upcoming", "noshow", 120, high_risk=high_risk,
                expected_no_shows=expected, revenue_at_risk=revenue, method="model")  # fmt: skip


def band(customers: int = 42, spend: float = 6300.0) -> Fact:
    return fact("churn.band.high", "churn", customers, band="high", spend_at_stake=spend,
                share=0.12)  # fmt: skip


def churn_model(verdict: str) -> Fact:
    return fact("churn.model", "churn", 0.61, verdict=verdict, baseline_auc=0.62)


def service(service_id: int = 7, now: int = 17, before: int = 26, change: float | None = None,
            name: str = "Balayage", revenue: float = 850.0) -> Fact:  # fmt: skip
    change = (now - before) / before if change is None else change
    return fact(f"service.{service_id}", "service", now, change=change, name=name,
                revenue=revenue, previous_bookings=before, share=0.05)  # fmt: skip


def run(facts: BusinessFacts, **kwargs: int) -> RuleOutcome:
    """recommend(), asserting that every output passes the schema's checks."""
    outcome = recommend(facts, **kwargs)
    known = set(facts.by_id())
    for rec in outcome.recommendations:
        assert check_recommendation(rec, facts) == [], rec.title
        assert set(rec.cites) <= known and rec.cites
    return outcome


RICH = make(
    idle(), idle(0.2, 3.0, "Wed", "09:00", "11:00"), idle(0.45, 2.5, "Thu", "18:00", "20:00"),
    quiet(), fact("forecast.model", "forecast", 0.82, model="prophet"),
    shift("under", 14.0), shift("over", 20.0, day="Mon", start="09:00", end="12:00"),
    kpi("avg_ticket", 60.0, 0.02), kpi("completed", 300, 0.0), kpi("bookings", 380, 0.0),
    kpi("no_show_rate", 0.09, 0.03), kpi("rebooking_rate", 0.31, -0.06),
    kpi("cancellation_rate", 0.14, 0.04), upcoming(), band(),
    churn_model("Not better than recency alone (AUC 0.61 against 0.62)"),
    service(), service(8, 20, 40, name="Gel nails"), service(9, 30, 31, name="Haircut"),
)  # fmt: skip


THRESHOLDS = [
    ("Idle windows", "targeted_campaign", [idle(0.5, 2.0)], [idle(0.51, 6.0)]),
    ("Idle windows", "targeted_campaign", [idle(0.3, 2.0)], [idle(0.3, 1.9)]),
    ("Staffing shortfall", "staffing_view", [shift("under", 4.0)], [shift("under", 3.9)]),
    ("Over-staffing", "staffing_view", [shift("over", 16.0)], [shift("over", 15.9)]),
    ("No-shows", "reminder_rules", [upcoming(2.0, 0)], [upcoming(1.9, 0)]),
    ("No-shows", "reminder_rules", [upcoming(0.5, 3)], [upcoming(0.5, 2)]),
    ("No-shows", "reminder_rules", [kpi("no_show_rate", 0.09, 0.02)],
     [kpi("no_show_rate", 0.09, 0.019)]),
    ("Win-back", "win_back_campaign", [band(5)], [band(4)]),
    ("Services", "service_review", [service(now=8, before=10, change=-0.2)],
     [service(now=8, before=10, change=-0.19)]),
    ("Services", "service_review", [service(now=5, before=10)], [service(now=4, before=9)]),
    ("Rebooking", None, [kpi("rebooking_rate", 0.3, -0.05)], [kpi("rebooking_rate", 0.3, -0.049)]),
    ("Cancellations", None, [kpi("cancellation_rate", 0.2, 0.03)],
     [kpi("cancellation_rate", 0.2, 0.029)]),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "link", "above", "below"), THRESHOLDS)
def test_each_rule_fires_at_its_threshold_and_not_below(
    rule: str, link: str | None, above: list[Fact], below: list[Fact]
) -> None:
    fired = run(make(*above))
    assert len(fired.recommendations) == 1
    rec = fired.recommendations[0]
    assert (rec.action_link.kind if rec.action_link else None) == link
    assert rule not in {s.rule for s in fired.skipped}

    quiet_outcome = run(make(*below))
    assert quiet_outcome.recommendations == []
    assert rules.SkippedRule(rule, NOTHING_TO_ACT_ON) in quiet_outcome.skipped


def test_titles_carry_the_numbers_and_money_uses_the_currency() -> None:
    outcome = run(make(idle(), band(), service(), currency="sek"), limit=10)
    by_category = {rec.category: rec for rec in outcome.recommendations}
    fill, win, review = by_category["marketing"], by_category["retention"], by_category["services"]
    assert fill.title == "Fill Tuesday 14:00–17:00: 62% of the hours were free"
    assert fill.action_link and fill.action_link.model_dump() == {
        "kind": "targeted_campaign", "band": None, "weekday": "Tue", "start": "14:00",
        "end": "17:00", "service_id": None,
    }  # fmt: skip
    assert win.title == "Win back 42 high-risk customers: SEK 6,300 of yearly spend at stake"
    assert "SEK 630 of yearly spend" in win.expected_impact
    assert win.action_link and win.action_link.band == "high"
    assert review.title == "Review Balayage: bookings down 35% (26 → 17)"
    assert "SEK 850 in revenue" in review.rationale
    assert review.action_link and review.action_link.service_id == 7


def test_idle_windows_cite_the_quiet_forecast_and_the_ticket_they_use() -> None:
    facts = make(idle(), quiet(), quiet("Wed"), kpi("avg_ticket", 60.0))
    [rec] = run(facts).recommendations
    assert rec.cites == ["idle.Tue.14:00-17:00", "quiet.Tue.15:00-17:00", "kpi.avg_ticket"]
    assert rec.confidence == "high" and "stay quiet" in rec.rationale
    assert "about 1.6 more booked hours a week, roughly EUR 98" in rec.expected_impact

    [alone] = run(make(idle(), quiet("Wed"))).recommendations
    assert alone.cites == ["idle.Tue.14:00-17:00"] and alone.confidence == "medium"
    assert "EUR" not in alone.expected_impact
    [short] = run(make(idle(weeks=3))).recommendations
    assert short.confidence == "low"


@pytest.mark.parametrize(
    ("verdict", "confidence"),
    [
        ("Not better than recency alone (AUC 0.61 against 0.62): a rough ranking only.", "low"),
        ("baseline", "low"),
        ("Good enough to act on: it ranks risk better than every baseline.", "high"),
        ("act", "high"),
        ("Use with care: better than the baselines, but its ranking is weak.", "medium"),
        (None, "medium"),
    ],
)
def test_win_back_confidence_follows_the_churn_models_verdict(
    verdict: str | None, confidence: str
) -> None:
    facts = make(band(), *([churn_model(verdict)] if verdict else []))
    [rec] = run(facts).recommendations
    assert rec.confidence == confidence
    assert ("not better than the baseline" in rec.rationale) == (confidence == "low")
    assert rec.cites == (["churn.band.high", "churn.model"] if verdict else ["churn.band.high"])


@pytest.mark.parametrize(("ratio", "confidence"), [(0.8, "high"), (0.95, "medium"), (1.1, "low")])
def test_staffing_confidence_follows_the_forecast(ratio: float, confidence: str) -> None:
    model = fact("forecast.model", "forecast", ratio, model="prophet")
    over = shift("over", 20.0, day="Mon")
    add, trim = run(make(shift("under", 20.0), over, model)).recommendations
    assert add.title.startswith("Add 1 person on Saturday 10:00–13:00: about 5 hours a week")
    assert add.confidence == confidence and add.cites[1] == "forecast.model"
    assert ("rough guide" in add.rationale) == (ratio >= 1)
    # trimming on the same hours ranks lower and is never advised with high confidence
    assert trim.title.startswith("Trim Monday") and trim.confidence != "high"


@pytest.mark.parametrize(
    ("rule", "topic", "advice"),
    [
        ("Idle windows", "utilization", "campaigns for idle hours"),
        ("Staffing shortfall", "staffing", "staffing advice"),
        ("Over-staffing", "staffing", "staffing advice"),
        ("No-shows", "noshow", "reminder advice"),
        ("Win-back", "churn", "win-back advice"),
        ("Services", "service", "service advice"),
    ],
)
def test_missing_families_are_skipped_with_their_reason(
    rule: str, topic: Topic, advice: str
) -> None:
    missing = (Missing(topic=topic, reason=FORECAST_MISSING),)
    facts = make(kpi("no_show_rate", 0.05, 0.0), missing=missing)
    skipped = {s.rule: s for s in run(facts).skipped}
    expected = f"No forecast yet: open Peak times or run `cli.py forecast`, so no {advice}"
    assert skipped[rule].reason == expected
    assert skipped[rule].text == f"{rule}: {expected}"


def test_a_rising_no_show_rate_still_fires_when_the_upcoming_risk_is_missing() -> None:
    facts = make(kpi("no_show_rate", 0.09, 0.03), kpi("completed", 300), kpi("avg_ticket", 50.0),
                 missing=(Missing(topic="noshow", reason="no no-show model yet"),))  # fmt: skip
    [rec] = run(facts).recommendations
    assert rec.title == "Send extra reminders: the no-show rate rose to 9% (+3 pts)"
    assert rec.cites == ["kpi.no_show_rate", "kpi.completed", "kpi.avg_ticket"]
    assert "about 9 fewer visits a period would be lost" in rec.expected_impact


def test_order_is_money_at_stake_then_id() -> None:
    facts = make(
        kpi("avg_ticket", 50.0), band(spend=10_000.0),  # keeps EUR 1,000 a year
        service(now=10, before=20, revenue=500.0),  # 5 bookings back at EUR 50: EUR 250
        idle(0.3, 4.0, "Wed"), idle(0.3, 4.0, "Mon"),  # 1 h a week x 4 weeks x EUR 50: 200
    )  # fmt: skip
    titles = [rec.title for rec in run(facts).recommendations]
    assert titles == [
        "Win back 42 high-risk customers: EUR 10,000 of yearly spend at stake",
        "Review Balayage: bookings down 50% (20 → 10)",
        "Fill Monday 14:00–17:00: 70% of the hours were free",
        "Fill Wednesday 14:00–17:00: 70% of the hours were free",
    ]


def test_same_facts_same_output_whatever_their_order() -> None:
    first = run(RICH, limit=20)
    shuffled = RICH.model_copy(update={"facts": tuple(reversed(RICH.facts))})
    assert run(RICH, limit=20) == first == run(shuffled, limit=20)
    assert {rec.category for rec in first.recommendations} == {
        "marketing", "capacity", "no_shows", "retention", "services", "operations",
    }  # fmt: skip
    assert first.skipped == []


def test_limit_is_respected() -> None:
    everything = run(RICH, limit=20).recommendations
    assert len(everything) == 10  # 2 idle windows, 2 shifts, 2 services, one of each other
    assert run(RICH).recommendations == everything[:MAX_RECOMMENDATIONS]
    assert run(RICH, limit=3).recommendations == everything[:3]
    assert run(RICH, limit=0).recommendations == []


def test_empty_facts_produce_nothing_and_every_rule_says_why() -> None:
    outcome = run(make())
    assert outcome.recommendations == []
    assert [s.rule for s in outcome.skipped] == [rule.name for rule in RULES]
    assert {s.reason for s in outcome.skipped} == {NOTHING_TO_ACT_ON}


def test_odd_facts_are_not_acted_on_and_crash_nothing() -> None:
    odd = make(
        idle(day="Xyz"), idle(start="25:00"), idle(start="17:00", end="14:00"),
        fact("idle.Fri.09:00-12:00", "utilization", "n/a", weekday="Fri", start="09:00"),
        fact("idle.Sat.09:00-12:00", "utilization", float("nan"), weekday="Sat",
             start="09:00", end="12:00", free_hours_per_week=5.0),
        fact("staffing.under.Sun.10:00-12:00", "staffing", 1, weekday="Sun", start="10:00",
             end="12:00", staff_delta=True, expected_hours=30.0),
        fact("noshow.upcoming", "noshow", None, expected_no_shows="many"),
        fact("churn.band.high", "churn", "lots"), fact("service.3", "service", 5, change=-0.5),
        fact("kpi.rebooking_rate", "kpi", 0.3, change=float("nan")),
    )  # fmt: skip
    outcome = run(odd)
    assert outcome.recommendations == []
    assert {s.reason for s in outcome.skipped} == {NOTHING_TO_ACT_ON}


def test_long_service_names_are_cut_to_keep_the_title_short() -> None:
    [rec] = run(make(service(name="Extra long treatment " * 10))).recommendations
    assert len(rec.title) <= 120 and "…" in rec.title


def test_a_recommendation_that_fails_the_checks_is_dropped_and_said(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rec = Recommendation(
        title="Do something", category="operations", rationale="Because.", cites=["kpi.nope"],
        action="This week.", expected_impact="Some.", confidence="low", action_link=None,
    )  # fmt: skip
    broken = Rule("Broken", ("kpi",), "advice", lambda ctx: [Candidate(1.0, rec)])
    monkeypatch.setattr(rules, "RULES", (broken,))
    outcome = recommend(make())
    assert outcome.recommendations == []
    reason = "failed the checks: cites unknown facts: kpi.nope"
    assert outcome.skipped == [rules.SkippedRule("Broken", reason)]
