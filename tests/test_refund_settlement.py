"""Refund status from Razorpay: webhooks in any order, a failed refund giving its amount back
(and flagging access it revoked), a refund made on the dashboard recorded from its webhook."""

from __future__ import annotations

from typing import Any

import requests

from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials
from tests.test_refunds import _configure, _sdk


def test_refund_webhooks_settle_status_in_any_arrival_order(
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    order = checkout.buy(new_site)
    _configure(sandbox, refund_outcome="pending")
    created = checkout.refund(new_site.headers, payment_id=order["payment_id"], amount=20000)
    assert created.get_json()["status"] == "pending"
    rfnd = created.get_json()["razorpay_refund_id"]
    requests.post(
        f"{sandbox.url}/_sandbox/refunds/{rfnd}/settle", json={"status": "processed"}, timeout=5
    ).raise_for_status()
    events = [e for e in webhooks.events_for(rfnd) if e["event"].startswith("refund.")]
    assert [e["event"] for e in events] == ["refund.created", "refund.processed"]

    for event in reversed(events):  # processed first, then the late created
        assert webhooks.deliver(event).get_json()["status"] == "applied"

    assert db_rows("SELECT status FROM refunds") == [{"status": "processed"}]
    assert db_rows("SELECT status, amount_refunded FROM orders") == [
        {"status": "partially_refunded", "amount_refunded": 20000}
    ]


def test_a_failed_refund_restores_the_refundable_amount_and_flags_revoked_access(
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    order = checkout.buy(new_site)
    _configure(sandbox, refund_outcome="pending")
    created = checkout.refund(new_site.headers, order_id=order["id"]).get_json()
    assert db_rows("SELECT status FROM enrollments") == [{"status": "revoked"}]
    rfnd = created["razorpay_refund_id"]
    requests.post(
        f"{sandbox.url}/_sandbox/refunds/{rfnd}/settle", json={"status": "failed"}, timeout=5
    ).raise_for_status()

    failed = [e for e in webhooks.events_for(rfnd) if e["event"] == "refund.failed"]
    assert webhooks.deliver(failed[0]).get_json()["status"] == "applied"

    (refund,) = db_rows("SELECT status, needs_attention FROM refunds")
    assert refund["status"] == "failed" and "re-grant" in refund["needs_attention"]
    assert db_rows("SELECT status, amount_refunded FROM orders") == [
        {"status": "paid", "amount_refunded": 0}
    ]
    assert db_rows("SELECT status FROM enrollments") == [{"status": "revoked"}]  # not silently
    _configure(sandbox, refund_outcome="processed")
    again = checkout.refund(new_site.headers, payment_id=order["payment_id"], amount=10000)
    assert again.status_code == 201


def test_a_refund_made_on_the_dashboard_is_recorded_from_its_webhook(
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    order = checkout.buy(new_site)
    refund = _sdk(sandbox).payment.refund(order["payment_id"], {"amount": 5000})
    event = [e for e in webhooks.events_for(refund["id"]) if e["event"] == "refund.processed"]

    assert webhooks.deliver(event[0]).get_json()["status"] == "applied"

    assert db_rows("SELECT razorpay_refund_id, amount, status, requested_by FROM refunds") == [
        {
            "razorpay_refund_id": refund["id"],
            "amount": 5000,
            "status": "processed",
            "requested_by": "razorpay",
        }
    ]
