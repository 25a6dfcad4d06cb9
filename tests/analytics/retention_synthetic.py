"""Visit-event test data for the retention features: hand-built rows and two simulated
populations with planted mechanisms (deterministic per seed).

Both populations are a salon in SYNTHETIC_TZ as seen at `end`: rows created before
`end`, outcomes for rows that started before it, live bookings (booked/confirmed) after.
Customers arrive over the period, visit every few weeks (lognormal gaps around 3 to 8
weeks), cancel and rebook now and then, and keep a favourite staff member and service.

- make_churn_population: the churn hazard after each visit rises with the customer's
  no-show habit, with NOT pre-booking the next visit at checkout (pre-bookers hold a
  future booking; a pre-booker who leaves cancels it some days later), with a falling
  visit frequency (gaps that grow), and is lower for customers loyal to one staff member.
- make_noshow_population: a no-show depends on lead time, the customer's own habit, the
  local hour (evenings) and weekday (Mondays and Fridays) and on being a new customer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from analytics.visits import build_visits

SYNTHETIC_TZ = "Europe/Berlin"
SERVICE_PRICES = np.array([2500, 3500, 4500, 6000, 8000, 9500, 12000, 15000])  # ids 1..8
N_STAFF = 6
HOUR = 1 / 24


def make_visits(rows: list[dict]) -> pd.DataFrame:
    """Hand-built rows -> a valid visits frame. Each row needs customer_id and starts_at
    (anything pd.Timestamp reads; naive means UTC). Defaults: appointment_id = position
    + 1, staff_id 1, service_id 1, price_cents 5000, status completed, created_at 7 days
    before the start, cancelled_at none."""
    filled = []
    for number, row in enumerate(rows, start=1):
        starts = pd.Timestamp(row["starts_at"])
        filled.append(
            {
                "appointment_id": number,
                "staff_id": 1,
                "service_id": 1,
                "price_cents": 5000,
                "status": "completed",
                "created_at": starts - pd.Timedelta(days=7),
                "cancelled_at": pd.NaT,
            }
            | row
        )
    return build_visits(pd.DataFrame(filled))


def as_known_at(visits: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """What the database held at `cutoff`: rows created before it, and for rows not yet
    started (or cancelled only later) no outcome: they are still booked then."""
    known = visits[visits["created_at"] < cutoff].copy()
    later_cancel = known["cancelled_at"] >= cutoff
    known.loc[later_cancel, "cancelled_at"] = pd.NaT
    pending = later_cancel | (
        (known["starts_at"] >= cutoff) & (known["status"].isin(["completed", "no_show"]))
    )
    known.loc[pending, "status"] = "booked"
    return build_visits(known)


def make_more_future(visits: pd.DataFrame, cutoff: pd.Timestamp, *, seed: int) -> pd.DataFrame:
    """`visits` plus what may happen after `cutoff` without changing what was known at
    it: 60 rows created after it (40 for existing customers, 20 for new ones; any
    status), and half the bookings live at the cutoff cancelled an hour after it."""
    rng = np.random.default_rng(seed)
    later = cutoff + pd.to_timedelta(rng.uniform(0, 50, 60), unit="D")
    customers = np.r_[rng.choice(visits["customer_id"].unique(), 40), 10_000 + np.arange(20)]
    extra = pd.DataFrame(
        {
            "appointment_id": visits["appointment_id"].max() + 1 + np.arange(60),
            "customer_id": customers,
            "staff_id": 1,
            "service_id": 2,
            "starts_at": later + pd.Timedelta(days=3),
            "created_at": later,
            "cancelled_at": pd.NaT,
            "status": rng.choice(["completed", "no_show", "booked", "cancelled"], 60),
            "price_cents": 4200,
        }
    )
    cancelled = extra["status"] == "cancelled"
    extra["cancelled_at"] = (extra["created_at"] + pd.Timedelta(days=1)).where(cancelled)
    changed = visits.copy()
    live = (changed["created_at"] < cutoff) & (changed["starts_at"] >= cutoff)
    live &= changed["cancelled_at"].isna() & (rng.random(len(changed)) < 0.5)
    assert live.any()
    changed.loc[live, "status"] = "cancelled"
    changed.loc[live, "cancelled_at"] = cutoff + pd.Timedelta(hours=1)
    return build_visits(pd.concat([changed, extra]))


def make_churn_population(
    n_customers: int, *, seed: int, end: pd.Timestamp, years: float = 2.0
) -> pd.DataFrame:
    """A visits frame with the planted churn mechanism of the module docstring."""
    return _Simulation(n_customers, seed=seed, end=end, years=years).run(
        no_show_p=lambda ctx: ctx["habit"],
        hazard=lambda ctx: _sigmoid(
            -4.4
            + 8.0 * ctx["habit"]
            + 1.8 * ~ctx["prebooker"]
            + 1.4 * ctx["declining"]
            - 1.2 * ctx["loyal"]
        ),
    )


def make_noshow_population(
    n_customers: int, *, seed: int, end: pd.Timestamp, years: float = 1.5
) -> pd.DataFrame:
    """A visits frame with the planted no-show mechanism of the module docstring."""
    return _Simulation(n_customers, seed=seed, end=end, years=years).run(
        no_show_p=lambda ctx: _sigmoid(
            -4.2
            + 0.06 * np.minimum(ctx["lead_days"], 40)
            + 6.0 * ctx["habit"]
            + 1.1 * (ctx["hour"] >= 18)
            + 0.5 * np.isin(ctx["weekday"], [0, 4])
            + 1.0 * (ctx["visit_number"] == 0)
        ),
        hazard=lambda ctx: np.full(len(ctx["habit"]), 0.04),
    )


Model = Callable[[dict[str, np.ndarray]], np.ndarray]


def _sigmoid(logit: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-logit))


class _Simulation:
    """Steps every customer one booking at a time, vectorised over customers. Times are
    day offsets from `origin` (local midnight) in wall-clock days; `days` is `end`."""

    def __init__(self, n: int, *, seed: int, end: pd.Timestamp, years: float) -> None:
        self.rng = rng = np.random.default_rng(seed)
        self.end = end
        local_end = pd.Timestamp(end).tz_convert(SYNTHETIC_TZ).tz_localize(None)
        self.origin = (local_end - pd.Timedelta(days=years * 365.25)).floor("D")
        self.days = days = (local_end - self.origin) / pd.Timedelta(days=1)
        heavy = rng.random(n) < 0.2
        first = days * np.sqrt(rng.random(n)) * 0.98  # arrivals grow over the period
        self.traits = {
            "base_gap": np.exp(rng.uniform(np.log(21), np.log(56), n)),
            "habit": np.where(heavy, rng.beta(3, 7, n), rng.beta(1, 40, n)),
            "prebooker": rng.random(n) < 0.35,
            "loyal": rng.random(n) < 0.5,
            "declining": rng.random(n) < 0.3,
            "cancel_p": rng.beta(1.5, 18, n),
            "staff": rng.integers(1, N_STAFF + 1, n),
            "service": rng.integers(1, len(SERVICE_PRICES) + 1, n),
            "hour": rng.choice(np.arange(9, 20), n),
        }
        self.start_day = np.floor(first)  # the next booking's day
        self.created = first - rng.exponential(7.0, n) - HOUR * 3  # ... and when it was made
        self.visit_number = np.zeros(n, dtype=int)
        self.active = np.ones(n, dtype=bool)
        self.chunks: list[dict[str, np.ndarray]] = []

    def run(self, *, no_show_p: Model, hazard: Model) -> pd.DataFrame:
        rng, n = self.rng, len(self.active)
        while self.active.any():
            who = np.flatnonzero(self.active)
            hour = np.clip(self.traits["hour"][who] + rng.integers(-1, 2, len(who)), 9, 19)
            starts = self.start_day[who] + (hour + rng.choice([0, 0.5], len(who))) * HOUR
            booked = np.minimum(self.created[who], starts - HOUR * 2)
            exists = booked < self.days  # a booking made after `end` never happened
            self.active[~np.isin(np.arange(n), who[exists])] = False
            if not exists.any():
                break
            row = self._rows(who[exists], starts[exists], booked[exists], no_show_p)
            self.active[row["customer"][row["starts"] >= self.days]] = False  # live at end
            self._advance(row, hazard)
        return self._frame()

    def _context(self, who: np.ndarray) -> dict[str, np.ndarray]:
        return {name: values[who] for name, values in self.traits.items()}

    def _rows(
        self, who: np.ndarray, starts: np.ndarray, booked: np.ndarray, no_show_p: Model
    ) -> dict[str, np.ndarray]:
        """One appointment per customer in `who`: staff, service, price and status."""
        rng, m, days = self.rng, len(who), self.days
        loyal = np.where(self.traits["loyal"][who], 0.95, 0.4)
        staff = np.where(rng.random(m) < loyal, self.traits["staff"][who], rng.integers(1, 7, m))
        service = np.where(rng.random(m) < 0.7, self.traits["service"][who], rng.integers(1, 9, m))
        ctx = self._context(who) | {
            "lead_days": starts - booked,
            "hour": np.floor((starts % 1) * 24 + 1e-9),
            "weekday": (self.origin.weekday() + np.floor(starts).astype(int)) % 7,
            "visit_number": self.visit_number[who],
        }
        cancel_at = booked + rng.uniform(0.1, 0.95, m) * (starts - booked)
        cancelled = (rng.random(m) < self.traits["cancel_p"][who]) & (cancel_at < days)
        no_show = rng.random(m) < no_show_p(ctx)
        status = np.where(cancelled, "cancelled", np.where(no_show, "no_show", "completed"))
        row = {"customer": who, "staff": staff, "service": service, "starts": starts}
        row |= {
            "price": SERVICE_PRICES[service - 1],
            "created": booked,
            "cancelled": np.where(cancelled, cancel_at, np.nan),
            "status": np.where(~cancelled & (starts >= days), "booked", status),
        }
        self.chunks.append(row)
        return row

    def _advance(self, row: dict[str, np.ndarray], hazard: Model) -> None:
        """Schedule each customer's next booking, or let them churn."""
        rng, traits = self.rng, self.traits
        cancelled = row["status"] == "cancelled"
        again = row["customer"][cancelled]  # rebooked a few days later, at the cancellation
        self.start_day[again] = np.floor(row["starts"][cancelled] + rng.uniform(2, 10, len(again)))
        self.created[again] = row["cancelled"][cancelled]
        seen, seen_starts = row["customer"][~cancelled], row["starts"][~cancelled]
        churn = rng.random(len(seen)) < hazard(self._context(seen))
        self.visit_number[seen[row["status"][~cancelled] == "completed"]] += 1
        growth = np.where(traits["declining"][seen], 1.12, 1.0) ** self.visit_number[seen]
        gap = traits["base_gap"][seen] * growth * rng.lognormal(0, 0.25, len(seen))
        next_start = np.floor(seen_starts + gap)
        prebooks = rng.random(len(seen)) < np.where(traits["prebooker"][seen], 0.9, 0.05)
        lead = np.clip(rng.exponential(5.0, len(seen)), 0.2, np.maximum(gap - 1, 0.2))
        self.start_day[seen] = next_start
        self.created[seen] = np.where(
            prebooks, seen_starts + HOUR, np.maximum(next_start + 0.375 - lead, seen_starts + HOUR)
        )
        leaving = churn & prebooks  # a leaver cancels the pre-booked visit 3 to 20 days later
        booked = self.created[seen[leaving]]
        starts = next_start[leaving] + 0.5
        cancel = np.minimum(booked + rng.uniform(3, 20, len(starts)), starts - HOUR)
        kept = {key: row[key][~cancelled][leaving] for key in ("staff", "service", "price")}
        self.chunks.append(
            kept
            | {"customer": seen[leaving], "starts": starts, "created": booked}
            | {"cancelled": cancel, "status": np.full(len(starts), "cancelled")}
        )
        self.active[seen[churn]] = False

    def _frame(self) -> pd.DataFrame:
        """Day offsets -> UTC instants; the frame as known at `end`."""
        data = {key: np.concatenate([c[key] for c in self.chunks]) for key in self.chunks[0]}

        def instants(offsets: np.ndarray) -> pd.Series:
            local = self.origin + pd.to_timedelta(np.round(offsets * 86_400), unit="s")
            no_dst = np.zeros(len(local), dtype=bool)  # an ambiguous hour: standard time
            utc = pd.Series(local).dt.tz_localize(
                SYNTHETIC_TZ, ambiguous=no_dst, nonexistent="shift_forward"
            )
            return utc.dt.tz_convert("UTC")

        frame = pd.DataFrame(
            {
                "customer_id": data["customer"] + 1,
                "staff_id": data["staff"],
                "service_id": data["service"],
                "price_cents": data["price"],
                "starts_at": instants(data["starts"]),
                "created_at": instants(data["created"]),
                "cancelled_at": instants(data["cancelled"]),
                "status": data["status"],
            }
        ).sort_values("created_at", kind="stable")
        frame["appointment_id"] = np.arange(1, len(frame) + 1)  # in booking order
        return as_known_at(build_visits(frame), self.end)
