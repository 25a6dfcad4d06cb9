"""Every page for every role through Streamlit's AppTest, plus the failure pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from auth.roles import Role
from data.catalog import list_services, list_staff
from data.db import read_conn, write_tx
from data.schema import appointments, audit_log, businesses
from scheduling.timezones import local_day_bounds, local_today
from tests.app_pages.support import PASSWORD, ROOT, TIMEOUT, AppDb, open_app
from tests.factories import make_service, make_staff
from ui.session import USER_KEY

# page path -> (text that proves it rendered, roles that may open it)
PAGES: dict[str, tuple[str, set[Role]]] = {
    "app_pages/home.py": ("Test Salon", set(Role)),
    "app_pages/account.py": ("My account", set(Role)),
    "app_pages/calendar.py": ("Calendar", {Role.OWNER, Role.STAFF}),
    "app_pages/bookings.py": ("Bookings", {Role.OWNER, Role.STAFF}),
    "app_pages/customers.py": ("Customers", {Role.OWNER, Role.STAFF}),
    "app_pages/notification_panel.py": ("Notifications", {Role.OWNER, Role.STAFF}),
    "app_pages/message_templates.py": ("Message templates", {Role.OWNER, Role.STAFF}),
    "app_pages/admin_business.py": ("Business settings", {Role.OWNER}),
    "app_pages/admin_team.py": ("Team & services", {Role.OWNER}),
    "app_pages/admin_import.py": ("Import", {Role.OWNER}),
    "app_pages/admin_accounts.py": ("Accounts & roles", {Role.OWNER}),
    "app_pages/admin_audit.py": ("Audit log", {Role.OWNER}),
    "app_pages/admin_health.py": ("Health", {Role.OWNER}),
    "app_pages/admin_usage.py": ("Team usage", {Role.OWNER}),
    "app_pages/overview.py": ("Overview", {Role.OWNER, Role.ANALYST}),
    "app_pages/peak_times.py": ("Peak times", {Role.OWNER, Role.ANALYST}),
    "app_pages/retention.py": ("Retention", {Role.OWNER, Role.ANALYST}),
    "app_pages/recommendations.py": ("Recommendations", {Role.OWNER, Role.ANALYST}),
    "app_pages/exports.py": ("Exports", {Role.OWNER, Role.ANALYST}),
}


def _texts(at: AppTest) -> str:
    parts = [e.value for e in at.title] + [e.value for e in at.markdown]
    parts += (
        [e.value for e in at.error] + [e.value for e in at.info] + [e.value for e in at.caption]
    )
    return "\n".join(str(p) for p in parts)


def test_sign_in_with_the_right_password_opens_home(app_db: AppDb) -> None:
    at = open_app().run()
    assert not at.exception
    assert at.title[0].value == "Sign in to Slotboard"
    assert "local Slotboard accounts" in _texts(at)
    at.text_input(key="sign_in_email").input("Owner@Example.com")
    at.text_input(key="sign_in_password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    user = at.session_state[USER_KEY]
    assert user.role is Role.OWNER and user.business_id == app_db.business_id
    at.run()  # AppTest does not follow st.rerun() into the new page by itself
    assert "Test Salon Mitte" in [t.value for t in at.title]


def test_wrong_password_and_unknown_email_get_the_same_message(app_db: AppDb) -> None:
    messages = []
    for email in ("owner@example.com", "nobody@example.com"):
        at = open_app().run()
        at.text_input(key="sign_in_email").input(email)
        at.text_input(key="sign_in_password").input("wrong password!")
        at.button[0].click().run()
        assert not at.exception
        assert USER_KEY not in at.session_state
        messages.append([e.value for e in at.error])
    assert messages[0] == messages[1] and messages[0]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_page_for_every_role(app_db: AppDb, role: Role) -> None:
    for path, (proof, allowed) in PAGES.items():
        at = open_app(app_db.users[role]).run()
        assert not at.exception, at.exception
        if role not in allowed:  # not in this role's navigation at all
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(path)
            continue
        at.switch_page(path).run()
        assert not at.exception, (path, at.exception)
        assert proof in _texts(at), (path, role, _texts(at))
        assert not at.error, (path, [e.value for e in at.error])


@pytest.mark.parametrize(
    "path", [p for p, (_, allowed) in PAGES.items() if allowed == {Role.OWNER}]
)
@pytest.mark.parametrize("role", [Role.STAFF, Role.ANALYST], ids=lambda r: r.value)
def test_pages_refuse_forbidden_roles_themselves(app_db: AppDb, path: str, role: Role) -> None:
    """Even opened directly, outside the navigation, an owner page checks the role again."""
    at = AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT)
    at.session_state[USER_KEY] = app_db.users[role]
    at.run()
    assert not at.exception
    assert f"Your role ({role.value}) may not open this page." in [e.value for e in at.error]
    assert len(at.title) == 0


def test_pages_refuse_anonymous_visitors(app_db: AppDb) -> None:
    at = AppTest.from_file(str(ROOT / "app_pages/home.py"), default_timeout=TIMEOUT).run()
    assert "Please sign in to open this page." in [e.value for e in at.error]


def test_owner_saves_business_settings_with_audit(app_db: AppDb) -> None:
    at = open_app(app_db.users[Role.OWNER]).run()
    at.switch_page("app_pages/admin_business.py").run()
    at.text_input(key="biz_name").input("Salon Prenzlauer Berg")
    at.selectbox(key="biz_timezone").select("Europe/Vienna")
    at.selectbox(key="biz_country").select("AT")
    at.button[0].click().run()
    assert not at.exception
    assert any("Saved" in s.value for s in at.success)
    with read_conn(app_db.engine) as conn:
        row = conn.execute(sa.select(businesses).where(businesses.c.id == app_db.business_id)).one()
        diff = conn.execute(
            sa.select(audit_log.c.diff).where(
                audit_log.c.entity == "businesses", audit_log.c.action == "update"
            )
        ).scalar_one()
    assert (row.name, row.timezone, row.country) == ("Salon Prenzlauer Berg", "Europe/Vienna", "AT")
    assert diff["timezone"] == ["Europe/Berlin", "Europe/Vienna"]


def test_owner_adds_an_account_and_a_duplicate_is_refused(app_db: AppDb) -> None:
    at = open_app(app_db.users[Role.OWNER]).run()
    at.switch_page("app_pages/admin_accounts.py").run()
    for _ in range(2):
        at.text_input(key="acct_email").input("new.analyst@example.com")
        at.text_input(key="acct_name").input("New Analyst")
        at.selectbox(key="acct_role").select("analyst")
        at.text_input(key="acct_password").input("a long enough password")
        at.button(key="FormSubmitter:add_account-Add account").click().run()
        assert not at.exception
    assert any("already exists" in e.value for e in at.error)
    emails = at.dataframe[0].value["email"].tolist()
    assert emails.count("new.analyst@example.com") == 1


def test_health_names_providers_and_migrations(app_db: AppDb) -> None:
    at = open_app(app_db.users[Role.OWNER]).run()
    at.switch_page("app_pages/admin_health.py").run()
    assert not at.exception
    assert any("Migrations current" in s.value for s in at.success)
    assert any(s.value.startswith("Reachable: SQLite") for s in at.success)
    providers = at.dataframe[0].value
    assert "offline rule engine" in providers["Path in use"].tolist()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg://slotboard:secret-pw@127.0.0.1:1/nothing", "cannot reach"),
        ("definitely not a url", "cannot reach"),
        ("mysql://root@127.0.0.1/x", "cannot reach"),
    ],
)
def test_bad_database_url_shows_a_clear_page(
    monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    at = open_app().run()
    assert not at.exception
    assert expected in at.title[0].value
    message = at.error[0].value
    assert "DATABASE_URL" in message
    assert "secret-pw" not in message  # the password is never shown


def test_unmigrated_database_asks_for_migrate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    at = open_app().run()
    assert not at.exception
    assert "out of date" in at.title[0].value
    assert "python cli.py migrate" in at.warning[0].value


def test_owner_adds_a_service_and_a_stylist_on_team_page(app_db: AppDb) -> None:
    at = open_app(app_db.users[Role.OWNER]).run()
    at.switch_page("app_pages/admin_team.py").run()
    at.text_input(key="service_new_name").input("Cut & style")
    at.number_input(key="service_new_duration").set_value(45)
    at.number_input(key="service_new_price").set_value(39.9)
    at.button(key="service_new_save").click().run()
    assert not at.exception
    assert "Cut & style saved." in [s.value for s in at.success]

    at.text_input(key="staff_new_name").input("Anna")
    at.text_input(key="staff_new_phone").input("12")
    at.button(key="staff_new_save").click().run()
    assert any("not a valid phone number" in e.value for e in at.error)

    at.text_input(key="staff_new_phone").input("030 1234567")
    at.button(key="staff_new_save").click().run()
    assert not at.exception and "Anna saved." in [s.value for s in at.success]
    with read_conn(app_db.engine) as conn:
        actor = app_db.users[Role.OWNER].actor
        [stylist] = list_staff(conn, actor=actor)
        [service] = list_services(conn, actor=actor)
    assert stylist["phone"] == "+49301234567"
    assert (service["price_cents"], service["duration_min"]) == (3990, 45)


def test_home_counts_todays_bookings_in_local_time(app_db: AppDb) -> None:
    day_start, _ = local_day_bounds(local_today("Europe/Berlin"), "Europe/Berlin")
    with write_tx(app_db.engine) as conn:
        staff_id = make_staff(conn, app_db.business_id, name="Mara")
        service_id = make_service(conn, app_db.business_id)
        now = datetime.now(UTC)
        for hours, status in ((10, "booked"), (12, "cancelled"), (-2, "booked")):  # -2: yesterday
            start = day_start + timedelta(hours=hours)
            conn.execute(
                appointments.insert().values(
                    business_id=app_db.business_id, staff_id=staff_id, service_id=service_id,
                    starts_at=start, ends_at=start + timedelta(minutes=45), status=status,
                    price_cents=4500, created_at=now, updated_at=now,
                )
            )  # fmt: skip
    at = open_app(app_db.users[Role.STAFF]).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Appointments today"] == "1"
    assert metrics["Cancelled today"] == "1"
    today = at.dataframe[0].value
    assert today.loc["Mara", "Booked"] == 1 and today.loc["Mara", "Cancelled"] == 1
