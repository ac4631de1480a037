from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from payments_service.db import notifications as notifications_sql
from payments_service.notifications import LEASE, RETRY_WINDOW, deliver_due
from tests.conftest import Checkout, Clock, SiteCredentials, register_site

FAST = (0.5, 0.5)


@dataclass
class Receiver:
    """A site's callback endpoint on loopback: records what arrives, answers as told."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)  # per path, consumed in order
    default: int = 200
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        time.sleep(self.delay)
        with self.lock:
            queue = self.answers.get(request.path, [])
            status = queue.pop(0) if queue else self.default
            if 200 <= status < 300:
                self.received.append(
                    {
                        "path": request.path,
                        "body": request.get_data(),
                        "headers": dict(request.headers),
                    }
                )
        headers = {"Location": "https://elsewhere.example/"} if status in (301, 302) else {}
        return Response("ok", status=status, headers=headers)(environ, start_response)

    def bodies(self, path: str | None = None) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.received if path in (None, r["path"])]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    server = make_server("127.0.0.1", 0, hook, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.port}"
    yield hook
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def sites(app: Flask, receiver: Receiver) -> dict[str, SiteCredentials]:
    return {
        name: register_site(app, name, f"http://{name}.localhost", f"{receiver.url}/{name}")
        for name in ("new-site", "old-site")
    }


@pytest.fixture
def deliver(app: Flask, clock: Clock) -> Iterator[Any]:
    services = app.extensions["payments_service"]
    session = requests.Session()

    def run(**kwargs: Any) -> Any:
        return deliver_due(
            services.db, session, clock=clock, rng=random.Random(7), timeout=FAST, **kwargs
        )

    yield run
    session.close()


def _verify_signature(secret: str, record: dict[str, Any]) -> bool:
    parts = dict(p.split("=", 1) for p in record["headers"]["X-Payments-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + record["body"], hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def test_a_purchase_tells_its_site_it_was_paid_and_every_site_who_owns_it(
    checkout: Checkout,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    deliver: Any,
    db_rows: Any,
) -> None:
    order = checkout.buy(sites["new-site"])

    report = deliver()

    assert report.delivered == 3
    to_new = receiver.bodies("/new-site")
    to_old = receiver.bodies("/old-site")
    assert sorted(b["type"] for b in to_new) == ["enrollment.granted", "order.paid"]
    assert [b["type"] for b in to_old] == ["enrollment.granted"]
    granted = to_old[0]["data"]["enrollment"]
    assert (granted["customer_email"], granted["sku"]) == ("asha@example.com", "python-101")
    paid = next(b for b in to_new if b["type"] == "order.paid")
    assert paid["data"]["order"]["id"] == order["id"]
    assert paid["data"]["order"]["site_user_id"] == "u-42"
    for record in receiver.received:
        site = sites[record["path"].strip("/")]
        assert _verify_signature(site.callback_secret, record)
        assert record["headers"]["X-Payments-Event-Id"] == json.loads(record["body"])["id"]
    assert db_rows("SELECT DISTINCT status FROM notifications") == [{"status": "delivered"}]


def test_each_site_hears_its_own_user_id_for_the_customer(
    checkout: Checkout, sites: dict[str, SiteCredentials], receiver: Receiver, deliver: Any
) -> None:
    checkout.create_order(
        sites["old-site"], customer={"email": "asha@example.com", "site_user_id": "legacy-7"}
    )
    checkout.buy(sites["new-site"])
    deliver()
    granted = {
        r["path"]: json.loads(r["body"])["data"]["site_user_id"]
        for r in receiver.received
        if b"enrollment.granted" in r["body"]
    }
    assert granted == {"/new-site": "u-42", "/old-site": "legacy-7"}


def test_a_failed_payment_is_told_to_its_site_only(
    checkout: Checkout,
    webhooks: Any,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    deliver: Any,
) -> None:
    order = checkout.create_order(sites["new-site"])
    checkout.pay(order, outcome="failure")
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.failed"))
    deliver()
    assert [(r["path"], json.loads(r["body"])["type"]) for r in receiver.received] == [
        ("/new-site", "payment.failed")
    ]


def test_a_receiver_down_for_a_while_gets_everything_in_order_per_order(
    checkout: Checkout,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    deliver: Any,
    clock: Clock,
) -> None:
    receiver.default = 503
    order = checkout.buy(sites["new-site"])
    checkout.refund(sites["new-site"].headers, payment_id=order["payment_id"], amount=10000)
    checkout.refund(sites["new-site"].headers, payment_id=order["payment_id"])
    for _ in range(3):
        deliver()
        clock.advance(timedelta(minutes=10))
    assert receiver.received == []

    receiver.default = 200
    for _ in range(6):
        clock.advance(timedelta(hours=1))
        deliver()

    about_order = [
        b["type"]
        for b in receiver.bodies("/new-site")
        if b["data"].get("order", {}).get("id") == order["id"]
    ]
    assert about_order == ["order.paid", "refund.processed", "refund.processed"]
    about_access = [b["type"] for b in receiver.bodies("/old-site")]
    assert about_access == ["enrollment.granted", "enrollment.revoked"]


def test_retries_follow_the_backoff_schedule_then_the_notification_dies(
    checkout: Checkout,
    app: Flask,
    receiver: Receiver,
    clock: Clock,
    deliver: Any,
    db_rows: Any,
) -> None:
    site = register_site(app, "solo-site", "http://solo.localhost", f"{receiver.url}/solo")
    receiver.default = 500
    checkout.buy(site, product={"sku": "solo-1", "name": "Solo"})
    delays: list[float] = []
    while (
        db_rows("SELECT status FROM notifications WHERE event_type = 'order.paid'")[0]["status"]
        == "pending"
    ):
        before = clock.now
        deliver()
        (row,) = db_rows(
            "SELECT next_attempt_at, attempts, status FROM notifications "
            "WHERE event_type = 'order.paid'"
        )
        if row["status"] != "pending":
            break
        delays.append((row["next_attempt_at"] - before).total_seconds())
        clock.now = row["next_attempt_at"]

    (row,) = db_rows(
        "SELECT status, attempts, created_at, last_status_code FROM notifications "
        "WHERE event_type = 'order.paid'"
    )
    assert row["status"] == "dead" and row["last_status_code"] == 500
    assert clock.now - row["created_at"] >= RETRY_WINDOW
    expected = [min(30 * 2**n, 3600) for n in range(len(delays))]
    assert all(e / 2 <= d <= e for d, e in zip(delays, expected, strict=True)), delays
    assert row["attempts"] == len(delays) + 1 >= 25


def test_timeouts_redirects_and_errors_are_retried_without_blocking_other_sites(
    checkout: Checkout, app: Flask, receiver: Receiver, deliver: Any, db_rows: Any
) -> None:
    sites = {
        name: register_site(app, name, f"http://{name}.localhost", f"{receiver.url}/{name}")
        for name in ("steady", "moved", "broken", "fine")
    }
    receiver.answers = {"/moved": [302], "/broken": [500]}
    register_site(app, "gone", "http://gone.localhost", "http://127.0.0.1:9/x")  # unreachable
    checkout.buy(sites["fine"])

    report = deliver()

    delivered = {r["path"] for r in receiver.received}
    assert delivered >= {"/fine", "/steady"}
    assert "/moved" not in delivered and "/broken" not in delivered
    assert report.failed == 3  # moved, broken, gone
    failed = db_rows(
        "SELECT site_id, last_status_code, last_error FROM notifications "
        "WHERE status = 'pending' ORDER BY site_id"
    )
    assert [(f["site_id"], f["last_status_code"]) for f in failed] == [
        ("broken", 500),
        ("gone", None),
        ("moved", 302),
    ]
    assert "unreachable" in failed[1]["last_error"]


def test_a_receiver_that_hangs_times_out_and_is_retried(
    checkout: Checkout,
    app: Flask,
    receiver: Receiver,
    deliver: Any,
    clock: Clock,
    db_rows: Any,
) -> None:
    site = register_site(app, "hangs", "http://hangs.localhost", f"{receiver.url}/hangs")
    checkout.buy(site, product={"sku": "hang-1", "name": "Hang"})
    receiver.delay = 1.0  # longer than the 0.5 s read timeout
    assert deliver().failed == 2  # order.paid and enrollment.granted
    receiver.delay = 0.0
    clock.advance(timedelta(minutes=5))
    assert deliver().delivered == 2
    assert db_rows("SELECT DISTINCT status FROM notifications") == [{"status": "delivered"}]


def test_a_worker_dying_mid_delivery_loses_nothing(
    app: Flask,
    checkout: Checkout,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    deliver: Any,
    clock: Clock,
    dsn: str,
) -> None:
    import psycopg

    checkout.buy(sites["new-site"])
    with psycopg.connect(dsn) as conn:  # a worker leased them, then was killed
        conn.execute(
            "UPDATE notifications SET attempts = 1, next_attempt_at = %s + interval '60 seconds'",
            (clock.now,),
        )
    assert deliver().delivered == 0
    clock.advance(timedelta(seconds=61))
    assert deliver().delivered == 3


def test_two_workers_never_deliver_the_same_notification_at_once(
    app: Flask,
    checkout: Checkout,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    db_rows: Any,
) -> None:
    for n in range(8):
        checkout.buy(sites["new-site"], customer={"email": f"b{n}@example.com"})
    receiver.delay = 0.05
    services = app.extensions["payments_service"]

    def work() -> None:
        with requests.Session() as session:
            while deliver_due(services.db, session, limit=3, timeout=FAST).delivered:
                pass

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    ids = [r["headers"]["X-Payments-Event-Id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 24
    assert db_rows("SELECT DISTINCT attempts FROM notifications") == [{"attempts": 1}]


def test_a_worker_skips_what_another_worker_holds_instead_of_waiting_or_taking_it(
    app: Flask,
    checkout: Checkout,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    db_rows: Any,
) -> None:
    for n in range(2):  # 3 notifications each, each about its own subject
        checkout.buy(sites["new-site"], customer={"email": f"b{n}@example.com"})
    everything = {row["id"] for row in db_rows("SELECT id FROM notifications")}
    assert len(everything) == 6
    db = app.extensions["payments_service"].db
    now = datetime.now(UTC)

    # The first worker's claim stays open (its rows locked) while the second one runs.
    # Were the rows not skipped, the second claim would wait on those locks until the
    # statement timeout fails it, or take them once they were released.
    with db.transaction() as first:
        held = {d.notification.id for d in notifications_sql.claim_due(first, now, now + LEASE, 3)}
        assert len(held) == 3
        with requests.Session() as session:
            second = deliver_due(db, session, timeout=FAST)

    assert second.delivered == 3
    delivered = {r["headers"]["X-Payments-Event-Id"] for r in receiver.received}
    assert delivered == everything - held
    leased = db_rows(
        "SELECT id, status, attempts FROM notifications WHERE id = ANY(%s)", list(held)
    )
    assert sorted(leased, key=lambda row: row["id"]) == [
        {"id": notification_id, "status": "pending", "attempts": 1}
        for notification_id in sorted(held)
    ]
    with requests.Session() as session:  # leased to the first worker: nobody else takes them
        assert deliver_due(db, session, timeout=FAST).delivered == 0
    assert len(receiver.received) == 3


def test_a_dead_notification_is_redelivered_by_an_admin_with_the_same_body(
    client: Any,
    checkout: Checkout,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    deliver: Any,
    admin_headers: dict[str, str],
    dsn: str,
) -> None:
    import psycopg

    checkout.buy(sites["new-site"])
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE notifications SET status = 'dead' WHERE event_type = 'order.paid'")
        (original,) = (
            conn.execute(
                "SELECT id, body FROM notifications WHERE event_type = 'order.paid'"
            ).fetchone(),
        )
    dead = client.get("/v1/notifications?status=dead", headers=admin_headers).get_json()
    assert [n["id"] for n in dead["items"]] == [original[0]]

    answer = client.post(f"/v1/notifications/{original[0]}/redeliver", headers=admin_headers)
    assert answer.status_code == 200 and answer.get_json()["status"] == "pending"
    deliver()

    (record,) = [r for r in receiver.received if r["headers"]["X-Payments-Event-Id"] == original[0]]
    assert record["body"] == original[1].encode()
    assert (
        client.post("/v1/notifications/evt_nope/redeliver", headers=admin_headers).status_code
        == 404
    )
    assert client.get("/v1/notifications", headers=sites["new-site"].headers).status_code == 403


def test_a_deactivated_site_stops_receiving(
    checkout: Checkout,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    deliver: Any,
    dsn: str,
    db_rows: Any,
) -> None:
    import psycopg

    checkout.buy(sites["new-site"])
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE sites SET is_active = false WHERE id = 'old-site'")
    deliver()
    assert {r["path"] for r in receiver.received} == {"/new-site"}
    assert db_rows("SELECT status FROM notifications WHERE site_id = 'old-site'") == [
        {"status": "cancelled"}
    ]
