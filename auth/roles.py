"""Roles, permissions and the signed-in actor. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    STAFF = "staff"
    ANALYST = "analyst"


class Permission(StrEnum):
    MANAGE_BUSINESS = "manage_business"  # settings, staff, services, hours, time off
    MANAGE_ACCOUNTS = "manage_accounts"
    VIEW_AUDIT_LOG = "view_audit_log"
    VIEW_HEALTH = "view_health"
    MANAGE_BOOKINGS = "manage_bookings"  # calendar, bookings, customers, reminders
    VIEW_ANALYTICS = "view_analytics"
    EXPORT_DATA = "export_data"
    ACT_ON_RECOMMENDATIONS = "act_on_recommendations"  # generate, mark implemented, dismiss


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.STAFF: frozenset({Permission.MANAGE_BOOKINGS}),
    Role.ANALYST: frozenset({Permission.VIEW_ANALYTICS, Permission.EXPORT_DATA}),
}


class PermissionDenied(PermissionError):
    """The actor's role does not allow this."""


@dataclass(frozen=True)
class Actor:
    """Who is acting: every mutating function takes one and checks it."""

    account_id: int | None
    business_id: int
    role: Role
    label: str  # "account:<id>" for people, "cli" or "system" for operations

    @classmethod
    def for_account(cls, *, account_id: int, business_id: int, role: str) -> Actor:
        return cls(account_id, business_id, Role(role), f"account:{account_id}")

    @classmethod
    def operator(cls, *, business_id: int, label: str = "cli") -> Actor:
        """A trusted operator (CLI, seeding): owner rights within one business."""
        return cls(None, business_id, Role.OWNER, label)

    def can(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(f"the {self.role.value} role may not {permission.value}")
