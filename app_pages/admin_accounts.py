"""Accounts & roles (owner): who may sign in, with which role."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from auth.passwords import WeakPassword
from auth.roles import Permission, Role
from data.accounts import create_account, list_accounts, set_password, update_account
from data.db import read_conn, write_tx
from scheduling.business import first_error
from ui.session import after_write, get_engine, get_settings, require_permission, show_flash

actor = require_permission(Permission.MANAGE_ACCOUNTS)
engine = get_engine()
provider = "supabase" if get_settings().supabase_auth_enabled else "local"
ROLES = [r.value for r in Role]
USER_ERRORS = (ValueError, LookupError, ValidationError, WeakPassword)

st.title("Accounts & roles")
show_flash()
st.caption(
    "Owners see everything; staff run the calendar, bookings, customers and reminders; "
    f"analysts read analytics and export. New accounts sign in with: {provider} passwords."
)

with read_conn(engine) as conn:
    rows = list_accounts(conn, actor=actor)
table = pd.DataFrame(rows)[["email", "display_name", "role", "auth_provider", "is_active",
                            "last_sign_in_at"]]  # fmt: skip
st.dataframe(table, hide_index=True, width="stretch", key="accounts_table")


def _run(action, success: str) -> None:  # type: ignore[no-untyped-def]
    try:
        with write_tx(engine) as conn:
            action(conn)
    except USER_ERRORS as exc:
        st.error(first_error(exc))
    else:
        after_write(success)
        st.rerun()


add, edit, reset = st.tabs(["Add account", "Change role or access", "Reset password"])
with add, st.form("add_account", clear_on_submit=False):
    email = st.text_input("E-mail", key="acct_email")
    name = st.text_input("Name", key="acct_name")
    role = st.selectbox("Role", ROLES, index=ROLES.index("staff"), key="acct_role")
    password = ""
    if provider == "local":
        password = st.text_input("Initial password", type="password", key="acct_password")
    if st.form_submit_button("Add account", type="primary"):
        if not email.strip() or not name.strip():
            st.error("E-mail and name are required.")
        else:
            _run(
                lambda conn: create_account(
                    conn,
                    actor=actor,
                    email=email,
                    display_name=name,
                    role=role,
                    password=password or None,
                    auth_provider=provider,
                ),  # fmt: skip
                f"Account {email.strip().lower()} added.",
            )

by_label = {f"{r['display_name']} <{r['email']}>": r for r in rows}
with edit, st.form("edit_account"):
    label = st.selectbox("Account", list(by_label), key="edit_account_pick")
    current = by_label[label]
    new_role = st.selectbox("Role", ROLES, index=ROLES.index(current["role"]), key="edit_role")
    active = st.checkbox("May sign in", value=current["is_active"], key="edit_active")
    if st.form_submit_button("Save"):
        _run(
            lambda conn: update_account(
                conn, actor=actor, account_id=current["id"], role=new_role, is_active=active
            ),
            "Saved. The change is in the audit log.",
        )

with reset, st.form("reset_password", clear_on_submit=True):
    label = st.selectbox("Account", list(by_label), key="reset_account_pick")
    new_password = st.text_input("New password", type="password", key="reset_password_value")
    if st.form_submit_button("Reset password"):
        target = by_label[label]
        if target["auth_provider"] != "local":
            st.error("This account signs in through Supabase Auth; reset it there.")
        else:
            _run(
                lambda conn: set_password(
                    conn, actor=actor, account_id=target["id"], new_password=new_password
                ),
                "Password reset.",
            )
