"""The sandbox's webhooks: signed snapshots, the events a capture sends, retries with the same
event id, background delivery."""

from __future__ import annotations

import time
from collections.abc import Callable

import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.helpers import (
    WEBHOOK_SECRET,
    WebhookReceiver,
    assert_event_shape,
    paid_payment,
    pay,
)


def test_checkout_webhooks_are_signed_snapshots(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    order = sdk.order.create({"amount": 50000, "currency": "INR", "receipt": "INV-1001"})
    pay(http, fresh_sandbox, order["id"], outcome="failure", method="upi")
    pay(http, fresh_sandbox, order["id"])
    payment = sdk.payment.fetch(sdk.order.payments(order["id"])["items"][1]["id"])
    sdk.payment.refund(payment["id"], {"amount": 20000})

    expected = [
        ("payment.failed", "composed/lifecycle.01.payment.failed.sample.json"),
        ("payment.authorized", "composed/lifecycle.02.payment.authorized.sample.json"),
        ("payment.captured", "composed/lifecycle.03.payment.captured.sample.json"),
        ("order.paid", "composed/lifecycle.04.order.paid.sample.json"),
        ("refund.created", "composed/lifecycle.05.refund.created.sample.json"),
        ("refund.processed", "composed/lifecycle.06.refund.processed.sample.json"),
    ]
    assert receiver.events() == [name for name, _ in expected]
    for delivery, (_, sample_name) in zip(receiver.received, expected, strict=True):
        signature = delivery.headers["X-Razorpay-Signature"]
        body = delivery.body.decode()
        assert sdk.utility.verify_webhook_signature(body, signature, WEBHOOK_SECRET) is True
        assert delivery.headers["Content-Type"] == "application/json"
        assert len(delivery.headers["X-Razorpay-Event-Id"]) == 14
        assert_event_shape(delivery.event, sample_name)

    snapshot = receiver.received[1].event["payload"]["payment"]["entity"]
    assert (snapshot["status"], snapshot["fee"]) == ("authorized", None)
    paid = receiver.received[3].event["payload"]["order"]["entity"]
    assert (paid["status"], paid["attempts"], paid["amount_due"]) == ("paid", 2, 0)
    event_ids = {delivery.headers["X-Razorpay-Event-Id"] for delivery in receiver.received}
    assert len(event_ids) == len(expected)


def test_api_capture_emits_captured_and_order_paid(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    receiver: WebhookReceiver,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(auto_capture=False)
    sdk = connect(sandbox)
    payment = paid_payment(sdk, http, sandbox, amount=10000)
    assert receiver.events() == ["payment.authorized"]
    sdk.payment.capture(payment["id"], 10000, {"currency": "INR"})
    assert receiver.events() == ["payment.authorized", "payment.captured", "order.paid"]


def test_failed_deliveries_are_retried_with_the_same_event_id(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    receiver.statuses.extend([500, 503])
    order = sdk.order.create({"amount": 10000, "currency": "INR"})
    pay(http, fresh_sandbox, order["id"], outcome="failure")

    assert [delivery.event["event"] for delivery in receiver.received] == ["payment.failed"] * 3
    assert len({delivery.headers["X-Razorpay-Event-Id"] for delivery in receiver.received}) == 1
    assert len({delivery.body for delivery in receiver.received}) == 1
    (record,) = http.get(f"{fresh_sandbox.url}/_sandbox/webhooks").json()
    assert (record["attempts"], record["last_status_code"], record["delivered"]) == (3, 200, True)
    assert record["url"] == receiver.url


def test_async_delivery_arrives_in_the_background(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    receiver: WebhookReceiver,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(webhook_delivery="async")
    sdk = connect(sandbox)
    paid_payment(sdk, http, sandbox)
    deadline = time.monotonic() + 5
    while len(receiver.received) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert receiver.events() == ["payment.authorized", "payment.captured", "order.paid"]
    events = http.get(f"{sandbox.url}/_sandbox/events").json()
    assert [event["body"].encode() for event in events] == [r.body for r in receiver.received]
