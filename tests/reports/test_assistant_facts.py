"""Business facts on a seeded demo salon: every family is built or explained, ids follow
the contract, values agree with each other, the hash is stable, roles are enforced, and
no customer's or staff member's personal data gets into the facts.

One demo business (3,000 appointments) is seeded per module. Facts are built once
before anything is stored ("without"); then the business forecast is fitted and churn
scored, as Peak times and Retention would, and the facts are built twice more ("with").
The small salon has too few no-shows to train a no-show model, so no-show risk comes
from customers' own rates in both. The PostgreSQL test seeds the same salon there and
expects the same SQL-aggregate facts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from analytics.kpis import KPI_SPECS
from assistant.facts import TOPICS, BusinessFacts, canonical_json
from auth.roles import Actor, PermissionDenied, Role
from data.db import make_engine, read_conn, write_tx
from data.demo import seed_demo
from data.migrate import upgrade_to_head
from data.schema import appointments, customers, services, staff
from reports.assistant_facts import build_business_facts
from reports.churn import score_churn
from reports.forecasts import ForecastRequest, run_forecasts
from tests.factories import make_business
from tests.pg import fresh_pg_database

TODAY = datetime.now(ZoneInfo("Europe/Berlin")).date()  # the demo salon's zone
DAY = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
SPAN = rf"{DAY}\.\d\d:00-\d\d:00"
ID_PATTERNS = {
    "kpi": rf"kpi\.({'|'.join(KPI_SPECS)})",
    "utilization": rf"idle\.{SPAN}",
    "forecast": rf"forecast\.model|(peak|quiet)\.{SPAN}",
    "staffing": rf"staffing\.summary|staffing\.(under|over)\.{SPAN}",
    "churn": r"churn\.model|churn\.band\.(high|medium|low|too_new)",
    "noshow": r"noshow\.upcoming",
    "service": r"service\.\d+",
    "staff": r"staff\.\d+",
}
DETAIL_KEYS = {  # the keys assistant/facts.py promises, by id prefix
    "kpi.": {"kind", "better", "previous"},
    "idle.": {"weekday", "start", "end", "free_hours_per_week", "weeks"},
    "forecast.model": {"model", "coverage", "horizon_days"},
    "peak.": {"weekday", "start", "end", "kind"},
    "quiet.": {"weekday", "start", "end", "kind"},
    "staffing.summary": {
        "open_hours",
        "under_staffed_hours",
        "over_staffed_hours",
        "shortfall_hours",
        "slack_hours",
        "weeks",
    },  # fmt: skip
    "staffing.under": {"flag", "weekday", "start", "end", "staff_delta", "expected_hours"},
    "staffing.over": {"flag", "weekday", "start", "end", "staff_delta", "expected_hours"},
    "churn.model": {"verdict", "baseline_auc"},
    "churn.band.": {"band", "spend_at_stake", "share"},
    "noshow.upcoming": {"high_risk", "expected_no_shows", "revenue_at_risk", "method"},
    "service.": {"name", "revenue", "previous_bookings", "share"},
    "staff.": {"label", "bookings", "revenue", "previous_utilization"},
}
CANARY = {
    "first_name": "Xaviera", "last_name": "Quendolyn", "email": "xaviera.q@example.org",
    "phone": "+4930231259876", "notes": "Canary note: allergic to lavender oil.",
}  # fmt: skip


def seed(url: str) -> sa.Engine:
    """The demo salon as of TODAY, plus a canary customer with a past visit and a
    booking in three days (early morning: no other booking overlaps it)."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    seed_demo(engine, appointments=3000, seed=11, today=TODAY)
    now = datetime.now(UTC)
    with write_tx(engine) as conn:
        customer = conn.execute(
            customers.insert().values(business_id=1, created_at=now, updated_at=now, **CANARY)
        ).inserted_primary_key[0]
        for days, status in ((-10, "completed"), (3, "booked")):
            start = datetime.combine(TODAY + timedelta(days=days), datetime.min.time(), UTC)
            start += timedelta(hours=4)
            conn.execute(appointments.insert().values(
                business_id=1, staff_id=1, service_id=1, customer_id=customer, starts_at=start,
                ends_at=start + timedelta(hours=1), status=status, price_cents=5800,
                notes="Canary booking note", created_at=start - timedelta(days=20),
                updated_at=start - timedelta(days=20),
            ))  # fmt: skip
    return engine


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("facts")
    engine = seed(f"sqlite:///{folder / 'demo.db'}")
    models = folder / "models"
    analyst = Actor.for_account(account_id=900, business_id=1, role=Role.ANALYST.value)
    operator = Actor.operator(business_id=1)
    without = build_business_facts(engine, actor=analyst, today=TODAY, models_dir=models)
    run_forecasts(engine, actor=operator, requests=[ForecastRequest()], today=TODAY, n_jobs=1)
    score_churn(engine, actor=operator, models_dir=models)
    with_ = [build_business_facts(engine, actor=analyst, today=TODAY, models_dir=models)
             for _ in range(2)]  # fmt: skip
    yield {"engine": engine, "models": models, "analyst": analyst, "without": without,
           "with": with_[0], "again": with_[1]}  # fmt: skip
    engine.dispose()


