"""Staff and services by name (ignoring case), created on request through data.catalog.

A business has a handful of each, so they are loaded once per import and kept in memory.
Created ones are audited by `data.catalog` like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy.engine import Connection

from auth.roles import Actor
from data.catalog import create_service, create_staff, list_services, list_staff
from data.importer.mapping import ImportMapping
from scheduling.business import first_error
from scheduling.catalog import ServiceInput, StaffInput

DEFAULT_SERVICE_MINUTES = 60


@dataclass(frozen=True)
class ServiceInfo:
    id: int
    duration: timedelta
    price_cents: int


class Team:
    def __init__(self, conn: Connection, *, actor: Actor, mapping: ImportMapping) -> None:
        self.conn, self.actor, self.mapping = conn, actor, mapping
        self.staff = {
            row["display_name"].casefold(): row["id"] for row in list_staff(conn, actor=actor)
        }
        self.services = {
            row["name"].casefold(): ServiceInfo(
                row["id"], timedelta(minutes=row["duration_min"]), row["price_cents"]
            )
            for row in list_services(conn, actor=actor)
        }
        self.created = {"staff": 0, "services": 0}

    def missing(self, *, staff: str, service: str) -> dict[str, str]:
        """{"staff"/"service": reason} for names that are unknown and may not be created."""
        reasons = {}
        if staff.casefold() not in self.staff and not self.mapping.create_missing.staff:
            reasons["staff"] = (
                f"unknown staff member '{staff}': add them on the Team page, "
                "or allow create_missing.staff"
            )
        if service.casefold() not in self.services and not self.mapping.create_missing.services:
            reasons["service"] = (
                f"unknown service '{service}': add it on the Team page, "
                "or allow create_missing.services"
            )
        return reasons

    def staff_id(self, name: str) -> int:
        """The staff member's id, created if new (check `missing` first)."""
        found = self.staff.get(name.casefold())
        if found is not None:
            return found
        try:
            staff_id = create_staff(self.conn, actor=self.actor, data=StaffInput(display_name=name))
        except ValueError as exc:
            raise ValueError(f"cannot create staff member '{name}': {first_error(exc)}") from None
        self.staff[name.casefold()] = staff_id
        self.created["staff"] += 1
        return staff_id

    def service(
        self, name: str, *, duration: timedelta | None, price_cents: int | None
    ) -> ServiceInfo:
        """The service, created if new from the defaults, else from this row's figures."""
        found = self.services.get(name.casefold())
        if found is not None:
            return found
        defaults = self.mapping.defaults
        minutes = defaults.duration_min or _round_minutes(duration) or DEFAULT_SERVICE_MINUTES
        price = defaults.price
        if price is None:
            price = Decimal(price_cents or 0) / 100
        try:
            data = ServiceInput(name=name, duration_min=minutes, price=price)  # type: ignore[call-arg]
            service_id = create_service(self.conn, actor=self.actor, data=data)
        except ValueError as exc:
            raise ValueError(f"cannot create service '{name}': {first_error(exc)}") from None
        info = ServiceInfo(service_id, timedelta(minutes=minutes), int(price * 100))
        self.services[name.casefold()] = info
        self.created["services"] += 1
        return info


def _round_minutes(duration: timedelta | None) -> int | None:
    """A row's duration as a service duration: a multiple of 5 minutes in 5..600."""
    if duration is None:
        return None
    minutes = round(duration.total_seconds() / 60 / 5) * 5
    return min(max(minutes, 5), 600)
