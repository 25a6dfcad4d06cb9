"""Retention page: the first render trains and scores, then owners see the verdict, the
bands, named customers, upcoming no-show risks and create a win-back draft; analysts see
ids only and may not create; staff are refused; a corrupted model file is retrained; a
business too small to train on gets heuristic scores once per session, not in a loop.

One demo business is seeded per module (3,000 appointments; training takes about a
second). Its models live in a module folder: each test points MODELS_DIR there, so the
page and the assertions read the same files.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from analytics.churn_features import CHURN_FEATURES
from auth.roles import Actor, Role
from auth.service import SignedIn
from data.accounts import create_account
from data.campaigns import list_campaigns
from data.db import make_engine, read_conn, write_tx
from data.retention import load_latest_churn_scores
from data.schema import appointments, churn_scores, customers
from reports.model_files import load_model, model_path
from tests.app_pages.support import PASSWORD, AppDb, open_app
from tests.browser.support import seed_demo_database
from tests.factories import make_customer, make_service, make_staff

PAGE = "app_pages/retention.py"
TRAINING_TIMEOUT = 180  # a render that trains: ~2 s idle, far slower on a busy shared CPU
BANDS = ["High", "Medium", "Low", "Too new to score"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("retention")
    url = seed_demo_database(folder)
    engine = make_engine(url)
    operator = Actor.operator(business_id=1)
    users = {}
    with write_tx(engine) as conn:
        for role in (Role.OWNER, Role.ANALYST, Role.STAFF):
            email = f"retention-{role.value}@example.com"
            account = create_account(
                conn, actor=operator, email=email, display_name=role.value, role=role.value,
                password=PASSWORD,
            )  # fmt: skip
            users[role] = SignedIn(account, 1, role, email, role.value, "local")
    yield {"url": url, "engine": engine, "users": users, "models": folder / "models"}
    engine.dispose()


def _app(user: SignedIn) -> AppTest:
    at = open_app(user, page=PAGE)
    at.default_timeout = TRAINING_TIMEOUT
    return at


def _open(demo: dict, role: Role, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", demo["url"])
    monkeypatch.setenv("MODELS_DIR", str(demo["models"]))
    return _app(demo["users"][role]).run()


def _churn_model(models: Path):  # type: ignore[no-untyped-def]
    return load_model(models, business_id=1, kind="churn", features=CHURN_FEATURES)[0]


def _scores(demo: dict) -> pd.DataFrame:
    with read_conn(demo["engine"]) as conn:
        return load_latest_churn_scores(conn, actor=demo["users"][Role.OWNER].actor)


def _table(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _texts(at: AppTest) -> str:
    parts = [*at.caption, *at.markdown, *at.info, *at.warning, *at.success, *at.error]
    return "\n".join(str(p.value) for p in parts)


def test_owner_first_render_trains_scores_and_shows_everything(
    demo: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(demo, Role.OWNER, monkeypatch)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    stored = _churn_model(demo["models"])
    assert stored is not None  # trained and stored by the render
    scores = _scores(demo)
    assert not scores.empty and scores["model_version"].iloc[0] == stored.version
    verdict = stored.evaluation["verdict"]["text"]
    assert verdict in [m.value for m in [*at.success, *at.warning, *at.error]]
    quality = _table(at, "ROC AUC")
    assert quality["Model"].tolist()[:3] == [
        "Churn model", "Recency only", "Probability-alive heuristic"
    ]  # fmt: skip
    assert "did not come back within 90 days" in _texts(at)
    metrics = {m.label: m.value for m in at.metric}
    assert list(metrics) == BANDS
    counts = scores["band"].value_counts()
    assert metrics["High"] == f"{counts.get('high', 0):,}"
    assert sum(int(v.replace(",", "")) for v in metrics.values()) == len(scores)

    table = _table(at, "Why")
    high = scores[scores["band"] == "high"]
    assert len(table) == min(len(high), 500) and set(table["Band"]) == {"High"}
    assert table["Risk"].is_monotonic_decreasing
    with read_conn(demo["engine"]) as conn:
        names = dict(conn.execute(sa.select(
            customers.c.id, customers.c.first_name + " " + customers.c.last_name
        )).all())  # fmt: skip
    riskiest = int(high.sort_values(["score", "customer_id"], ascending=[False, True]).iloc[0, 0])
    assert table["Customer"].iloc[0] == names[riskiest]

    upcoming = _table(at, "Staff")
    assert len(upcoming) > 0 and upcoming["Risk"].between(0, 1).all()
    assert "No no-show model yet" in _texts(at) or "No-show model" in _texts(at)


def test_owner_creates_a_win_back_draft_for_the_high_band(
    demo: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(demo, Role.OWNER, monkeypatch)
    at.segmented_control(key="ret_band").set_value("medium").run()
    at.segmented_control(key="ret_band").set_value("high").run()
    assert set(_table(at, "Why")["Band"]) == {"High"}
    name = next(t for t in at.text_input if str(t.key).startswith("ret_name_high"))
    assert str(name.value).startswith("Win back – High risk – ")
    name.input("Win back – spring")
    at.radio(key="ret_channel").set_value("email")
    at.button(key="ret_create").click().run()
    assert not at.exception, at.exception
    assert any("created for" in s.value for s in at.success)

    owner = demo["users"][Role.OWNER].actor
    with read_conn(demo["engine"]) as conn:
        [draft] = [c for c in list_campaigns(conn, actor=owner) if c["name"] == "Win back – spring"]
    scores = _scores(demo)
    high = scores.loc[scores["band"] == "high", "customer_id"].tolist()
    assert (draft["kind"], draft["channel"], draft["status"]) == ("win_back", "email", "draft")
    assert draft["segment"]["band"] == "high" and draft["segment"]["source"] == "retention"
    assert sorted(draft["segment"]["customer_ids"]) == sorted(high)
    assert draft["segment"]["model_version"] == scores["model_version"].iloc[0]
    assert "Win back – spring" in _table(at, "Audience")["Name"].tolist()


def test_owner_creates_a_draft_from_selected_rows(
    demo: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(demo, Role.OWNER, monkeypatch)
    # AppTest cannot click table rows; the selection state is what a click would set.
    at.session_state["ret_table_high"] = {"selection": {"rows": [0, 2], "columns": []}}
    at.run()
    assert any("the 2 selected customers" in c.value for c in at.caption)
    at.text_input(key="ret_name_high_2").input("Two picked")
    at.button(key="ret_create").click().run()
    assert not at.exception, at.exception
    scores = _scores(demo)
    high = (
        scores[scores["band"] == "high"]
        .sort_values(["score", "customer_id"], ascending=[False, True])["customer_id"]
        .tolist()
    )
    with read_conn(demo["engine"]) as conn:
        campaigns = list_campaigns(conn, actor=demo["users"][Role.OWNER].actor)
    [draft] = [c for c in campaigns if c["name"] == "Two picked"]
    assert draft["segment"]["band"] is None
    assert draft["segment"]["customer_ids"] == [high[0], high[2]]
    assert draft["channel"] == "sms"


def test_an_empty_campaign_name_is_refused(demo: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _open(demo, Role.OWNER, monkeypatch)
    owner = demo["users"][Role.OWNER].actor
    with read_conn(demo["engine"]) as conn:
        before = len(list_campaigns(conn, actor=owner))
    next(t for t in at.text_input if str(t.key).startswith("ret_name_")).input("   ")
    at.button(key="ret_create").click().run()
    assert not at.exception
    assert "Give the campaign a name." in [e.value for e in at.error]
    with read_conn(demo["engine"]) as conn:
        assert len(list_campaigns(conn, actor=owner)) == before


def test_analysts_see_ids_only_and_may_not_create_campaigns(
    demo: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(demo, Role.ANALYST, monkeypatch)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    shown = _table(at, "Why")["Customer"].tolist()
    with read_conn(demo["engine"]) as conn:
        first_names = set(conn.execute(sa.select(customers.c.first_name)).scalars())
    assert shown and all(value.startswith("#") for value in shown)  # the demo has no external ids
    assert not {word for value in shown for word in value.split()} & first_names
    upcoming = _table(at, "Staff")["Customer"].tolist()
    assert upcoming and all(value.startswith("#") for value in upcoming)
    assert at.button(key="ret_create").disabled
    assert "Owners and staff create campaigns." in _texts(at)


def test_staff_are_refused(demo: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _open(demo, Role.STAFF, monkeypatch)
    assert not at.exception
    assert at.error and "may not open this page" in at.error[0].value
    assert len(at.title) == 0


def test_a_corrupted_model_file_is_retrained(demo: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    _open(demo, Role.OWNER, monkeypatch)  # make sure a model exists, whatever ran before
    path = model_path(demo["models"], business_id=1, kind="churn")
    path.write_bytes(b"not a joblib file at all")
    assert _churn_model(demo["models"]) is None
    at = _open(demo, Role.OWNER, monkeypatch)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert _churn_model(demo["models"]) is not None  # retrained and readable again
    assert list({m.label for m in at.metric}) and _table(at, "Why") is not None


def test_retrain_and_rescore_replaces_the_model(
    demo: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(demo, Role.OWNER, monkeypatch)
    before = _churn_model(demo["models"]).trained_at
    at.button(key="ret_retrain").click().run()
    assert not at.exception, at.exception
    assert _churn_model(demo["models"]).trained_at > before


def test_too_little_history_gets_heuristic_scores_once_per_session(
    app_db: AppDb, tmp_path: Path
) -> None:
    owner = app_db.users[Role.OWNER]
    with write_tx(app_db.engine) as conn:
        staff_id = make_staff(conn, app_db.business_id, name="Mara")
        service_id = make_service(conn, app_db.business_id, name="Cut")
        now = datetime.now(UTC).replace(microsecond=0)
        for i in range(3):
            customer = make_customer(conn, app_db.business_id, first_name=f"C{i}")
            start = now - timedelta(days=40 + 20 * i)
            conn.execute(appointments.insert().values(
                business_id=app_db.business_id, staff_id=staff_id, customer_id=customer,
                service_id=service_id, starts_at=start, ends_at=start + timedelta(minutes=30),
                status="completed", price_cents=3000, created_at=start, updated_at=start,
            ))  # fmt: skip
    at = _app(owner).run()
    assert not at.exception, at.exception
    assert any(w.value.startswith("Heuristic scores (not a trained model): ") for w in at.warning)
    with read_conn(app_db.engine) as conn:
        first = conn.execute(sa.select(sa.func.max(churn_scores.c.created_at))).scalar_one()
    assert first is not None  # scored by the render
    at.run()  # the view still "needs scoring" (no model), but this session just scored
    assert not at.exception
    with read_conn(app_db.engine) as conn:
        again = conn.execute(sa.select(sa.func.max(churn_scores.c.created_at))).scalar_one()
    assert again == first
