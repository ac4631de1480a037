"""Checkout opened with a ``subscription_id``: the authentication payment, its signature
(payment id first, unlike orders), and what it does to the subscription."""

from __future__ import annotations

import hashlib
import hmac

import pytest
import razorpay
import requests
from razorpay.errors import SignatureVerificationError

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.helpers import KEY_ID, KEY_SECRET, WebhookReceiver
from tests.sandbox.subscription_helpers import (
    DAY,
    advance,
    authenticate,
    clock_now,
    new_plan,
    subscription_sample,
)

RECURRING = "Recurring Payment via Subscription"


def test_checkout_signs_payment_id_then_subscription_id(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    plan = new_plan(sdk)
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3})

    result = authenticate(http, fresh_sandbox, sub["id"])

    reference = subscription_sample("composed/checkout.success-callback.sample.json")
    assert set(result) == set(reference)
    assert result["razorpay_subscription_id"] == sub["id"]
    message = f"{result['razorpay_payment_id']}|{sub['id']}".encode()
    expected = hmac.new(KEY_SECRET.encode(), message, hashlib.sha256).hexdigest()
    assert result["razorpay_signature"] == expected
    assert sdk.utility.verify_subscription_payment_signature(dict(result)) is True
    reversed_order = f"{sub['id']}|{result['razorpay_payment_id']}".encode()
    assert (
        result["razorpay_signature"]
        != hmac.new(KEY_SECRET.encode(), reversed_order, hashlib.sha256).hexdigest()
    )
    with pytest.raises(SignatureVerificationError):
        sdk.utility.verify_subscription_payment_signature(
            dict(result) | {"razorpay_subscription_id": "sub_SbxSubscr00001"}
        )


def test_the_composed_and_sdk_vectors_verify_with_sdk_2_0_1(sdk: razorpay.Client) -> None:
    reference = subscription_sample("composed/checkout.success-callback.sample.json")
    vectors = subscription_sample("composed/lifecycle.signatures.sample.json")
    sdk_vector = vectors["sdk_test_vector"]
    payment_id, subscription_id = sdk_vector["message"].split("|")

    assert sdk.utility.verify_subscription_payment_signature(dict(reference)) is True
    assert sdk.utility.verify_subscription_payment_signature(
        {
            "razorpay_payment_id": payment_id,
            "razorpay_subscription_id": subscription_id,
            "razorpay_signature": sdk_vector["signature"],
            "secret": sdk_vector["secret"],
        }
    )


def test_immediate_start_authentication_activates_and_charges_the_first_cycle(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    plan = new_plan(sdk)
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3, "quantity": 2})

    result = authenticate(http, fresh_sandbox, sub["id"], email="a@example.com")

    active = sdk.subscription.fetch(sub["id"])
    payment = sdk.payment.fetch(result["razorpay_payment_id"])
    now = payment["created_at"]
    assert (active["status"], active["paid_count"], active["remaining_count"]) == ("active", 1, 2)
    assert active["customer_id"].startswith("cust_") and active["payment_method"] == "card"
    assert (active["start_at"], active["current_start"]) == (now, now)
    assert active["charge_at"] == active["current_end"] > now
    assert (payment["status"], payment["captured"], payment["amount"]) == ("captured", True, 99800)
    assert (payment["description"], payment["email"]) == (RECURRING, "a@example.com")
    assert payment["customer_id"] == active["customer_id"]
    invoice = sdk.invoice.fetch(payment["invoice_id"])
    assert (invoice["status"], invoice["payment_id"], invoice["amount"]) == (
        "paid",
        payment["id"],
        99800,
    )
    assert (invoice["subscription_id"], invoice["order_id"]) == (sub["id"], payment["order_id"])
    assert (invoice["billing_start"], invoice["billing_end"]) == (now, active["current_end"])
    assert sdk.order.fetch(payment["order_id"])["status"] == "paid"


def test_future_start_authentication_takes_a_refunded_token_and_waits(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    plan = new_plan(sdk)
    start = clock_now(http, fresh_sandbox) + 7 * DAY
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3, "start_at": start})

    result = authenticate(http, fresh_sandbox, sub["id"])

    waiting = sdk.subscription.fetch(sub["id"])
    assert (waiting["status"], waiting["charge_at"], waiting["paid_count"]) == (
        "authenticated",
        start,
        0,
    )
    token = sdk.payment.fetch(result["razorpay_payment_id"])
    assert (token["amount"], token["status"], token["amount_refunded"]) == (500, "refunded", 500)
    assert sdk.utility.verify_subscription_payment_signature(dict(result)) is True
    assert receiver.events() == ["subscription.authenticated"]

    events = advance(http, fresh_sandbox, to=start)

    assert events == [
        "subscription.activated",
        "subscription.charged",
        "invoice.paid",
        "payment.captured",
    ]
    started = sdk.subscription.fetch(sub["id"])
    assert (started["status"], started["paid_count"], started["current_start"]) == (
        "active",
        1,
        start,
    )


def test_a_failed_authentication_leaves_the_subscription_created(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    plan = new_plan(sdk)
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3})

    result = authenticate(http, fresh_sandbox, sub["id"], outcome="failure")

    assert result["error"]["metadata"]["subscription_id"] == sub["id"]
    assert sdk.payment.fetch(result["error"]["metadata"]["payment_id"])["status"] == "failed"
    assert sdk.subscription.fetch(sub["id"])["status"] == "created"
    assert receiver.events() == ["payment.failed"]


def test_a_second_authentication_is_refused(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    plan = new_plan(sdk)
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3})
    authenticate(http, fresh_sandbox, sub["id"])

    again = http.post(
        f"{fresh_sandbox.url}/_sandbox/subscriptions/{sub['id']}/pay", json={"outcome": "success"}
    )

    assert again.status_code == 400
    assert again.json()["error"]["description"] == (
        "Customer payment is not allowed for the Subscription at this stage."
    )


def test_the_checkout_page_and_short_url_take_a_subscription(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    plan = new_plan(sdk)
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3})
    page_url = f"{fresh_sandbox.url}/checkout/subscription"

    page = http.get(page_url, params={"key_id": KEY_ID, "subscription_id": sub["id"]})
    hosted = http.get(sub["short_url"])
    wrong_key = http.get(page_url, params={"key_id": "rzp_test_x", "subscription_id": sub["id"]})
    script = http.get(f"{fresh_sandbox.url}/v1/checkout.js").text

    assert page.status_code == hosted.status_code == 200
    assert "₹499.00" in page.text
    assert f'data-pay-url="/_sandbox/subscriptions/{sub["id"]}/pay"' in page.text
    assert wrong_key.status_code == 400
    assert "/checkout/subscription?" in script and "subscription_id" in script
    authenticate(http, fresh_sandbox, sub["id"])
    refused = http.get(sub["short_url"])
    assert refused.status_code == 400
    assert "Customer payment is not allowed" in refused.text
