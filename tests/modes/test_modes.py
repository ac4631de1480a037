"""Test and live keep apart: a purchase in one mode never blocks one in the other, Razorpay's
events about the other mode's records are kept for it, and only an admin reads across."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask

from payments_service.razorpay_events import EventContext, retry_stale_events
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials, order_body
from tests.contract.openapi import WEBHOOK, assert_conforms, assert_problem
from tests.modes.conftest import LIVE_KEY_ID


def test_a_live_purchase_is_not_blocked_by_the_same_buyers_active_test_enrollment(
    checkout: Checkout,
    live_checkout: Checkout,
    new_site: SiteCredentials,
    sandbox_keys: Callable[[str], None],
    db_rows: Any,
) -> None:
    key = {**new_site.headers, "Idempotency-Key": "buy-python-101"}
    test_order = checkout.client.post("/v1/orders", json=order_body(), headers=key)
    checkout.buy(new_site)  # she owns python-101 in test mode
    sandbox_keys(LIVE_KEY_ID)

    live_order = live_checkout.client.post("/v1/orders", json=order_body(), headers=key)
    bought = live_checkout.buy(new_site)

    assert live_order.status_code == 201, live_order.get_json()  # not already_owned
    assert live_order.get_json()["id"] != test_order.get_json()["id"]  # the key is per mode
    assert (bought["mode"], bought["status"]) == ("live", "paid")
    assert db_rows("SELECT mode, status FROM enrollments ORDER BY mode") == [
        {"mode": "live", "status": "active"},
        {"mode": "test", "status": "active"},
    ]
    assert db_rows("SELECT DISTINCT duplicate_of_enrollment FROM payments") == [
        {"duplicate_of_enrollment": None}
    ]


def test_an_event_about_a_test_order_reaching_live_keys_is_kept_for_test_mode(
    app: Flask,
    checkout: Checkout,
    live_webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    db_rows: Any,
) -> None:
    order = checkout.create_order(new_site)
    checkout.pay(order)  # the buyer paid; verify never came
    event = live_webhooks.event(order["checkout"]["order_id"], "payment.captured")

    answer = live_webhooks.deliver(event)
    again = live_webhooks.deliver(event)

    assert_conforms(answer, WEBHOOK, 200)
    assert answer.get_json()["status"] == "other_mode"
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert db_rows("SELECT mode, status, order_id FROM razorpay_events") == [
        {"mode": "test", "status": "other_mode", "order_id": order["id"]}
    ]
    assert db_rows("SELECT mode, status FROM orders") == [{"mode": "test", "status": "created"}]
    assert db_rows("SELECT id FROM payments UNION ALL SELECT id FROM notifications") == []

    # Back on test keys, the worker applies what arrived meanwhile.
    assert retry_stale_events(EventContext.of(app.extensions["payments_service"]), timedelta(0))
    assert db_rows("SELECT status FROM razorpay_events") == [{"status": "applied"}]
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]


def test_an_admin_reads_the_other_mode_by_asking_and_a_site_cannot(
    checkout: Checkout,
    live_app: Flask,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    order = checkout.buy(new_site)
    live = live_app.test_client()

    listed = live.get("/v1/orders?mode=test", headers=admin_headers)
    one = live.get(f"/v1/orders/{order['id']}?mode=test", headers=admin_headers)
    own_mode = live.get("/v1/orders?mode=live", headers=new_site.headers)
    refused = live.get("/v1/orders?mode=test", headers=new_site.headers)
    unknown = live.get("/v1/orders?mode=staging", headers=admin_headers)

    assert [item["id"] for item in listed.get_json()["items"]] == [order["id"]]
    assert_conforms(one, "/v1/orders/{order_id}", 200)
    assert one.get_json()["mode"] == "test"
    assert live.get(f"/v1/orders/{order['id']}", headers=admin_headers).status_code == 404
    assert own_mode.status_code == 200 and own_mode.get_json()["items"] == []
    assert_problem(refused, "/v1/orders", 403, "forbidden")
    assert refused.get_json()["field"] == "mode"
    assert_problem(unknown, "/v1/orders", 422, "validation_error")
    assert "mode" in unknown.get_json()["errors"]
    for path in ("/v1/payments", "/v1/refunds", "/v1/notifications", "/v1/webhook-events"):
        assert_conforms(live.get(f"{path}?mode=test", headers=admin_headers), path, 200)
    trail = live.get("/v1/customers/asha@example.com/transactions?mode=test", headers=admin_headers)
    assert [e["kind"] for e in trail.get_json()["entries"]][:1] == ["order.created"]
