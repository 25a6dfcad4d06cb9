"""The deterministic demo business: a Berlin hair salon with two years of history.

`build_demo` is pure (numpy and pandas only): the same `(appointments, seed, today)`
gives identical frames. `seed_demo` writes one build into a database in a single
transaction, so a failure leaves nothing behind.

The model, in the order it is built:

1. **Calendar.** Two years up to `today` plus six weeks ahead, in Europe/Berlin. "Now"
   is local midnight at the start of `today`: everything before it has happened,
   everything from it on is still booked. Sundays and German public holidays (the
   `holidays` package, as business-wide time off) are closed.
2. **Salon.** Seven stylists of five kinds (senior, colourist, stylist, barber, junior),
   each with their own weekly hours (lunch breaks, late shifts, part time), the services
   their kind offers, two vacations a year and the odd sick leave. One of them joined
   during the first year (time off "Not yet with the salon" until then).
3. **Candidate slots.** Every working block is packed with back-to-back services on a
   15-minute grid, each followed by its buffer. Candidates never overlap, so any subset
   of them is a valid calendar: thinning them can never double-book anyone.
4. **Demand.** Each candidate is kept with probability `min(1, scale * demand)`, where
   demand is the product of a time-of-day curve (late-morning and after-work peaks),
   the weekday (Friday and Saturday busiest), the season (December peak, January and
   summer dips), 15 % yearly growth, day-to-day noise and per-stylist popularity.
   Every candidate also draws a lead time (minutes for walk-ins, hours to weeks for
   bookings); future slots survive only if they were booked before now, so the
   calendar thins out further ahead.
5. **Customers.** Week by week, about one visit in ten is a first visit; the rest go to
   active customers, weighted by each one's own visit rate. A third of newcomers never
   return, others leave after a random lifetime, a fifth stay. Some walk-ins have no
   customer record. Contact details are fictional: `example.*` e-mail domains and the
   Bundesnetzagentur's "Drama Numbers" (see `data/demo/names.py`).
6. **Outcomes.** Cancellations and no-shows grow with the lead time; an SMS reminder
   (the customer's opt-in) roughly halves no-shows. Past visits end completed,
   cancelled or no_show; upcoming ones are booked or confirmed, or already cancelled.

Size. `appointments=None` keeps the natural scale, solved so that 72 % of the past
working time is booked (about two thirds after cancellations): about 21-22 thousand
appointments for seven stylists and 3-4 thousand customers. `appointments=N` returns
exactly N: the scale is solved for slightly more than N candidates, then a random subset
is dropped. Beyond what seven stylists can serve at that utilisation (about 10 % over
it), the salon grows instead: more staff (the same eight kinds and schedules, repeated)
and, through the visit model, more customers, in proportion; a million appointments is
a salon of about 300 stylists and 150 thousand customers.

Modules, in the model's order: `calendar` (1), `salon` (2), `slots` (3-4), `customers`
(5) and `outcomes` (6). `model` holds the public types and the parameters, `build`
assembles the steps into a `DemoData`, `seeding` writes it, and `names` is the fixed
vocabulary.
"""

from typing import TYPE_CHECKING

from data.demo.accounts import DEMO_ACCOUNTS, DEMO_SLUG, DemoAccount

if TYPE_CHECKING:
    from data.demo.build import build_demo
    from data.demo.model import DemoAlreadySeeded, DemoData, DemoSummary
    from data.demo.seeding import seed_demo

#: numpy, pandas and holidays load only when the generator is used, not when the
#: sign-in page asks which demo accounts exist (it keeps the app's cold start short).
_LAZY = {
    "build_demo": "data.demo.build",
    "seed_demo": "data.demo.seeding",
    "DemoAlreadySeeded": "data.demo.model",
    "DemoData": "data.demo.model",
    "DemoSummary": "data.demo.model",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'data.demo' has no attribute {name!r}")


__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_SLUG",
    "DemoAccount",
    "DemoAlreadySeeded",
    "DemoData",
    "DemoSummary",
    "build_demo",
    "seed_demo",
]