def topics_with_facts(facts: BusinessFacts) -> set[str]:
    return {fact.topic for fact in facts.facts}


@pytest.mark.parametrize("case", ["without", "with"])
def test_every_family_is_built_or_explained(demo: dict, case: str) -> None:
    facts: BusinessFacts = demo[case]
    explained = {missing.topic for missing in facts.missing}
    assert topics_with_facts(facts) | explained == set(TOPICS)
    assert not topics_with_facts(facts) & explained
    assert all(missing.reason.strip() for missing in facts.missing)


def test_without_stored_runs_the_missing_families_say_how_to_get_them(demo: dict) -> None:
    facts: BusinessFacts = demo["without"]
    assert {m.topic for m in facts.missing} == {"forecast", "staffing", "churn"}
    assert "cli.py forecast" in (facts.missing_reason("forecast") or "")
    assert "Peak times" in (facts.missing_reason("staffing") or "")
    assert "cli.py churn score" in (facts.missing_reason("churn") or "")
    upcoming = facts.get("noshow.upcoming")
    assert upcoming is not None and upcoming.detail["method"] == "own rates"


def test_with_stored_runs_every_family_has_facts(demo: dict) -> None:
    facts: BusinessFacts = demo["with"]
    assert facts.missing == ()
    model = facts.get("forecast.model")
    assert model is not None and model.detail["current_data"] is True
    assert model.detail["horizon_days"] == 28 and model.detail["made_on"] == TODAY.isoformat()
    assert facts.get("staffing.summary") is not None
    assert facts.get("churn.model") is not None
    upcoming = facts.get("noshow.upcoming")  # too few no-shows here to train a model
    assert upcoming is not None and upcoming.detail["method"] == "own rates"


@pytest.mark.parametrize("case", ["without", "with"])
def test_ids_follow_the_contract(demo: dict, case: str) -> None:
    facts: BusinessFacts = demo[case]
    with read_conn(demo["engine"]) as conn:
        service_ids = set(conn.execute(sa.select(services.c.id)).scalars())
        staff_ids = set(conn.execute(sa.select(staff.c.id)).scalars())
    assert len(facts.by_id()) == len(facts.facts)  # unique
    for fact in facts.facts:
        assert re.fullmatch(ID_PATTERNS[fact.topic], fact.id), fact.id
        keys = next(v for k, v in DETAIL_KEYS.items() if fact.id.startswith(k))
        assert keys <= set(fact.detail), (fact.id, keys - set(fact.detail))
        if fact.id.startswith(("idle.", "peak.", "quiet.", "staffing.under", "staffing.over")):
            day, span = fact.id.split(".")[-2:]
            assert (day, span) == (fact.detail["weekday"], "-".join(
                (str(fact.detail["start"]), str(fact.detail["end"]))))  # fmt: skip
    assert {int(f.id.split(".")[1]) for f in facts.of_topic("service")} <= service_ids
    assert {int(f.id.split(".")[1]) for f in facts.of_topic("staff")} <= staff_ids
    assert [f.id for f in facts.of_topic("kpi")] == [f"kpi.{key}" for key in KPI_SPECS]


