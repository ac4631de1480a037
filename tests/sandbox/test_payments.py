"""Payments on the sandbox: Checkout success with its fee, failures, a paid order paid again,
a tampered Checkout, manual capture."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import razorpay
import requests
from razorpay.errors import SignatureVerificationError

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.helpers import (
    WebhookReceiver,
    assert_error,
    assert_same_shape,
    paid_payment,
    pay,
    payment_fixture,
    sample,
)


def test_successful_checkout_captures_with_fee(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    order = sdk.order.create({"amount": 49900, "currency": "INR", "notes": {"ref": "A1"}})
    result = pay(http, fresh_sandbox, order["id"], email="a@example.com", name="Asha")
    assert_same_shape(result, sample("composed/checkout.success-callback.sample.json"))
    assert sdk.utility.verify_payment_signature(result) is True
    forged = {**result, "razorpay_order_id": "order_AAAAAAAAAAAAAA"}
    with pytest.raises(SignatureVerificationError):
        sdk.utility.verify_payment_signature(forged)

    payment = sdk.payment.fetch(result["razorpay_payment_id"])
    assert_same_shape(payment, payment_fixture("card"))
    assert (payment["status"], payment["captured"], payment["order_id"]) == (
        "captured",
        True,
        order["id"],
    )
    # 2% of 49900 is 998; 18% GST on it is 179.64 -> 180; the fee includes the tax.
    assert (payment["fee"], payment["tax"]) == (1178, 180)
    assert payment["email"] == "a@example.com" and payment["notes"] == {"ref": "A1"}
    assert sdk.payment.all()["items"][0]["id"] == payment["id"]


def test_failed_checkout_reports_the_error(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    order = sdk.order.create({"amount": 50000, "currency": "INR"})
    result = pay(
        http, fresh_sandbox, order["id"], outcome="failure", error_reason="payment_cancelled"
    )
    assert_same_shape(result, sample("composed/checkout.payment-failed-event.sample.json"))
    assert result["error"]["reason"] == "payment_cancelled"
    assert result["error"]["metadata"]["order_id"] == order["id"]
    payment = sdk.payment.fetch(result["error"]["metadata"]["payment_id"])
    assert (payment["status"], payment["fee"], payment["error_reason"]) == (
        "failed",
        None,
        "payment_cancelled",
    )
    assert_same_shape(payment, payment_fixture("card"))


def test_paid_order_cannot_be_paid_again(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    order = sdk.order.create({"amount": 50000, "currency": "INR"})
    pay(http, fresh_sandbox, order["id"])
    again = http.post(
        f"{fresh_sandbox.url}/_sandbox/orders/{order['id']}/pay", json={"outcome": "success"}
    )
    assert again.status_code == 400
    assert again.json()["error"]["description"] == "Order has already been paid"


def test_a_tampered_checkout_pays_other_money_without_paying_the_order(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    order = sdk.order.create({"amount": 50000, "currency": "INR"})
    result = pay(http, fresh_sandbox, order["id"], amount=100, currency="USD")
    assert sdk.utility.verify_payment_signature(result) is True

    payment = sdk.payment.fetch(result["razorpay_payment_id"])
    assert (payment["amount"], payment["currency"], payment["status"]) == (100, "USD", "captured")
    after = sdk.order.fetch(order["id"])
    assert (after["status"], after["amount_paid"]) == ("attempted", 0)
    assert receiver.events() == ["payment.authorized", "payment.captured"]
    honest = pay(http, fresh_sandbox, order["id"])  # the order still takes its real payment
    assert sdk.payment.fetch(honest["razorpay_payment_id"])["amount"] == 50000
    assert sdk.order.fetch(order["id"])["status"] == "paid"

    other = sdk.order.create({"amount": 50000, "currency": "INR"})
    url = f"{fresh_sandbox.url}/_sandbox/orders/{other['id']}/pay"
    for body, field_name in (({"amount": 99}, "amount"), ({"currency": "XYZ"}, "currency")):
        refused = http.post(url, json={"outcome": "success", **body})
        assert refused.status_code == 400
        assert refused.json()["error"]["field"] == field_name


def test_manual_capture(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(auto_capture=False)
    sdk = connect(sandbox)
    payment = paid_payment(sdk, http, sandbox, amount=20000)
    assert (payment["status"], payment["captured"], payment["fee"]) == (
        "authorized",
        False,
        None,
    )
    assert sdk.order.fetch(payment["order_id"])["status"] == "attempted"

    capture = sdk.payment.capture
    assert_error(lambda: capture(payment["id"], 10000, {"currency": "INR"}), "must be equal")
    captured = capture(payment["id"], 20000, {"currency": "INR"})
    assert (captured["status"], captured["fee"], captured["tax"]) == ("captured", 472, 72)
    assert_same_shape(captured, payment_fixture("card"))
    assert_error(lambda: capture(payment["id"], 20000, {"currency": "INR"}), "already been")
    assert sdk.order.fetch(payment["order_id"])["status"] == "paid"


def test_failed_payment_cannot_be_captured_or_refunded(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    order = sdk.order.create({"amount": 50000, "currency": "INR"})
    failed = pay(http, fresh_sandbox, order["id"], outcome="failure")["error"]["metadata"][
        "payment_id"
    ]
    capture = sdk.payment.capture
    assert_error(lambda: capture(failed, 50000, {"currency": "INR"}), "Only payments which have")
    assert_error(lambda: sdk.payment.refund(failed, {}), "status should be captured")
