"""Razorpay webhooks applied: each payment event on its own, in any order with verify, once
however often delivered, never moving a payment back; manual capture."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials

COMPOSED = Path(__file__).resolve().parent / "fixtures" / "razorpay" / "composed"
PAYMENT_EVENTS = ("payment.authorized", "payment.captured", "order.paid")


def _sign(body: bytes, secret: str = "sandbox_webhook_secret") -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _paid_without_verify(checkout: Checkout, site: SiteCredentials) -> dict[str, Any]:
    """An order whose buyer paid and closed the tab: no verify call reaches us."""
    order = checkout.create_order(site)
    checkout.pay(order)
    return order


def test_webhooks_alone_pay_the_order_when_the_tab_is_closed(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = _paid_without_verify(checkout, new_site)

    answers = [webhooks.deliver(e) for e in webhooks.events_for(order["razorpay_order_id"])]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.get_json()["status"] for a in answers] == ["applied"] * 3
    assert db_rows("SELECT status, amount_paid FROM orders") == [
        {"status": "paid", "amount_paid": 49900}
    ]
    assert db_rows("SELECT status FROM payments") == [{"status": "captured"}]
    assert db_rows("SELECT source, granted_by FROM enrollments") == [
        {"source": "purchase", "granted_by": "webhook"}
    ]
    stored = db_rows("SELECT event_type, status, order_id FROM razorpay_events ORDER BY 1")
    assert stored == [
        {"event_type": e, "status": "applied", "order_id": order["id"]}
        for e in sorted(PAYMENT_EVENTS)
    ]


@pytest.mark.parametrize("event_name", PAYMENT_EVENTS)
def test_each_payment_event_type_is_applied_on_its_own(
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    db_rows: Any,
    event_name: str,
) -> None:
    order = _paid_without_verify(checkout, new_site)

    answer = webhooks.deliver(webhooks.event(order["razorpay_order_id"], event_name))

    assert answer.get_json()["status"] == "applied"
    expected = "authorized" if event_name == "payment.authorized" else "captured"
    assert db_rows("SELECT status FROM payments") == [{"status": expected}]
    paid = event_name != "payment.authorized"
    assert db_rows("SELECT status FROM orders") == [{"status": "paid" if paid else "attempted"}]
    assert len(db_rows("SELECT id FROM enrollments")) == (1 if paid else 0)


def test_payment_failed_is_recorded_with_its_reason(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.create_order(new_site)
    checkout.pay(order, outcome="failure", error_reason="card_declined")

    answer = webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.failed"))

    assert answer.get_json()["status"] == "applied"
    (payment,) = db_rows("SELECT status, error_code, error_reason FROM payments")
    assert payment["status"] == "failed" and payment["error_code"] == "BAD_REQUEST_ERROR"
    assert payment["error_reason"] == "card_declined"
    assert db_rows("SELECT status FROM orders") == [{"status": "attempted"}]
    assert db_rows("SELECT id FROM enrollments") == []


def test_every_arrival_order_of_verify_and_webhooks_ends_in_the_same_state(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    steps = ("verify", *PAYMENT_EVENTS)
    for number, permutation in enumerate(itertools.permutations(steps)):
        order = checkout.create_order(new_site, customer={"email": f"buyer{number}@example.com"})
        result = checkout.pay(order)
        for step in permutation:
            if step == "verify":
                response = checkout.verify(result)
            else:
                response = webhooks.deliver(webhooks.event(order["razorpay_order_id"], step))
            assert response.status_code == 200, (permutation, step, response.get_json())
        state = db_rows(
            "SELECT o.status, o.amount_paid, p.status AS payment_status, "
            "(SELECT count(*) FROM enrollments e WHERE e.order_id = o.id) AS enrollments "
            "FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.id = %s",
            order["id"],
        )
        assert state == [
            {"status": "paid", "amount_paid": 49900, "payment_status": "captured", "enrollments": 1}
        ], permutation
    assert len(db_rows("SELECT id FROM enrollments WHERE status = 'active'")) == 24


def test_each_event_delivered_three_times_applies_once(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = _paid_without_verify(checkout, new_site)
    events = webhooks.events_for(order["razorpay_order_id"])

    answers = [webhooks.deliver(event) for event in events for _ in range(3)]

    assert [a.get_json()["duplicate"] for a in answers] == [False, True, True] * 3
    assert len(db_rows("SELECT id FROM razorpay_events")) == 3
    assert db_rows("SELECT attempts FROM razorpay_events") == [{"attempts": 1}] * 3
    assert len(db_rows("SELECT id FROM enrollments")) == 1


def test_a_late_authorized_never_undoes_captured(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = _paid_without_verify(checkout, new_site)
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.captured"))
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.authorized"))

    assert db_rows("SELECT status FROM payments") == [{"status": "captured"}]
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]


def test_a_late_failure_of_another_attempt_does_not_unpay_the_order(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.create_order(new_site)
    checkout.pay(order, outcome="failure")
    checkout.pay(order)
    events = webhooks.events_for(order["razorpay_order_id"])
    failed = [e for e in events if e["event"] == "payment.failed"]
    others = [e for e in events if e["event"] != "payment.failed"]

    for event in others + failed:
        assert webhooks.deliver(event).status_code == 200

    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
    assert sorted(r["status"] for r in db_rows("SELECT status FROM payments")) == [
        "captured",
        "failed",
    ]
    assert len(db_rows("SELECT id FROM enrollments")) == 1


def test_a_replayed_old_event_id_is_acknowledged_and_not_applied_again(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = _paid_without_verify(checkout, new_site)
    event = webhooks.event(order["razorpay_order_id"], "payment.authorized")
    webhooks.deliver(event)
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.captured"))

    replay = webhooks.deliver(event)

    assert replay.status_code == 200 and replay.get_json()["duplicate"] is True
    assert db_rows("SELECT status FROM payments") == [{"status": "captured"}]


def test_manual_capture_mode_captures_on_payment_authorized(
    make_app: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    requests.patch(f"{sandbox.url}/_sandbox/config", json={"auto_capture": False}, timeout=5)
    order = _paid_without_verify(checkout, new_site)
    capturing = RazorpayWebhooks(make_app(capture_authorized_payments=True).test_client(), sandbox)

    answer = capturing.deliver(webhooks.event(order["razorpay_order_id"], "payment.authorized"))

    assert answer.get_json()["status"] == "applied"
    assert db_rows("SELECT status FROM payments") == [{"status": "captured"}]
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
    payment_id = db_rows("SELECT id FROM payments")[0]["id"]
    at_razorpay = requests.get(
        f"{sandbox.url}/v1/payments/{payment_id}",
        timeout=5,
        auth=(sandbox.config.key_id, sandbox.config.key_secret),
    ).json()
    assert at_razorpay["status"] == "captured"


def test_without_manual_capture_mode_authorized_payments_wait(
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    requests.patch(f"{sandbox.url}/_sandbox/config", json={"auto_capture": False}, timeout=5)
    order = _paid_without_verify(checkout, new_site)
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.authorized"))
    assert db_rows("SELECT status FROM payments") == [{"status": "authorized"}]


def test_fifty_concurrent_deliveries_and_a_verify_grant_one_enrollment(
    live_api: str,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    db_rows: Any,
) -> None:
    order = checkout.create_order(new_site)
    result = checkout.pay(order)
    event = webhooks.event(order["razorpay_order_id"], "payment.captured")
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": event["signature"],
        "X-Razorpay-Event-Id": event["id"],
    }
    statuses: list[int] = []

    def deliver() -> None:
        statuses.append(
            requests.post(
                f"{live_api}/v1/webhooks/razorpay",
                timeout=30,
                data=event["body"].encode(),
                headers=headers,
            ).status_code
        )

    def verify() -> None:
        statuses.append(
            requests.post(f"{live_api}/v1/payments/verify", json=result, timeout=30).status_code
        )

    threads = [threading.Thread(target=deliver) for _ in range(50)]
    threads.insert(25, threading.Thread(target=verify))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 51
    assert len(db_rows("SELECT id FROM enrollments")) == 1
    assert db_rows("SELECT status, attempts FROM razorpay_events") == [
        {"status": "applied", "attempts": 1}
    ]
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
