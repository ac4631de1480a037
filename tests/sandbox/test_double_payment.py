"""The sandbox refuses a second payment on one order as Razorpay does, and can still be made
to capture one the way real Razorpay can (a late authorisation), over real HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import razorpay
import requests
from razorpay.errors import BadRequestError

from payments_service.sandbox import BackgroundSandbox, SandboxConfig, start_background

KEY_ID = "rzp_test_SandboxKey0001"
KEY_SECRET = "sandbox_key_secret"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

Json = dict[str, Any]


@pytest.fixture
def rzp() -> Iterator[BackgroundSandbox]:
    """A sandbox of its own (events recorded, none delivered)."""
    running = start_background(SandboxConfig(webhook_delivery="off"))
    yield running
    running.stop()


@pytest.fixture
def sdk(rzp: BackgroundSandbox) -> Iterator[Any]:
    with requests.Session() as session:
        yield razorpay.Client(session=session, auth=(KEY_ID, KEY_SECRET), base_url=rzp.url)


def _pay(rzp: BackgroundSandbox, order_id: str, outcome: str = "success") -> requests.Response:
    return requests.post(
        f"{rzp.url}/_sandbox/orders/{order_id}/pay", json={"outcome": outcome}, timeout=10
    )


def _authorize_late(rzp: BackgroundSandbox, payment_id: str) -> requests.Response:
    return requests.post(f"{rzp.url}/_sandbox/payments/{payment_id}/authorize", timeout=10)


def _events(rzp: BackgroundSandbox, payment_id: str) -> list[str]:
    events = requests.get(f"{rzp.url}/_sandbox/events", timeout=10).json()
    return [event["event"] for event in events if payment_id in event["body"]]


def _refused(answer: requests.Response, description: str, order_id: str) -> None:
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "BAD_REQUEST_ERROR"
    assert error["description"] == description
    assert error["metadata"] == {"order_id": order_id}


def test_a_paid_order_refuses_another_payment_and_records_no_attempt(
    rzp: BackgroundSandbox, sdk: Any
) -> None:
    order = sdk.order.create({"amount": 49900, "currency": "INR"})
    assert _pay(rzp, order["id"]).status_code == 200

    for outcome in ("success", "failure"):
        _refused(_pay(rzp, order["id"], outcome), "Order has already been paid", order["id"])

    assert sdk.order.payments(order["id"])["count"] == 1
    assert sdk.order.fetch(order["id"])["attempts"] == 1
    assert requests.get(f"{rzp.url}/_sandbox/ledger", timeout=5).json()["INR"]["captured"] == (
        49900
    )


def test_an_order_with_an_authorized_payment_refuses_another_until_it_is_captured(
    rzp: BackgroundSandbox, sdk: Any
) -> None:
    requests.patch(
        f"{rzp.url}/_sandbox/config", json={"auto_capture": False}, timeout=5
    ).raise_for_status()
    order = sdk.order.create({"amount": 49900, "currency": "INR"})
    first = _pay(rzp, order["id"]).json()["razorpay_payment_id"]

    _refused(_pay(rzp, order["id"]), "A payment on this order is already authorized", order["id"])

    sdk.payment.capture(first, 49900, {"currency": "INR"})
    _refused(_pay(rzp, order["id"]), "Order has already been paid", order["id"])
    assert [p["id"] for p in sdk.order.payments(order["id"])["items"]] == [first]


def test_the_checkout_page_shows_why_an_order_cannot_be_paid(
    rzp: BackgroundSandbox, sdk: Any
) -> None:
    requests.patch(
        f"{rzp.url}/_sandbox/config", json={"auto_capture": False}, timeout=5
    ).raise_for_status()
    order = sdk.order.create({"amount": 49900, "currency": "INR"})
    params = {"order_id": order["id"], "key_id": KEY_ID}

    def page() -> requests.Response:
        return requests.get(f"{rzp.url}/checkout/pay", params=params, timeout=5)

    assert page().status_code == 200
    payment_id = _pay(rzp, order["id"]).json()["razorpay_payment_id"]
    waiting = page()
    assert waiting.status_code == 400
    assert "A payment on this order is already authorized" in waiting.text
    assert 'id="sandbox-pay-success"' not in waiting.text
    sdk.payment.capture(payment_id, 49900, {"currency": "INR"})
    paid = page()
    assert paid.status_code == 400 and "Order has already been paid" in paid.text


def test_a_late_authorisation_captures_a_second_payment_on_a_paid_order(
    rzp: BackgroundSandbox, sdk: Any
) -> None:
    order = sdk.order.create({"amount": 49900, "currency": "INR"})
    timed_out = _pay(rzp, order["id"], "failure").json()["error"]["metadata"]["payment_id"]
    paying = _pay(rzp, order["id"]).json()["razorpay_payment_id"]

    late = _authorize_late(rzp, timed_out)

    assert late.status_code == 200, late.text
    result = late.json()
    assert result["razorpay_payment_id"] == timed_out
    assert razorpay.Client(auth=(KEY_ID, KEY_SECRET)).utility.verify_payment_signature(result)
    payment = sdk.payment.fetch(timed_out)
    assert (payment["status"], payment["captured"], payment["error_code"]) == (
        "captured",
        True,
        None,
    )
    assert payment["fee"] is not None
    statuses = {p["id"]: p["status"] for p in sdk.order.payments(order["id"])["items"]}
    assert statuses == {timed_out: "captured", paying: "captured"}
    assert sdk.order.fetch(order["id"])["status"] == "paid"
    assert _events(rzp, timed_out) == [
        "payment.failed",
        "payment.authorized",
        "payment.captured",
        "order.paid",
    ]
    ledger = requests.get(f"{rzp.url}/_sandbox/ledger", timeout=5).json()["INR"]
    assert ledger["captured"] == 2 * 49900


def test_only_a_failed_payment_can_be_authorized_late(rzp: BackgroundSandbox, sdk: Any) -> None:
    order = sdk.order.create({"amount": 49900, "currency": "INR"})
    paid = _pay(rzp, order["id"]).json()["razorpay_payment_id"]

    again = _authorize_late(rzp, paid)

    assert again.status_code == 400
    assert again.json()["error"]["description"] == "Only a failed payment can be authorized late"
    unknown = _authorize_late(rzp, "pay_AAAAAAAAAAAAAA")
    assert unknown.status_code == 400
    assert unknown.json()["error"]["description"] == "The id provided does not exist"
    extra = requests.post(
        f"{rzp.url}/_sandbox/payments/{paid}/authorize", json={"amount": 1}, timeout=5
    )
    assert extra.status_code == 400 and extra.json()["error"]["field"] == "amount"
    with pytest.raises(BadRequestError, match="already been captured"):
        sdk.payment.capture(paid, 49900, {"currency": "INR"})


def test_late_authorisation_without_automatic_capture_leaves_it_authorized(
    rzp: BackgroundSandbox, sdk: Any
) -> None:
    order = sdk.order.create({"amount": 49900, "currency": "INR", "payment": {"capture": "manual"}})
    failed = _pay(rzp, order["id"], "failure").json()["error"]["metadata"]["payment_id"]

    assert _authorize_late(rzp, failed).status_code == 200

    assert sdk.payment.fetch(failed)["status"] == "authorized"
    assert sdk.order.fetch(order["id"])["status"] == "attempted"
    _refused(_pay(rzp, order["id"]), "A payment on this order is already authorized", order["id"])


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_two_checkout_tabs_pay_once_and_the_second_tab_says_why(
    rzp: BackgroundSandbox, sdk: Any
) -> None:
    from playwright.sync_api import sync_playwright

    order = sdk.order.create({"amount": 49900, "currency": "INR"})
    url = f"{rzp.url}/checkout/pay?order_id={order['id']}&key_id={KEY_ID}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            first, second = browser.new_page(), browser.new_page()
            first.goto(url)
            second.goto(url)
            first.click("#sandbox-pay-success")
            first.wait_for_function(
                "document.getElementById('sandbox-status').textContent.includes('successful')"
            )
            second.click("#sandbox-pay-success")
            second.wait_for_function(
                "document.getElementById('sandbox-status').className === 'error'"
            )
            shown = second.inner_text("#sandbox-status")
        finally:
            browser.close()

    assert shown == "Order has already been paid. No payment was made."
    assert sdk.order.payments(order["id"])["count"] == 1
