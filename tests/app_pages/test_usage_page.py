"""Team usage page (owner only) and the page-view recorder that app.py calls."""

from __future__ import annotations

import ast
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from auth.roles import Actor, Role
from auth.service import SignedIn
from data.analytics_events import build_event_data, record_event
from data.db import read_conn, write_tx
from data.schema import analytics_events
from tests.app_pages.support import ROOT, TIMEOUT, AppDb, open_app
from ui.session import USER_KEY

PAGE = "app_pages/admin_usage.py"


def _record(db: AppDb, role: Role, event_type: str, **data: object) -> None:
    with write_tx(db.engine) as conn:
        record_event(conn, actor=db.users[role].actor, event_type=event_type, data=data)


def _record_days_ago(db: AppDb, days: int, **data: object) -> None:
    owner = db.users[Role.OWNER]
    when = datetime.now(UTC) - timedelta(days=days)
    with write_tx(db.engine) as conn:
        conn.execute(analytics_events.insert().values(
            business_id=db.business_id, account_id=owner.account_id, event_type="page_view",
            event_data={**data, "role": "owner"}, created_at=when,
        ))  # fmt: skip


def _page_views(db: AppDb) -> list[tuple[int, str]]:
    e = analytics_events.c
    query = sa.select(e.account_id, e.event_data).where(e.event_type == "page_view")
    with read_conn(db.engine) as conn:
        return [(a, d["page"]) for a, d in conn.execute(query.order_by(e.id))]


def test_owner_sees_the_empty_state(app_db: AppDb) -> None:
    at = open_app(app_db.users[Role.OWNER], page=PAGE).run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Team usage"]
    assert "No page views or exports in the last 30 days yet." in [i.value for i in at.info]
    assert not at.dataframe


def test_owner_sees_views_by_page_and_role_and_exports(app_db: AppDb) -> None:
    for role in (Role.OWNER, Role.STAFF, Role.STAFF, Role.ANALYST):
        _record(app_db, role, "page_view", page="Calendar")
    _record(app_db, Role.ANALYST, "page_view", page="Overview")
    _record(app_db, Role.ANALYST, "export", page="Exports", format="xlsx",
            tables=["bookings", "kpis"], rows=250)  # fmt: skip
    _record_days_ago(app_db, 10, page="Home")  # in the last 30 days, not in the last 7

    at = open_app(app_db.users[Role.OWNER], page=PAGE).run()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric] == ["6", "1", "250"]
    pages = at.dataframe[0].value
    assert pages[["page", "views", "accounts", "owner", "staff", "analyst"]].values.tolist() == [
        ["Calendar", 4, 3, 1, 2, 1],
        ["Home", 1, 1, 1, 0, 0],
        ["Overview", 1, 1, 0, 0, 1],
    ]
    exports = at.dataframe[1].value
    assert exports[["format", "tables", "where", "exports", "rows", "analyst"]].values.tolist() == [
        ["xlsx", "bookings, kpis", "Exports", 1, 250, 1]
    ]
    assert at.get("plotly_chart"), "the page-views chart is shown"

    at.radio(key="usage_days").set_value(7).run()
    assert not at.exception
    assert at.metric[0].value == "5"


@pytest.mark.parametrize("role", [Role.STAFF, Role.ANALYST], ids=lambda r: r.value)
def test_other_roles_are_refused(app_db: AppDb, role: Role) -> None:
    _record(app_db, Role.OWNER, "page_view", page="Calendar")
    at = open_app(app_db.users[role], page=PAGE).run()
    assert not at.exception
    assert f"Your role ({role.value}) may not open this page." in [e.value for e in at.error]
    assert not at.title and not at.dataframe and not at.metric


def _tracked_page() -> None:
    import streamlit as st

    from ui.session import current_user
    from ui.usage import track_page_view

    user = current_user()
    assert user is not None
    track_page_view(user.actor, st.session_state.get("page_title", "Calendar"))
    st.write("page rendered")


def _tracker(user: SignedIn) -> AppTest:
    at = AppTest.from_function(_tracked_page, default_timeout=TIMEOUT)
    at.session_state[USER_KEY] = user
    return at


def test_a_page_view_is_recorded_once_per_page_change(app_db: AppDb) -> None:
    staff = app_db.users[Role.STAFF]
    at = _tracker(staff).run()
    at.run()  # a rerun on the same page records nothing
    assert _page_views(app_db) == [(staff.account_id, "Calendar")]
    for page in ("Bookings", "Bookings", "Calendar"):
        at.session_state["page_title"] = page
        at.run()
    assert not at.exception
    assert [p for _, p in _page_views(app_db)] == ["Calendar", "Bookings", "Calendar"]


def test_the_app_records_the_page_it_opens(app_db: AppDb) -> None:
    analyst = app_db.users[Role.ANALYST]
    at = open_app(analyst).run()
    at.run()
    assert not at.exception, at.exception
    assert _page_views(app_db) == [(analyst.account_id, "Home")]


def test_a_failing_recorder_never_breaks_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never-migrated.db'}")
    user = SignedIn(7, 1, Role.STAFF, "anna.schmidt@example.com", "Anna Schmidt", "local")
    with caplog.at_level(logging.WARNING, logger="ui.usage"):
        at = _tracker(user).run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["page rendered"]
    assert "page view not recorded (OperationalError)" in caplog.text
    assert "anna" not in caplog.text.lower()


def _navigation_titles() -> list[str]:
    """The page titles in app.py's SECTIONS (read from its source: importing runs the app)."""
    tree = ast.parse((ROOT / "app.py").read_text())
    sections = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "SECTIONS"
    )
    assert isinstance(sections, ast.Dict)
    return [ast.literal_eval(page.elts[1]) for group in sections.values for page in group.elts]


def test_every_navigation_title_is_a_valid_page_event() -> None:
    titles = _navigation_titles()
    assert "Team usage" in titles and len(titles) >= 10
    actor = Actor.for_account(account_id=1, business_id=1, role="owner")
    for title in titles:  # a refused title would silently never be counted
        assert build_event_data(actor, "page_view", {"page": title})["page"] == title
