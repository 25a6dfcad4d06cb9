"""Health (owner): database, migrations, providers and versions."""

from __future__ import annotations

import platform
from importlib import metadata

import streamlit as st

from auth.roles import Permission
from data.db import DatabaseUnavailable, check_connection, redact_url
from data.migrate import migration_state
from ui.session import get_engine, get_settings, require_permission

PACKAGES = ("streamlit", "sqlalchemy", "alembic", "pandas", "prophet", "scikit-learn",
            "openai", "twilio", "supabase", "psycopg")  # fmt: skip

require_permission(Permission.VIEW_HEALTH)
settings = get_settings()
engine = get_engine()

st.title("Health")

st.subheader("Database")
try:
    version = check_connection(engine)
except DatabaseUnavailable as exc:
    st.error(f"Unreachable: {exc}")
else:
    st.success(f"Reachable: {version}")
st.caption(f"DATABASE_URL = `{redact_url(settings.database_url)}`")

state = migration_state(engine)
if state.is_current:
    st.success(f"Migrations current (revision `{state.head}`).")
else:
    st.warning(
        f"Database at `{state.current or 'none'}`, code expects `{state.head}`: "
        "run `python cli.py migrate`."
    )

st.subheader("Providers")
st.dataframe(
    [{"Feature": k, "Path in use": v} for k, v in settings.provider_paths().items()],
    hide_index=True,
    key="health_providers",
)

st.subheader("Versions")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


st.dataframe(
    [{"Component": "python", "Version": platform.python_version()}]
    + [{"Component": p, "Version": _version(p)} for p in PACKAGES],
    hide_index=True,
    key="health_versions",
)
