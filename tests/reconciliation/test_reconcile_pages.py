"""Reconciliation by pages: payments we already hold lock no order, a changed one among them is
applied, two attempts on one order in one page apply in turn, a malformed one is skipped
and the rest of its page applied, many pages apply every payment once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import razorpay
import requests
from flask import Flask

from bench.seed import insert_reconcile_orders
from payments_service.reconcile import reconcile_window
from tests.actions import Checkout, SiteCredentials, register_site
from tests.reconciliation.old_site import _reconcile


def test_a_pass_over_payments_we_already_hold_locks_no_order(
    make_app: Any,
    own_sandbox: Any,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    dsn: str,
) -> None:
    # A reconcile that waited for an order lock would hit this statement timeout.
    app = make_app(razorpay_api_base_url=own_sandbox.url, db_statement_timeout_ms=1000)
    shop = Checkout(app.test_client(), own_sandbox)
    for email in ("a@example.com", "b@example.com"):
        shop.pay(shop.create_order(new_site, customer={"email": email}))
    shop.pay(shop.create_order(new_site, customer={"email": "c@example.com"}), outcome="failure")
    assert _reconcile(app, admin_headers)["updated"] == 3

    with psycopg.connect(dsn) as holder:
        holder.execute("SELECT id FROM orders FOR UPDATE")  # a verify in progress on each
        second = _reconcile(app, admin_headers)
        holder.rollback()

    assert (second["seen"], second["unchanged"], second["updated"]) == (3, 3, 0)
    assert second["errors"] == 0


def test_a_changed_payment_among_unchanged_ones_is_applied(
    rapp: Flask,
    shop: Checkout,
    own_sandbox: Any,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    for email in ("a@example.com", "b@example.com"):
        shop.pay(shop.create_order(new_site, customer={"email": email}))
    requests.patch(f"{own_sandbox.url}/_sandbox/config", json={"auto_capture": False}, timeout=5)
    manual = shop.create_order(new_site, customer={"email": "late@example.com"})
    payment_id = shop.pay(manual)["razorpay_payment_id"]
    assert _reconcile(rapp, admin_headers)["updated"] == 3
    others = "SELECT id, updated_at FROM payments WHERE id <> %s ORDER BY id"
    before = db_rows(others, payment_id)
    sdk = razorpay.Client(
        auth=(own_sandbox.config.key_id, own_sandbox.config.key_secret), base_url=own_sandbox.url
    )
    sdk.payment.capture(payment_id, manual["amount"], {"currency": "INR"})  # e.g. in the dashboard

    report = _reconcile(rapp, admin_headers)

    assert (report["seen"], report["updated"], report["unchanged"]) == (3, 1, 2)
    assert db_rows("SELECT status FROM payments WHERE id = %s", payment_id) == [
        {"status": "captured"}
    ]
    assert db_rows("SELECT status FROM orders WHERE id = %s", manual["id"]) == [{"status": "paid"}]
    assert db_rows("SELECT customer_email FROM enrollments WHERE order_id = %s", manual["id"]) == [
        {"customer_email": "late@example.com"}
    ]
    assert db_rows(others, payment_id) == before


def test_two_attempts_on_one_order_in_one_page_apply_in_turn(
    rapp: Flask, shop: Checkout, admin_headers: dict[str, str], db_rows: Any
) -> None:
    site = register_site(rapp, "callback-site", "http://cb.localhost", "http://127.0.0.1:9/cb")
    order = shop.create_order(site)
    failed = shop.pay(order, outcome="failure")["error"]["metadata"]["payment_id"]
    captured = shop.pay(order)["razorpay_payment_id"]

    report = _reconcile(rapp, admin_headers)

    assert (report["seen"], report["updated"], report["errors"]) == (2, 2, 0)
    assert db_rows("SELECT id, status FROM payments ORDER BY status") == [
        {"id": captured, "status": "captured"},
        {"id": failed, "status": "failed"},
    ]
    assert db_rows("SELECT status, amount_paid FROM orders") == [
        {"status": "paid", "amount_paid": order["amount"]}
    ]
    assert len(db_rows("SELECT id FROM enrollments")) == 1
    assert sorted(row["event_type"] for row in db_rows("SELECT event_type FROM notifications")) == [
        "enrollment.granted",
        "order.paid",
        "payment.failed",
    ]
    again = _reconcile(rapp, admin_headers)
    assert (again["updated"], again["unchanged"]) == (0, 2)


def test_a_malformed_payment_is_skipped_and_the_rest_of_its_page_applied(
    rapp: Flask,
    shop: Checkout,
    own_sandbox: Any,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    good = shop.create_order(new_site, customer={"email": "good@example.com"})
    shop.pay(good)
    odd = shop.create_order(new_site, customer={"email": "odd@example.com"})
    shop.pay(odd, method="upi")
    services = rapp.extensions["payments_service"]
    pages = list(services.gateway.iter_payment_pages(946_684_800, 4_765_046_400))
    for entity in pages[0]:
        if entity["order_id"] == odd["checkout"]["order_id"]:
            entity["amount"] = "not a number"  # what a broken answer would hold

    class OnePage:
        """The gateway, answering the listing with the doctored page."""

        def iter_payment_pages(self, start: int, end: int) -> Any:
            return iter(pages)

        def iter_refunds(self, start: int, end: int) -> Any:
            return iter(())

    report = reconcile_window(
        services.db,
        OnePage(),  # type: ignore[arg-type]
        datetime.now(UTC) - timedelta(hours=1),
        datetime.now(UTC) + timedelta(hours=1),
    )

    assert (report.seen, report.updated, report.errors) == (2, 1, 1)
    assert db_rows("SELECT status FROM orders WHERE id = %s", good["id"]) == [{"status": "paid"}]
    assert db_rows("SELECT status FROM orders WHERE id = %s", odd["id"]) == [{"status": "created"}]


def test_a_pass_over_many_pages_applies_every_payment_once(
    rapp: Flask,
    own_sandbox: Any,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    dsn: str,
    db_rows: Any,
) -> None:
    seeded = requests.post(f"{own_sandbox.url}/_sandbox/seed", json={"orders": 250}, timeout=30)
    order_ids = [item["order_id"] for item in seeded.json()["items"]]
    insert_reconcile_orders(dsn, new_site.site_id, order_ids, 49900, "INR")

    first = _reconcile(rapp, admin_headers)
    second = _reconcile(rapp, admin_headers)

    assert (first["seen"], first["updated"], first["unchanged"]) == (250, 250, 0)
    assert first["errors"] == 0
    assert (second["seen"], second["updated"], second["unchanged"]) == (250, 0, 250)
    assert db_rows("SELECT status, count(*) AS n FROM orders GROUP BY status") == [
        {"status": "paid", "n": 250}
    ]
    assert db_rows("SELECT count(DISTINCT order_id) AS n FROM enrollments") == [{"n": 250}]
