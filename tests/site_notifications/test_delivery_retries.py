"""Delivery when a site misbehaves: down for a while (everything arrives, in order per order),
retried on the backoff schedule then dead, timeouts, redirects and errors retried without
holding up other sites, a receiver that hangs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from payments_service.notifications import RETRY_WINDOW
from tests.actions import Checkout, Clock, SiteCredentials, register_site
from tests.site_notifications.receiving import HANGS_FOR, Receiver


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
    receiver.delay = HANGS_FOR
    assert deliver().failed == 2  # order.paid and enrollment.granted
    receiver.delay = 0.0
    clock.advance(timedelta(minutes=5))
    assert deliver().delivered == 2
    assert db_rows("SELECT DISTINCT status FROM notifications") == [{"status": "delivered"}]
