"""Peak times page: owner and analyst see the forecast, its verdict, staffing and the
backtest; staff are refused; a business without bookings gets an empty state.

One demo business is seeded and forecast once per module (a real Prophet fit and its
backtest, about ten seconds); the page then finds the stored run by its fingerprint.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from auth.roles import Actor, Role
from auth.service import SignedIn
from data.accounts import create_account
from data.db import make_engine, read_conn, write_tx
from data.schema import forecast_runs
from reports.forecasts import ForecastRequest, run_forecasts
from tests.app_pages.support import PASSWORD, AppDb, open_app
from tests.browser.support import seed_demo_database

PAGE = "app_pages/peak_times.py"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    url = seed_demo_database(tmp_path_factory.mktemp("peak"))
    engine = make_engine(url)
    actor = Actor.operator(business_id=1)
    users = {}
    with write_tx(engine) as conn:
        for role in (Role.OWNER, Role.ANALYST, Role.STAFF):
            email = f"peak-{role.value}@example.com"
            account = create_account(
                conn, actor=actor, email=email, display_name=role.value, role=role.value,
                password=PASSWORD,
            )  # fmt: skip
            users[role] = SignedIn(account, 1, role, email, role.value, "local")
    run_forecasts(engine, actor=actor, requests=[ForecastRequest()], n_jobs=1)
    yield {"url": url, "engine": engine, "users": users}
    engine.dispose()


def _open(demo: dict, role: Role, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", demo["url"])
    return open_app(demo["users"][role], page=PAGE).run()


def _runs(demo: dict) -> int:
    with read_conn(demo["engine"]) as conn:
        return len(conn.execute(forecast_runs.select()).fetchall())


@pytest.mark.parametrize("role", [Role.OWNER, Role.ANALYST])
def test_owner_and_analyst_see_the_stored_forecast(
    demo: dict, role: Role, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _runs(demo)
    at = _open(demo, role, monkeypatch)
    assert not at.exception, at.exception
    assert _runs(demo) == before  # the stored run was reused, nothing refitted
    texts = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "Whole business" in texts and "Rolling-origin backtest" in texts
    verdict = [a.value for a in at.success] + [w.value for w in at.warning]
    assert any("backtest" in v for v in verdict)  # the page says which model won
    metrics = at.dataframe[-1].value
    assert set(metrics["Model"]) >= {"Prophet", "Same hour last week"}
    assert (metrics["MASE"] > 0).all()


def test_staff_are_refused(demo: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _open(demo, Role.STAFF, monkeypatch)
    assert at.error and "may not open this page" in at.error[0].value


def test_a_business_without_bookings_gets_an_empty_state(app_db: AppDb) -> None:
    at = open_app(app_db.users[Role.OWNER], page=PAGE).run()
    assert not at.exception, at.exception
    assert any("nothing to forecast" in i.value for i in at.info)