def test_values_are_sane_and_agree_with_each_other(demo: dict) -> None:
    facts: BusinessFacts = demo["with"]
    kpi = {f.id[4:]: f for f in facts.of_topic("kpi")}
    assert facts.as_of == TODAY and facts.period_end == TODAY
    assert facts.period_start == TODAY - timedelta(days=28)
    assert facts.currency == "EUR" and facts.timezone == "Europe/Berlin"
    for fact in kpi.values():
        if fact.unit == "percent" and fact.value is not None:
            assert 0 <= float(fact.value) <= 1, fact.id
    service = facts.of_topic("service")
    assert sum(int(f.value or 0) for f in service) == kpi["bookings"].value
    revenue = sum(float(f.detail["revenue"] or 0) for f in service)
    assert revenue == pytest.approx(float(kpi["revenue"].value or 0), abs=0.01)
    assert 5 < float(kpi["avg_ticket"].value or 0) < 300  # euros, not cents
    for idle in facts.of_topic("utilization"):
        assert 0 <= float(idle.value or 0) < 0.5 and float(idle.detail["free_hours_per_week"]) > 0
    peaks = [f for f in facts.of_topic("forecast") if f.id.startswith("peak.")]
    quiet = [f for f in facts.of_topic("forecast") if f.id.startswith("quiet.")]
    assert peaks and min(float(p.value or 0) for p in peaks) > max(
        [float(q.value or 0) for q in quiet] or [0.0]
    )
    bands = [f for f in facts.of_topic("churn") if f.id.startswith("churn.band.")]
    assert sum(float(b.detail["share"] or 0) for b in bands) == pytest.approx(1.0, abs=0.01)
    assert all(float(b.detail["spend_at_stake"] or 0) >= 0 for b in bands)
    upcoming = facts.get("noshow.upcoming")
    assert upcoming is not None and int(upcoming.value or 0) > 0
    assert 0 <= int(upcoming.detail["high_risk"] or 0) <= int(upcoming.value or 0)
    assert 0 < float(upcoming.detail["revenue_at_risk"] or 0) < 100 * int(upcoming.value or 0)
    for member in facts.of_topic("staff"):
        assert member.label.startswith("Staff #") and 0 <= float(member.value or 0) <= 1.5


def test_the_hash_is_stable_across_builds(demo: dict) -> None:
    assert demo["with"].facts_hash() == demo["again"].facts_hash()
    assert demo["with"].facts_hash() != demo["without"].facts_hash()


def test_an_older_forecast_is_used_for_a_week_then_explained(demo: dict) -> None:
    """Days later the data's fingerprint has moved on: the newest stored run still
    serves (marked so) for MAX_FORECAST_AGE_DAYS, then the reason names its date."""
    later = build_business_facts(
        demo["engine"], actor=demo["analyst"], today=TODAY + timedelta(days=3),
        models_dir=demo["models"],
    )  # fmt: skip
    model = later.get("forecast.model")
    assert model is not None and model.detail["current_data"] is False
    assert model.detail["made_on"] == TODAY.isoformat()
    assert model.detail["horizon_days"] == 25  # the days left from the later day on
    assert later.get("staffing.summary") is not None
    much_later = build_business_facts(
        demo["engine"], actor=demo["analyst"], today=TODAY + timedelta(days=10),
        models_dir=demo["models"],
    )  # fmt: skip
    assert much_later.of_topic("forecast") == [] and much_later.of_topic("staffing") == []
    assert f"made on {TODAY.isoformat()}" in (much_later.missing_reason("forecast") or "")


