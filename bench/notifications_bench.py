"""Notifications: enqueue and dispatch throughput on a scratch database. Prints JSON.

Phases (issue 7's Performance section), on one business with --messages appointments
(one SMS reminder each, planning-shaped keys, so the dispatcher's appointment recheck
runs too):
1. enqueue --messages reminders in one `enqueue_messages` call (target < 3 s), then the
   same again (every key a duplicate: a no-op);
2. dispatch them all through the console provider, unpaced (target < 15 s);
3. through a local HTTP stub of Twilio's Messages API (a threading HTTPServer that waits
   --latency seconds per request, then answers 201 {"sid": "SM..."}), with TwilioSender and
   the official client pointed at it: --http-messages serially (one worker, unpaced), then
   with 4 worker threads each running `dispatch_pending` under one shared RateLimiter set
   high (1,000/s), then --rate-messages with 4 workers held to the configured
   `send_rate_per_second`, showing the observed rate stays within it.
Every HTTP phase checks each message reached the stub exactly once.
Usage: .venv/bin/python bench/notifications_bench.py [--engine sqlite|postgresql]
       [--messages 10000] [--http-messages 2000] [--rate-messages 50]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from twilio.http.http_client import TwilioHttpClient  # noqa: E402
from twilio.http.response import Response  # noqa: E402

from auth.roles import Actor  # noqa: E402
from bench.scratch import scratch_postgresql, scratch_sqlite  # noqa: E402
from data.business import create_business  # noqa: E402
from data.db import make_engine, write_tx  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402
from data.outbox import enqueue_messages  # noqa: E402
from data.schema import appointments, customers, notifications, services, staff  # noqa: E402
from notifications.console import ConsoleSender  # noqa: E402
from notifications.dispatcher import RateLimiter, dispatch_pending  # noqa: E402
from notifications.twilio_sms import TwilioSender  # noqa: E402
from scheduling.business import BusinessSettings  # noqa: E402
from settings import load_settings  # noqa: E402

TARGETS = {"enqueue_seconds": 3.0, "console_dispatch_seconds": 15.0}
SID, TOKEN = "AC" + "0" * 32, "bench-token"
WORKERS = 4


class _Stub(BaseHTTPRequestHandler):
    """Just enough of POST /2010-04-01/Accounts/{sid}/Messages.json."""

    server: StubServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        time.sleep(self.server.latency)
        self.server.note(parse_qs(body).get("To", [""])[0])
        payload = json.dumps({"sid": "SM" + uuid.uuid4().hex, "account_sid": SID,
                              "status": "queued"}).encode()  # fmt: skip
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_: Any) -> None:
        pass


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, latency: float) -> None:
        super().__init__(("127.0.0.1", 0), _Stub)
        self.latency, self.lock = latency, threading.Lock()
        self.received: list[tuple[float, str]] = []

    def note(self, recipient: str) -> None:
        with self.lock:
            self.received.append((time.monotonic(), recipient))


class LocalTwilio(TwilioHttpClient):
    """The stock client, sending to the stub instead of https://api.twilio.com."""

    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=10.0)
        self.base_url = base_url
        if self.session is not None:
            self.session.trust_env = False

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        local = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, local, *args, **kwargs)


def main() -> None:
    args = _parse()
    scratch = scratch_postgresql if args.engine == "postgresql" else scratch_sqlite
    with scratch() as url:
        engine = make_engine(url)
        upgrade_to_head(engine)
        report = run(engine, args)
        engine.dispose()
    limited = report["http_rate_limited"]
    report["ok"] = {
        "enqueue": report["enqueue_seconds"] < TARGETS["enqueue_seconds"],
        "console_dispatch": report["console_dispatch_seconds"]
        < TARGETS["console_dispatch_seconds"],
        "rate_respected": limited["observed_rate_per_second"]
        <= limited["configured_rate_per_second"] * 1.02,  # network jitter
    }
    print(json.dumps(report, indent=2))


def run(engine: sa.Engine, args: argparse.Namespace) -> dict[str, Any]:
    now = datetime.now(UTC)
    business, appointment_ids = _seed(engine, args.messages, now)
    actor = Actor.operator(business_id=business, label="bench")
    out: dict[str, Any] = {"engine": args.engine, "targets": TARGETS, "messages": args.messages}
    batch = _messages(business, appointment_ids, now)
    started = time.perf_counter()
    with write_tx(engine) as conn:
        result = enqueue_messages(conn, actor=actor, messages=batch)
    out["enqueue_seconds"] = _since(started)
    started = time.perf_counter()
    with write_tx(engine) as conn:
        again = enqueue_messages(conn, actor=actor, messages=batch)
    out["re_enqueue_noop_seconds"] = _since(started)
    out["enqueued"], out["re_enqueue_duplicates"] = result.inserted, again.duplicates
    console = ConsoleSender()
    started = time.perf_counter()
    report = dispatch_pending(engine, senders={"sms": console}, rate_per_second=None)
    out["console_dispatch_seconds"] = _since(started)
    out["console_sent"] = report.sent
    out["console_msgs_per_second"] = round(report.sent / out["console_dispatch_seconds"])
    with StubServer(args.latency) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        phase = {"engine": engine, "actor": actor, "server": server, "now": now}
        batch_http = batch[: args.http_messages]
        out["http_serial"] = _http(**phase, batch=batch_http, workers=1, rate=None)
        out["http_concurrent"] = _http(**phase, batch=batch_http, workers=WORKERS, rate=1000.0)
        rate = load_settings().send_rate_per_second
        out["http_rate_limited"] = _http(**phase, batch=batch[: args.rate_messages],
                                         workers=WORKERS, rate=rate)  # fmt: skip
        server.shutdown()
    out["http_latency_seconds"] = args.latency
    return out


