"""Who starts a reconciliation and for which window: the worker heals old unpaid orders; the
API needs an admin and a forward window Razorpay can list, and answers 503 when it is down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import razorpay
from flask import Flask

from payments_service.reconcile import heal_open_orders
from tests.actions import Checkout, SiteCredentials
from tests.reconciliation.old_site import WINDOW


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
