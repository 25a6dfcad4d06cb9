"""Shared pieces of the browser tests: skip rule, a seeded demo database, signing in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.streamlit_server import CHROMIUM
from data.db import make_engine
from data.demo import DemoAccount, seed_demo
from data.migrate import upgrade_to_head

#: Every browser test module sets `pytestmark = BROWSER`. In CI Chromium must be there.
BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (.ci/run installs it)",
    ),
]


def seed_demo_database(folder: Path) -> str:
    """A migrated SQLite file with a small demo salon; returns its URL."""
    url = f"sqlite:///{folder / 'demo.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    seed_demo(engine, appointments=3000, seed=11)
    engine.dispose()
    return url


def sign_in(page, base: str, account: DemoAccount) -> None:  # type: ignore[no-untyped-def]
    page.goto(base, wait_until="networkidle")
    page.get_by_text("Sign in to Slotboard").wait_for(timeout=30_000)
    page.get_by_label("E-mail", exact=True).fill(account.email)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").wait_for(timeout=30_000)
