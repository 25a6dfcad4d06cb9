"""Cached resources and the signed-in user, shared by app.py and every page."""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine

from auth.roles import Actor, Permission
from auth.service import SignedIn
from data.business import load_business
from data.db import make_engine, read_conn
from settings import Settings, load_settings

USER_KEY = "slotboard_user"
FLASH_KEY = "slotboard_flash"


def get_settings() -> Settings:
    """Settings are cheap to read and must follow the environment, so they are not cached."""
    return load_settings()


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    return _engine(get_settings().database_url)


def current_user() -> SignedIn | None:
    return st.session_state.get(USER_KEY)


def sign_in_user(user: SignedIn) -> None:
    st.session_state[USER_KEY] = user


def sign_out() -> None:
    st.session_state.pop(USER_KEY, None)


def require_permission(permission: Permission | None = None) -> Actor:
    """Gate a page: signed in, and (if given) holding the permission. Stops the page otherwise."""
    user = current_user()
    if user is None:
        st.error("Please sign in to open this page.")
        st.stop()
    actor = user.actor
    if permission is not None and not actor.can(permission):
        st.error(f"Your role ({actor.role.value}) may not open this page.")
        st.stop()
    return actor


@st.cache_data(ttl=60, show_spinner=False)
def _load_business(business_id: int, _engine: Engine, url: str) -> dict[str, Any]:
    with read_conn(_engine) as conn:
        return load_business(conn, business_id=business_id)


def current_business(actor: Actor) -> dict[str, Any]:
    engine = get_engine()
    return _load_business(actor.business_id, engine, str(engine.url))


def after_write(message: str | None = None) -> None:
    """Call after any write: clears cached readers and keeps a message across st.rerun()."""
    st.cache_data.clear()
    if message:
        st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    """Show (once) the message left by after_write before a rerun."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message)


HANDOFF_KEY = "handoff"  # {page path: {field: value}}: a pre-fill for the page opened next


def hand_off(page: str, values: dict[str, Any]) -> None:
    """Leave `values` for `page` (taken once by `take_handoff`), then open it."""
    st.session_state[HANDOFF_KEY] = {page: values}
    st.switch_page(page)


def take_handoff(page: str) -> dict[str, Any]:
    """The pre-fill another page left for `page` ({} when none); taken once."""
    waiting = st.session_state.get(HANDOFF_KEY) or {}
    return waiting.pop(page, None) or {}
