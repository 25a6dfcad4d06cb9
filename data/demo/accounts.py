"""The demo's sign-ins and slug: light, so the sign-in page can import them cheaply."""

from __future__ import annotations

from dataclasses import dataclass

from data.demo import names

DEMO_SLUG = "demo-salon"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    password: str
    display_name: str


#: One sign-in per role. The passwords are public on purpose: this is demo data.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("owner@demo.slotboard.test", "owner", "demo-owner-2026", "Sabine Brandt"),
    DemoAccount("staff@demo.slotboard.test", "staff", "demo-staff-2026", names.STAFF_NAMES[0]),
    DemoAccount("analyst@demo.slotboard.test", "analyst", "demo-analyst-2026", "Tom Becker"),
)
#: The demo "staff" account signs in as this staff member (staff.account_id).
STAFF_ACCOUNT_STAFF_ID = 1
