"""Full-page explanations for configuration and database failures (never a traceback)."""

from __future__ import annotations

import streamlit as st

from data.db import redact_url


def render_settings_error(message: str) -> None:
    st.title("Slotboard cannot start")
    st.error(f"A setting is invalid: {message}")
    st.markdown(
        "Settings come from the environment, then `.streamlit/secrets.toml`. "
        "See `.streamlit/secrets.toml.example` for every key."
    )
    st.stop()


def render_database_error(url: str, message: str) -> None:
    st.title("Slotboard cannot reach its database")
    st.error(f"**DATABASE_URL** = `{redact_url(url)}`\n\n{message}")
    st.markdown(
        "- Check that the server is running and the URL, user and password are right.\n"
        "- SQLite: `sqlite:///path/to/file.db`. PostgreSQL or Supabase: "
        "`postgresql+psycopg://user:password@host:5432/dbname`.\n"
        "- Set it in the environment or in `.streamlit/secrets.toml`, then reload."
    )
    st.stop()


def render_migration_needed(current: str | None, head: str) -> None:
    st.title("The database schema is out of date")
    st.warning(
        f"The database is at migration `{current or 'none'}`; this version of Slotboard "
        f"needs `{head}`. Run `python cli.py migrate` (or `make run`), then reload."
    )
    st.stop()
