"""Sign-in: local accounts (argon2id) or Supabase Auth, with the demo accounts while in demo."""

from __future__ import annotations

import streamlit as st

from auth.service import SignInError, sign_in
from data.db import read_conn
from data.demo_access import load_demo_sign_ins
from ui.session import get_engine, get_settings, sign_in_user


@st.cache_data(ttl=30, show_spinner=False)
def _demo_sign_ins(url: str) -> list[tuple[str, str, str]]:
    with read_conn(get_engine()) as conn:
        return [(a.role, a.email, a.password) for a in load_demo_sign_ins(conn)]


settings = get_settings()
st.title("Sign in to Slotboard")
if settings.supabase_auth_enabled:
    st.caption(f"Sign-in through Supabase Auth at {settings.supabase_url}.")
else:
    st.caption("Sign-in with local Slotboard accounts.")

with st.form("sign_in_form"):
    email = st.text_input("E-mail", key="sign_in_email", autocomplete="username")
    password = st.text_input(
        "Password", type="password", key="sign_in_password", autocomplete="current-password"
    )
    submitted = st.form_submit_button("Sign in", type="primary")

if submitted:
    if not email.strip() or not password:
        st.error("Enter your e-mail and password.")
    else:
        try:
            result = sign_in(get_engine(), settings=settings, email=email, password=password)
        except SignInError as exc:  # wrong credentials, throttled, or provider down
            st.error(str(exc))
        else:
            sign_in_user(result)
            st.rerun()

demo = _demo_sign_ins(settings.database_url)
if demo:
    st.info("This database holds the **demo business**. Sign in with one of these accounts:")
    st.table(
        [{"Role": role, "E-mail": email, "Password": pw} for role, email, pw in demo],
        hide_index=True,
    )