def _http(
    *, engine: sa.Engine, actor: Actor, server: StubServer, now: datetime,
    batch: list[dict[str, Any]], workers: int, rate: float | None,
) -> dict[str, Any]:  # fmt: skip
    """Re-queue `batch`, dispatch it through the stub with `workers` threads sharing one
    limiter at `rate`; throughput, and the most requests the stub saw in any second."""
    with write_tx(engine) as conn:
        conn.execute(notifications.delete())
        enqueue_messages(conn, actor=actor, messages=batch)
    server.received.clear()
    limiter = RateLimiter(rate)
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def work(_: int) -> int:
        sender = TwilioSender(SID, TOKEN, from_number="+15005550006",
                              http_client=LocalTwilio(base))  # fmt: skip
        return dispatch_pending(engine, senders={"sms": sender}, limiter=limiter,
                                batch_size=25).sent  # fmt: skip

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        sent = sum(pool.map(work, range(workers)))
    seconds = _since(started)
    stamps = sorted(at for at, _ in server.received)
    per_recipient = Counter(to for _, to in server.received)
    return {
        "workers": workers, "messages": len(batch), "sent": sent, "seconds": seconds,
        "msgs_per_second": round(sent / seconds, 1),
        "configured_rate_per_second": rate,
        "observed_rate_per_second": round((len(stamps) - 1) / (stamps[-1] - stamps[0]), 2),
        "max_in_any_second": max(_window(stamps, i) for i in range(len(stamps))),
        "exactly_once": len(per_recipient) == len(batch) and max(per_recipient.values()) == 1,
    }  # fmt: skip


def _window(stamps: list[float], i: int) -> int:
    """Requests in the one-second window starting at stamps[i] (stamps sorted)."""
    end = i
    while end < len(stamps) and stamps[end] < stamps[i] + 1.0:
        end += 1
    return end - i


def _seed(engine: sa.Engine, n: int, now: datetime) -> tuple[int, list[int]]:
    """One business with a stylist, a service, a customer and `n` booked appointments
    (one an hour from tomorrow on)."""
    stamps = {"created_at": now, "updated_at": now}
    with write_tx(engine) as conn:
        settings = BusinessSettings(name="Bench Salon", timezone="Europe/Berlin",
                                    country="DE", currency="EUR")  # fmt: skip
        business = create_business(conn, settings=settings, slug="bench-salon")
        owned = {"business_id": business, **stamps}
        stylist = conn.execute(staff.insert().values(display_name="Sam", **owned))
        service = conn.execute(services.insert().values(
            name="Cut", duration_min=45, buffer_min=15, price_cents=4500, **owned))  # fmt: skip
        person = conn.execute(customers.insert().values(
            first_name="Ada", last_name="Bench", sms_opt_in=True, **owned))  # fmt: skip
        ids = {"staff_id": stylist.inserted_primary_key[0],
               "service_id": service.inserted_primary_key[0],
               "customer_id": person.inserted_primary_key[0]}  # fmt: skip
        first = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        rows = [{**owned, **ids, "starts_at": first + timedelta(hours=i),
                 "ends_at": first + timedelta(hours=i, minutes=45), "status": "booked",
                 "price_cents": 4500} for i in range(n)]  # fmt: skip
        conn.execute(appointments.insert(), rows)
        query = sa.select(appointments.c.id).where(appointments.c.business_id == business)
        return business, sorted(conn.execute(query).scalars())


def _messages(business: int, appointment_ids: list[int], now: datetime) -> list[dict[str, Any]]:
    due = now - timedelta(minutes=1)
    stamp = due.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        {"channel": "sms", "recipient": f"+4915{i:09d}", "body": f"Reminder {i}: see you soon",
         "template_kind": "reminder", "variant": "A", "appointment_id": appointment,
         "idempotency_key": f"b{business}:a{appointment}:reminder:sms:{stamp}",
         "scheduled_at": due}
        for i, appointment in enumerate(appointment_ids)
    ]  # fmt: skip


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--http-messages", type=int, default=2_000)
    parser.add_argument("--rate-messages", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    return parser.parse_args()


if __name__ == "__main__":
    main()
