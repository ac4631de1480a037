"""Refunds on the sandbox: full and partial, idempotency keys, pending ones settled later, the
merchant balance, and a ledger that matches."""

from __future__ import annotations

from collections.abc import Callable

import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.helpers import (
    WebhookReceiver,
    assert_error,
    assert_event_shape,
    assert_same_shape,
    paid_payment,
    pay,
    sample,
)


def test_full_and_partial_refunds(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    payment = paid_payment(sdk, http, fresh_sandbox, amount=50000)
    pid = payment["id"]
    assert_error(lambda: sdk.payment.refund(pid, {"amount": 99}), "at least INR 1.00")
    assert_error(lambda: sdk.payment.refund(pid, {"amount": 60000}), "greater than amount")

    partial = sdk.payment.refund(pid, {"amount": 20000, "notes": {"why": "return"}})
    assert_same_shape(partial, sample("docs-api/refund.entity.response.json"))
    assert (partial["status"], partial["amount"]) == ("processed", 20000)
    fetched = sdk.payment.fetch(pid)
    assert (fetched["status"], fetched["refund_status"], fetched["amount_refunded"]) == (
        "captured",
        "partial",
        20000,
    )
    assert_error(lambda: sdk.payment.refund(pid, {"amount": 30001}), "greater than amount")

    rest = sdk.refund.create({"payment_id": pid})
    assert rest["amount"] == 30000
    fetched = sdk.payment.fetch(pid)
    assert (fetched["status"], fetched["refund_status"]) == ("refunded", "full")
    assert_error(lambda: sdk.payment.refund(pid, {}), "fully refunded already")

    refunds = sdk.payment.fetch_multiple_refund(pid)
    assert_same_shape(refunds, sample("docs-api/payment.refunds.response.json"))
    assert [refund["id"] for refund in refunds["items"]] == [rest["id"], partial["id"]]
    assert sdk.payment.fetch_refund_id(pid, partial["id"]) == sdk.refund.fetch(partial["id"])
    assert sdk.refund.all({"count": 1})["items"][0]["id"] == rest["id"]


def test_refund_of_uncaptured_payment_is_refused(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(auto_capture=False)
    sdk = connect(sandbox)
    payment = paid_payment(sdk, http, sandbox)
    assert_error(lambda: sdk.payment.refund(payment["id"], {}), "should be captured")


def test_refund_idempotency_key(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    payment = paid_payment(sdk, http, fresh_sandbox, amount=50000)
    url = f"{fresh_sandbox.url}/v1/payments/{payment['id']}/refund"
    headers = {"X-Refund-Idempotency": "refund-key-0001"}

    first = http.post(url, json={"amount": 10000}, headers=headers, auth=sdk.auth)
    replay = http.post(url, json={"amount": 10000}, headers=headers, auth=sdk.auth)
    assert first.status_code == replay.status_code == 200
    assert first.json()["id"] == replay.json()["id"]
    assert sdk.payment.fetch(payment["id"])["amount_refunded"] == 10000

    changed = http.post(url, json={"amount": 20000}, headers=headers, auth=sdk.auth)
    assert changed.status_code == 400
    assert "idempotency key" in changed.json()["error"]["description"]


def test_pending_refunds_settle_later(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    receiver: WebhookReceiver,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(refund_outcome="pending")
    sdk = connect(sandbox)
    payment = paid_payment(sdk, http, sandbox, amount=50000)
    kept = sdk.payment.refund(payment["id"], {"amount": 20000})
    lost = sdk.payment.refund(payment["id"], {"amount": 5000})
    assert (kept["status"], lost["status"]) == ("pending", "pending")

    def settle(refund_id: str, status: str) -> requests.Response:
        url = f"{sandbox.url}/_sandbox/refunds/{refund_id}/settle"
        return http.post(url, json={"status": status})

    assert settle(kept["id"], "processed").json()["status"] == "processed"
    assert settle(lost["id"], "failed").json()["status"] == "failed"
    assert settle(lost["id"], "processed").status_code == 400
    assert sdk.refund.fetch(kept["id"])["status"] == "processed"
    fetched = sdk.payment.fetch(payment["id"])
    assert (fetched["amount_refunded"], fetched["refund_status"]) == (20000, "partial")
    assert receiver.events()[-4:] == [
        "refund.created",
        "refund.created",
        "refund.processed",
        "refund.failed",
    ]
    failed_event = receiver.received[-1].event
    assert_event_shape(failed_event, "composed/lifecycle.07.refund.failed.sample.json")
    assert failed_event["payload"]["payment"]["entity"]["amount_refunded"] == 20000


def test_merchant_balance_limits_refunds(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    payment = paid_payment(sdk, http, fresh_sandbox, amount=50000)
    http.patch(f"{fresh_sandbox.url}/_sandbox/config", json={"merchant_balance": 15000})
    assert_error(lambda: sdk.payment.refund(payment["id"], {"amount": 20000}), "invalid request")
    sdk.payment.refund(payment["id"], {"amount": 15000})
    assert http.get(f"{fresh_sandbox.url}/_sandbox/config").json()["merchant_balance"] == 0


def test_ledger_matches_payments_and_refunds(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    first = paid_payment(sdk, http, fresh_sandbox, amount=49900)
    second = paid_payment(sdk, http, fresh_sandbox, amount=100000, method="wallet")
    sdk.payment.refund(second["id"], {"amount": 25000})
    failed_order = sdk.order.create({"amount": 70000, "currency": "INR"})
    pay(http, fresh_sandbox, failed_order["id"], outcome="failure")

    ledger = http.get(f"{fresh_sandbox.url}/_sandbox/ledger").json()
    fees = first["fee"] + second["fee"]
    assert ledger == {
        "INR": {
            "captured": 149900,
            "refunded": 25000,
            "fees": fees,
            "balance": 149900 - fees - 25000,
        }
    }