def test_staff_may_not_read_the_facts(demo: dict) -> None:
    staff_actor = Actor.for_account(account_id=901, business_id=1, role=Role.STAFF.value)
    with pytest.raises(PermissionDenied):
        build_business_facts(demo["engine"], actor=staff_actor, models_dir=demo["models"])


def personal_strings(engine: sa.Engine) -> set[str]:
    """Every customer's first and last name (4+ letters), e-mail, phone (with and
    without "+") and note, every appointment note, and every staff display name and
    its parts (4+ letters)."""
    with read_conn(engine) as conn:
        people = conn.execute(sa.select(customers.c.first_name, customers.c.last_name,
                                        customers.c.email, customers.c.phone,
                                        customers.c.notes)).all()  # fmt: skip
        notes = conn.execute(sa.select(appointments.c.notes).distinct()).scalars().all()
        names = conn.execute(sa.select(staff.c.display_name)).scalars().all()
    found: set[str] = set()
    for first, last, email, phone, note in people:
        found |= {name for name in (first, last) if name and len(name) >= 4}
        found |= {value for value in (email, note) if value}
        found |= {phone, phone.lstrip("+")} if phone else set()
    found |= {note for note in notes if note}
    for name in names:
        found |= {name, *(part for part in name.split() if len(part) >= 4)}
    return found


@pytest.mark.parametrize("case", ["without", "with"])
def test_no_personal_data_gets_into_the_facts(demo: dict, case: str) -> None:
    text = canonical_json(demo[case])
    readable = json.dumps(json.loads(text), ensure_ascii=False)  # "Müller", not "M\u00fcller"
    strings = personal_strings(demo["engine"])
    assert set(CANARY.values()) <= strings and len(strings) > 500  # the check has teeth
    leaked = sorted(s for s in strings if s in text or s in readable)
    assert leaked == []


ENGINE_TOPICS = ("kpi", "utilization", "service", "staff")  # the SQL aggregates' families


@pytest.mark.postgres
def test_postgresql_gives_the_same_aggregate_facts(demo: dict, tmp_path: Path) -> None:
    with fresh_pg_database() as url:
        engine = seed(url)
        try:
            facts = build_business_facts(
                engine, actor=demo["analyst"], today=TODAY, models_dir=tmp_path / "none"
            )
        finally:
            engine.dispose()
    for topic in ENGINE_TOPICS:
        assert facts.of_topic(topic) == demo["without"].of_topic(topic), topic
    assert {m.topic for m in facts.missing} == {"forecast", "staffing", "churn"}


def test_today_defaults_to_the_business_day(demo: dict) -> None:
    facts = build_business_facts(demo["engine"], actor=demo["analyst"], models_dir=demo["models"])
    assert facts.as_of in (TODAY, TODAY + timedelta(days=1))  # a run across midnight
    assert isinstance(facts.as_of, date)


def test_an_empty_business_gets_its_kpis_and_a_reason_for_the_rest(
    engine: sa.Engine, tmp_path: Path
) -> None:
    with write_tx(engine) as conn:
        business = make_business(conn)
    owner = Actor.for_account(account_id=902, business_id=business, role=Role.OWNER.value)
    facts = build_business_facts(engine, actor=owner, models_dir=tmp_path / "models")
    assert [f.id for f in facts.facts] == [f"kpi.{key}" for key in KPI_SPECS]
    assert facts.by_id()["kpi.bookings"].value == 0
    assert facts.by_id()["kpi.utilization"].value is None
    assert {m.topic for m in facts.missing} == set(TOPICS) - {"kpi"}
    assert "working hours" in (facts.missing_reason("utilization") or "")
