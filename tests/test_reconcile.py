from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import razorpay
import requests
from flask import Flask

from bench.seed import insert_reconcile_orders
from payments_service.reconcile import heal_open_orders, reconcile_window
from payments_service.sandbox import SandboxConfig, start_background
from tests.conftest import Checkout, SiteCredentials, register_site

WINDOW = {
    "from": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
    "to": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
}


@pytest.fixture
def own_sandbox() -> Iterator[Any]:
    """A sandbox holding only this test's payments, so counts are exact."""
    running = start_background(SandboxConfig(webhook_delivery="off"))
    yield running
    running.stop()


@pytest.fixture
def rapp(make_app: Any, own_sandbox: Any) -> Flask:
    app: Flask = make_app(razorpay_api_base_url=own_sandbox.url)
    return app


@pytest.fixture
def shop(rapp: Flask, own_sandbox: Any) -> Checkout:
    return Checkout(rapp.test_client(), own_sandbox)


def _reconcile(app: Flask, headers: dict[str, str]) -> dict[str, Any]:
    answer = app.test_client().post("/v1/reconcile", json=WINDOW, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return dict(answer.get_json())


def _old_site_purchase(sandbox: Any, email: str, **order_fields: Any) -> dict[str, Any]:
    """What the old site does on its own: an order at Razorpay, paid by a buyer."""
    sdk = razorpay.Client(
        auth=(sandbox.config.key_id, sandbox.config.key_secret), base_url=sandbox.url
    )
    order = sdk.order.create({"amount": 79900, "currency": "INR", **order_fields})
    paid = requests.post(
        f"{sandbox.url}/_sandbox/orders/{order['id']}/pay",
        json={"outcome": "success", "email": email},
        timeout=10,
    )
    assert paid.status_code == 200
    return dict(order)


def test_one_pass_heals_a_purchase_whose_verify_and_webhooks_were_all_lost(
    rapp: Flask,
    shop: Checkout,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    order = shop.create_order(new_site)
    shop.pay(order)  # the tab closes; the sandbox delivers no webhooks

    report = _reconcile(rapp, admin_headers)

    assert report["seen"] == 1 and report["updated"] == 1
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
    assert db_rows("SELECT granted_by FROM enrollments") == [{"granted_by": "reconcile"}]


def test_rerunning_a_pass_changes_nothing(
    rapp: Flask,
    shop: Checkout,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    for email in ("a@example.com", "b@example.com"):
        shop.pay(shop.create_order(new_site, customer={"email": email}))
    failed = shop.create_order(new_site, customer={"email": "c@example.com"})
    shop.pay(failed, outcome="failure")
    first = _reconcile(rapp, admin_headers)
    before = db_rows("SELECT id, status, updated_at FROM payments ORDER BY id")

    second = _reconcile(rapp, admin_headers)

    assert (first["seen"], first["updated"], first["unchanged"]) == (3, 3, 0)
    assert (second["seen"], second["updated"], second["unchanged"]) == (3, 0, 3)
    assert db_rows("SELECT id, status, updated_at FROM payments ORDER BY id") == before
    assert len(db_rows("SELECT id FROM enrollments")) == 2


def test_payments_of_orders_we_did_not_create_are_unmatched_without_import(
    rapp: Flask, own_sandbox: Any, admin_headers: dict[str, str], db_rows: Any
) -> None:
    _old_site_purchase(own_sandbox, "old@example.com", notes={"sku": "python-101"})
    report = _reconcile(rapp, admin_headers)
    assert (report["seen"], report["unmatched"], report["adopted"]) == (1, 1, 0)
    assert db_rows("SELECT id FROM orders") == []


def test_an_old_site_purchase_is_imported_with_its_enrollment(
    rapp: Flask, own_sandbox: Any, old_site: SiteCredentials, db_rows: Any
) -> None:
    order = _old_site_purchase(own_sandbox, "Old.Buyer@Example.com", notes={"sku": "python-101"})

    result = rapp.test_cli_runner().invoke(
        args=[
            "reconcile",
            "--from",
            _cli_time(-1),
            "--to",
            _cli_time(1),
            "--import-site",
            "old-site",
        ]
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["adopted"] == 1
    (stored,) = db_rows(
        "SELECT site_id, razorpay_order_id, status, amount, customer_email, product_sku FROM orders"
    )
    assert stored == {
        "site_id": "old-site",
        "razorpay_order_id": order["id"],
        "status": "paid",
        "amount": 79900,
        "customer_email": "old.buyer@example.com",
        "product_sku": "python-101",
    }
    assert db_rows("SELECT sku, source, customer_email FROM enrollments") == [
        {"sku": "python-101", "source": "import", "customer_email": "old.buyer@example.com"}
    ]
    again = rapp.test_cli_runner().invoke(
        args=[
            "reconcile",
            "--from",
            _cli_time(-1),
            "--to",
            _cli_time(1),
            "--import-site",
            "old-site",
        ]
    )
    assert json.loads(again.stdout)["adopted"] == 0
    assert json.loads(again.stdout)["unchanged"] == 1
    assert len(db_rows("SELECT id FROM orders")) == 1


def test_import_derives_the_sku_from_a_mapping_file_and_dry_run_writes_nothing(
    rapp: Flask, own_sandbox: Any, old_site: SiteCredentials, db_rows: Any, tmp_path: Path
) -> None:
    _old_site_purchase(own_sandbox, "map@example.com", receipt="PY101-2024-0042")
    _old_site_purchase(own_sandbox, "nosku@example.com", receipt="GIFT-CARD-7")
    sku_map = tmp_path / "skus.json"
    sku_map.write_text(
        json.dumps([{"pattern": "^PY101-", "sku": "python-101", "name": "Python 101"}])
    )
    args = [
        "reconcile",
        "--from",
        _cli_time(-1),
        "--to",
        _cli_time(1),
        "--import-site",
        "old-site",
        "--sku-map",
        str(sku_map),
    ]

    dry = rapp.test_cli_runner().invoke(args=[*args, "--dry-run"])

    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.stdout)
    assert [p["customer_email"] for p in report["would_adopt"]] == ["map@example.com"]
    assert report["unmatched"] == 1
    assert db_rows("SELECT id FROM orders") == []

    real = json.loads(rapp.test_cli_runner().invoke(args=args).stdout)
    assert real["adopted"] == 1
    assert db_rows("SELECT customer_email, sku FROM enrollments") == [
        {"customer_email": "map@example.com", "sku": "python-101"}
    ]


def test_the_worker_pass_heals_old_unpaid_orders(
    rapp: Flask, shop: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = shop.create_order(new_site)
    shop.pay(order)
    services = rapp.extensions["payments_service"]

    report = heal_open_orders(
        services.db, services.gateway, older_than=timedelta(0), refund_duplicates=True
    )

    assert (report.seen, report.updated) == (1, 1)
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
    assert (
        heal_open_orders(
            services.db, services.gateway, older_than=timedelta(0), refund_duplicates=True
        ).seen
        == 0
    )


def test_reconcile_needs_an_admin_and_a_forward_window(
    rapp: Flask, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    client = rapp.test_client()
    assert client.post("/v1/reconcile", json=WINDOW, headers=new_site.headers).status_code == 403
    backwards = {"from": WINDOW["to"], "to": WINDOW["from"]}
    answer = client.post("/v1/reconcile", json=backwards, headers=admin_headers)
    assert answer.status_code == 422
    naive = client.post(
        "/v1/reconcile",
        json={"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00"},
        headers=admin_headers,
    )
    assert naive.status_code == 422


def test_a_window_of_one_second_heals_the_payment_made_in_that_second(
    rapp: Flask,
    shop: Checkout,
    own_sandbox: Any,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    order = shop.create_order(new_site)
    paid = shop.pay(order)  # the tab closes; the sandbox delivers no webhooks
    sdk = razorpay.Client(
        auth=(own_sandbox.config.key_id, own_sandbox.config.key_secret), base_url=own_sandbox.url
    )
    created = sdk.payment.fetch(paid["razorpay_payment_id"])["created_at"]
    instant = datetime.fromtimestamp(created, UTC).isoformat()

    answer = rapp.test_client().post(
        "/v1/reconcile", json={"from": instant, "to": instant}, headers=admin_headers
    )

    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["seen"], answer.get_json()["updated"]) == (1, 1)
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]


def test_reconcile_reports_razorpay_down_as_503(
    make_app: Any, admin_headers: dict[str, str]
) -> None:
    from tests.test_create_order import socket_that_refuses

    with socket_that_refuses() as dead:
        down = make_app(razorpay_api_base_url=dead).test_client()
        answer = down.post("/v1/reconcile", json=WINDOW, headers=admin_headers)
    assert answer.status_code == 503


def _cli_time(hours: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")


def test_windows_razorpay_cannot_list_are_refused(
    rapp: Flask, admin_headers: dict[str, str]
) -> None:
    client = rapp.test_client()
    too_early = {"from": "1999-12-31T23:59:59Z", "to": "2000-01-01T01:00:00Z"}
    answer = client.post("/v1/reconcile", json=too_early, headers=admin_headers)
    assert answer.status_code == 422 and answer.get_json()["field"] == "from"
    too_late = {"from": "2120-12-31T00:00:00Z", "to": "2121-01-01T00:00:01Z"}
    answer = client.post("/v1/reconcile", json=too_late, headers=admin_headers)
    assert answer.status_code == 422 and answer.get_json()["field"] == "to"


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
        refund_duplicates=True,
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
