from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import razorpay
import requests
from flask import Flask

from payments_service.reconcile import heal_open_orders
from payments_service.sandbox import SandboxConfig, start_background
from tests.conftest import Checkout, SiteCredentials

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

    report = heal_open_orders(services.db, services.gateway, older_than=timedelta(0))

    assert (report.seen, report.updated) == (1, 1)
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
    assert heal_open_orders(services.db, services.gateway, older_than=timedelta(0)).seen == 0


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
