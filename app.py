"""Slotboard: the entry frame. Settings, database check, sign-in gate, role-based navigation."""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from auth.roles import Permission
from data.db import DatabaseConfigError, DatabaseUnavailable, check_connection
from data.migrate import MigrationState, migration_state
from scheduling.business import first_error
from ui import errors
from ui.session import current_user, get_engine, get_settings, sign_out
from ui.usage import track_page_view

st.set_page_config(page_title="Slotboard", page_icon=":material/event_available:", layout="wide")

# Which pages each permission opens, grouped into the sidebar's sections.
P = Permission
SECTIONS: dict[str, list[tuple[str, str, str, Permission | None]]] = {
    "Slotboard": [
        ("app_pages/home.py", "Home", ":material/home:", None),
        ("app_pages/account.py", "My account", ":material/person:", None),
    ],
    "Insights": [
        ("app_pages/overview.py", "Overview", ":material/monitoring:", P.VIEW_ANALYTICS),
        ("app_pages/peak_times.py", "Peak times", ":material/query_stats:", P.VIEW_ANALYTICS),
        ("app_pages/retention.py", "Retention", ":material/person_remove:", P.VIEW_ANALYTICS),
        ("app_pages/recommendations.py", "Recommendations", ":material/auto_awesome:",
         P.VIEW_ANALYTICS),
        ("app_pages/exports.py", "Exports", ":material/download:", P.EXPORT_DATA),
    ],
    "Front desk": [
        ("app_pages/calendar.py", "Calendar", ":material/calendar_month:", P.MANAGE_BOOKINGS),
        ("app_pages/bookings.py", "Bookings", ":material/list_alt:", P.MANAGE_BOOKINGS),
        ("app_pages/customers.py", "Customers", ":material/contacts:", P.MANAGE_BOOKINGS),
        ("app_pages/notification_panel.py", "Notifications", ":material/sms:", P.MANAGE_BOOKINGS),
        ("app_pages/message_templates.py", "Message templates", ":material/edit_note:",
         P.MANAGE_BOOKINGS),
    ],
    "Admin": [
        ("app_pages/admin_business.py", "Business settings", ":material/store:", P.MANAGE_BUSINESS),
        ("app_pages/admin_team.py", "Team & services", ":material/groups:", P.MANAGE_BUSINESS),
        ("app_pages/admin_import.py", "Import", ":material/upload_file:", P.MANAGE_BUSINESS),
        ("app_pages/admin_accounts.py", "Accounts & roles", ":material/key:", P.MANAGE_ACCOUNTS),
        ("app_pages/admin_audit.py", "Audit log", ":material/history:", P.VIEW_AUDIT_LOG),
        ("app_pages/admin_usage.py", "Team usage", ":material/insights:", P.VIEW_AUDIT_LOG),
        ("app_pages/admin_health.py", "Health", ":material/monitor_heart:", P.VIEW_HEALTH),
    ],
}  # fmt: skip


@st.cache_data(ttl=15, show_spinner=False)
def _database_state(url: str) -> tuple[str, MigrationState]:
    engine = get_engine()
    version = check_connection(engine)
    return version, migration_state(engine)


def _check_ready() -> None:
    try:
        settings = get_settings()
    except ValidationError as exc:
        errors.render_settings_error(first_error(exc))
        return
    try:
        get_engine()
        _, state = _database_state(settings.database_url)
    except (DatabaseConfigError, DatabaseUnavailable) as exc:
        errors.render_database_error(settings.database_url, str(exc))
        return
    if not state.is_current:
        _database_state.clear()
        errors.render_migration_needed(state.current, state.head)


def _pages_for_user() -> dict[str, list[st.Page]]:
    user = current_user()
    assert user is not None
    nav: dict[str, list[st.Page]] = {}
    for section, pages in SECTIONS.items():
        allowed = [
            st.Page(path, title=title, icon=icon, default=path == "app_pages/home.py")
            for path, title, icon, permission in pages
            if permission is None or user.actor.can(permission)
        ]
        if allowed:
            nav[section] = allowed
    return nav


def _render_sidebar_user() -> None:
    user = current_user()
    assert user is not None
    with st.sidebar:
        st.caption(f"Signed in as **{user.display_name}** · {user.role.value}")
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            sign_out()
            st.rerun()


def main() -> None:
    _check_ready()
    if current_user() is None:
        st.navigation(
            [st.Page("app_pages/sign_in.py", title="Sign in", icon=":material/login:")]
        ).run()
        return
    _render_sidebar_user()
    page = st.navigation(_pages_for_user(), expanded=True)
    user = current_user()
    assert user is not None
    track_page_view(user.actor, page.title)
    page.run()


main()
