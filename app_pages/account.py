"""My account: who I am, and a password change for local accounts."""

from __future__ import annotations

import streamlit as st

from auth.passwords import WeakPassword
from auth.service import SignInError, change_own_password
from ui.session import current_business, current_user, get_engine, get_settings, require_permission

actor = require_permission()
user = current_user()
assert user is not None
business = current_business(actor)

st.title("My account")
st.markdown(
    f"**{user.display_name}** · `{user.email}`  \n"
    f"Role: **{user.role.value}** at **{business['name']}**  \n"
    f"Signs in with: {'Supabase Auth' if user.auth_provider == 'supabase' else 'a local password'}"
)

if user.auth_provider != "local":
    st.info("Your password is managed by Supabase Auth.")
    st.stop()

st.subheader("Change password")
with st.form("change_password", clear_on_submit=True):
    current = st.text_input("Current password", type="password", key="pw_current")
    new = st.text_input("New password (10 characters or more)", type="password", key="pw_new")
    repeat = st.text_input("Repeat new password", type="password", key="pw_repeat")
    submitted = st.form_submit_button("Change password", type="primary")

if submitted:
    if new != repeat:
        st.error("The new passwords do not match.")
    else:
        try:
            change_own_password(
                get_engine(),
                actor=actor,
                current_password=current,
                new_password=new,
                settings=get_settings(),
            )
        except (SignInError, WeakPassword) as exc:
            st.error(str(exc))
        else:
            st.success("Password changed.")
