"""A payment of another amount or currency than its order never pays it, whichever way it
reaches us: verify, a captured webhook (the sandbox's own, or one hand-signed with another
amount) or an authorized one in manual-capture mode. Razorpay itself refuses such payments;
the sandbox makes them as a tampered or misconfigured Checkout page could (the ``amount``
and ``currency`` of ``POST /_sandbox/orders/{id}/pay``)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
import razorpay
import requests

from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials

WEBHOOK_SECRET = "sandbox_webhook_secret"
# The order is 499.00 INR (conftest's order_body); each case pays something else.
TAMPERED = [
    pytest.param({"amount": 100}, id="another-amount"),
    pytest.param({"currency": "USD"}, id="another-currency"),
]


def _at_razorpay(sandbox: Any, payment_id: str) -> dict[str, Any]:
    """The payment as Razorpay holds it, fetched with the official SDK."""
    client = razorpay.Client(
        auth=(sandbox.config.key_id, sandbox.config.key_secret), base_url=sandbox.url
    )
    return dict(client.payment.fetch(payment_id))


def _manual_capture(sandbox: Any) -> None:
    requests.patch(
        f"{sandbox.url}/_sandbox/config", json={"auto_capture": False}, timeout=5
    ).raise_for_status()


def _nothing_paid(db_rows: Any, order_id: str) -> None:
    assert db_rows("SELECT status, amount_paid FROM orders WHERE id = %s", order_id) == [
        {"status": "attempted", "amount_paid": 0}
    ]
    assert db_rows("SELECT id FROM enrollments") == []


@pytest.mark.parametrize("tamper", TAMPERED)
def test_verify_refuses_a_payment_of_another_amount_or_currency_and_captures_nothing(
    checkout: Checkout,
    new_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
    tamper: dict[str, Any],
) -> None:
    _manual_capture(sandbox)
    order = checkout.create_order(new_site)
    result = checkout.pay(order, **tamper)
    payment = _at_razorpay(sandbox, result["razorpay_payment_id"])
    assert (payment["amount"], payment["currency"]) != (49900, "INR")
    assert payment["status"] == "authorized"

    response = checkout.verify(result)

    assert response.status_code == 400, response.get_json()
    assert response.get_json()["code"] == "payment_mismatch"
    assert _at_razorpay(sandbox, result["razorpay_payment_id"])["status"] == "authorized"
    assert db_rows("SELECT status, amount_paid FROM orders") == [
        {"status": "created", "amount_paid": 0}
    ]
    assert db_rows("SELECT id FROM payments") == []
    assert db_rows("SELECT id FROM enrollments") == []


@pytest.mark.parametrize("tamper", TAMPERED)
def test_a_captured_payment_of_another_amount_or_currency_does_not_pay_the_order(
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    db_rows: Any,
    tamper: dict[str, Any],
) -> None:
    order = checkout.create_order(new_site)
    result = checkout.pay(order, **tamper)  # captured at once (automatic capture)
    events = webhooks.events_for(order["razorpay_order_id"])
    assert [e["event"] for e in events] == ["payment.authorized", "payment.captured"]

    answers = [webhooks.deliver(event) for event in events]

    assert [a.get_json()["status"] for a in answers] == ["applied", "applied"]
    (payment,) = db_rows("SELECT id, status, amount, currency FROM payments")
    assert payment["id"] == result["razorpay_payment_id"]
    assert payment["status"] == "captured"
    assert (payment["amount"], payment["currency"]) == (
        tamper.get("amount", 49900),
        tamper.get("currency", "INR"),
    )
    _nothing_paid(db_rows, order["id"])


@pytest.mark.parametrize("tamper", TAMPERED)
def test_a_signed_captured_event_saying_another_amount_or_currency_does_not_pay_the_order(
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    db_rows: Any,
    tamper: dict[str, Any],
) -> None:
    # An honest payment, but the (correctly signed) event reports other money for it.
    order = checkout.create_order(new_site)
    checkout.pay(order)
    genuine = json.loads(webhooks.event(order["razorpay_order_id"], "payment.captured")["body"])
    genuine["payload"]["payment"]["entity"].update(tamper)
    body = json.dumps(genuine).encode()
    signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()

    answer = webhooks.post(body, signature, "evt_othermoney0001")

    assert answer.status_code == 200
    assert answer.get_json()["status"] == "applied"
    assert db_rows("SELECT status FROM payments") == [{"status": "captured"}]
    _nothing_paid(db_rows, order["id"])


@pytest.mark.parametrize("tamper", TAMPERED)
def test_manual_capture_mode_leaves_an_authorized_payment_of_another_amount_uncaptured(
    make_app: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
    tamper: dict[str, Any],
) -> None:
    _manual_capture(sandbox)
    order = checkout.create_order(new_site)
    result = checkout.pay(order, **tamper)
    capturing = RazorpayWebhooks(make_app(capture_authorized_payments=True).test_client(), sandbox)

    answer = capturing.deliver(webhooks.event(order["razorpay_order_id"], "payment.authorized"))

    assert answer.get_json()["status"] == "applied"
    assert _at_razorpay(sandbox, result["razorpay_payment_id"])["status"] == "authorized"
    assert db_rows("SELECT status FROM payments") == [{"status": "authorized"}]
    _nothing_paid(db_rows, order["id"])
