"""The done-when of test and live: switching the keys from test to live on a database full of
test purchases shows an empty live trail, and loses nothing when switched back."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient

from payments_service.notifications import deliver_due
from payments_service.reconcile import heal_open_orders
from payments_service.worker import run_pass
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials
from tests.site_notifications.receiving import FAST, Receiver

EMAIL = "asha@example.com"


def _deliver(app: Flask) -> Any:
    services = app.extensions["payments_service"]
    with requests.Session() as session:
        return deliver_due(services.db, session, rng=random.Random(7), timeout=FAST)


def _test_purchases(checkout: Checkout, sites: dict[str, SiteCredentials]) -> dict[str, Any]:
    """Paid, refunded (access revoked), enrolled and notified; one order left unpaid."""
    kept = checkout.buy(sites["new-site"])
    refunded = checkout.buy(sites["old-site"], product={"sku": "go-201", "name": "Go 201"})
    answer = checkout.refund(sites["old-site"].headers, order_id=refunded["id"])
    assert answer.status_code == 201, answer.get_json()
    unpaid = checkout.create_order(sites["new-site"], product={"sku": "rust-1", "name": "Rust"})
    return {"kept": kept, "refunded": refunded, "refund": answer.get_json(), "unpaid": unpaid}


def _everything(client: FlaskClient, admin: dict[str, str], site: SiteCredentials) -> Any:
    """What an admin and a site can read: every list, the trail, and ownership."""
    reads = {
        path: client.get(path, headers=admin).get_json()
        for path in (
            "/v1/orders",
            "/v1/payments",
            "/v1/refunds",
            f"/v1/enrollments?customer_email={EMAIL}&status=active",
            f"/v1/enrollments?customer_email={EMAIL}&status=revoked",
            "/v1/notifications",
            f"/v1/customers/{EMAIL}/transactions",
        )
    }
    events = client.get("/v1/webhook-events", headers=admin).get_json()
    reads["/v1/webhook-events"] = events["items"]
    owns = f"/v1/enrollments?customer_email={EMAIL}&sku=python-101"
    reads["owns"] = client.get(owns, headers=site.headers).get_json()["items"]
    return reads


def test_live_keys_on_a_database_of_test_purchases_see_nothing_and_switching_back_loses_nothing(
    app: Flask,
    live_app: Flask,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    made = _test_purchases(checkout, sites)
    kept_at_razorpay = made["kept"]["razorpay_order_id"]
    assert webhooks.deliver(webhooks.event(kept_at_razorpay, "payment.captured")).status_code == 200
    assert _deliver(app).delivered > 0  # the sites heard of the paid orders and grants
    heard = len(receiver.received)
    # And a change the sites are still to hear of when the keys are switched.
    second = checkout.refund(sites["new-site"].headers, order_id=made["kept"]["id"])
    assert second.status_code == 201
    test_client = app.test_client()
    before = _everything(test_client, admin_headers, sites["new-site"])
    assert before["/v1/orders"]["items"] and before["/v1/webhook-events"]
    assert before["owns"] == []  # refunded in full: access revoked
    pending = db_rows("SELECT id FROM notifications WHERE status = 'pending'")
    assert pending

    live = live_app.test_client()
    seen_live = _everything(live, admin_headers, sites["new-site"])

    assert seen_live == {
        "/v1/orders": {"items": [], "next_cursor": None},
        "/v1/payments": {"items": [], "next_cursor": None},
        "/v1/refunds": {"items": [], "next_cursor": None},
        f"/v1/enrollments?customer_email={EMAIL}&status=active": {"items": []},
        f"/v1/enrollments?customer_email={EMAIL}&status=revoked": {"items": []},
        "/v1/notifications": {"items": [], "next_cursor": None},
        f"/v1/customers/{EMAIL}/transactions": {
            "customer_email": EMAIL,
            "entries": [],
            "totals": [],
            "is_truncated": False,
        },
        "/v1/webhook-events": [],
        "owns": [],
    }
    for path in (
        f"/v1/orders/{made['kept']['id']}",
        f"/v1/orders/{made['unpaid']['id']}",
        f"/v1/refunds/{made['refund']['id']}",
    ):
        assert live.get(path, headers=admin_headers).status_code == 404, path
    trail = f"/v1/customers/{EMAIL}/transactions"
    assert test_client.get(trail, headers=sites["old-site"].headers).status_code == 200
    assert live.get(trail, headers=sites["old-site"].headers).status_code == 404  # sold nothing

    services = live_app.extensions["payments_service"]
    healed = heal_open_orders(services.db, services.gateway, older_than=timedelta(0))
    assert (healed.seen, healed.errors) == (0, 0)
    with requests.Session() as session:
        report = run_pass(services, session)
    assert not any(vars(report).values()), report
    assert len(receiver.received) == heard  # no test notification delivered on live keys
    assert db_rows("SELECT checked_at FROM orders WHERE checked_at IS NOT NULL") == []
    assert db_rows("SELECT id FROM notifications WHERE status = 'pending'") == pending

    after = _everything(test_client, admin_headers, sites["new-site"])

    assert after == before
    assert _deliver(app).delivered == len(pending)
    told = [r["body"] for r in receiver.received[heard:]]
    assert told and all(b'"mode":"test"' in body for body in told)
