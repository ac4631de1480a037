"""The hosted payment-link page over plain HTTP forms (no JavaScript): opening makes the
link's order, a payment redirects to the callback with a signature the SDK accepts and
sends signed webhooks shaped like the samples, a failure stays on the page."""

from __future__ import annotations

from typing import Any

import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.helpers import (
    KEY_ID,
    WebhookReceiver,
    assert_same_shape,
)
from tests.sandbox.link_helpers import (
    CALLBACK_PARAMS,
    assert_link_event,
    callback_query,
    link_request,
    link_sample,
    pay_link,
    sdk_verify_args,
    submit,
)

CALLBACK = "http://127.0.0.1:5000/payments/link-callback"
SUCCESS = {"outcome": "success"}


def test_opening_the_short_url_makes_the_links_order_once(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    link = sdk.payment_link.create(link_request(http, fresh_sandbox))

    page = http.get(link["short_url"])

    assert page.status_code == 200
    assert "Invoice INV-2026-0042" in page.text and "₹500.00" in page.text
    order_id = sdk.payment_link.fetch(link["id"])["order_id"]
    order = sdk.order.fetch(order_id)
    assert (order["amount"], order["receipt"], order["status"]) == (
        50000,
        "INV-2026-0042",
        "created",
    )
    assert order["notes"] == link["notes"]
    http.get(link["short_url"])
    assert sdk.payment_link.fetch(link["id"])["order_id"] == order_id
    assert http.get(f"{fresh_sandbox.url}/i/nosuchcode").status_code == 404


def test_a_full_payment_redirects_to_the_callback_with_a_signature_the_sdk_accepts(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    body = link_request(http, fresh_sandbox, f"{CALLBACK}?site=old", accept_partial=False)
    del body["first_min_partial_amount"]
    link = sdk.payment_link.create(body)
    http.get(link["short_url"])

    answer = submit(http, link, method="card", email="buyer@example.com")

    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith(f"{CALLBACK}?site=old&razorpay_payment_id=pay_")
    query = callback_query(location)
    assert set(query) == {"site", *CALLBACK_PARAMS}
    assert query["razorpay_payment_link_status"] == "paid"
    assert sdk.utility.verify_payment_link_signature(sdk_verify_args(query)) is True
    assert sdk.utility.verify_payment_link_signature(dict(query)) is False  # not renamed
    fetched = sdk.payment_link.fetch(link["id"])
    assert (fetched["status"], fetched["amount_paid"]) == ("paid", 50000)
    payment = sdk.payment.fetch(query["razorpay_payment_id"])
    assert (payment["status"], payment["order_id"]) == ("captured", fetched["order_id"])
    assert payment["description"] == "#" + link["id"].removeprefix("plink_")
    assert (payment["notes"], payment["email"]) == (link["notes"], "buyer@example.com")
    assert sdk.order.fetch(fetched["order_id"])["status"] == "paid"
    assert receiver.events() == [
        "payment.authorized",
        "payment.captured",
        "order.paid",
        "payment_link.paid",
    ]
    event = assert_link_event(receiver.received[3], "docs-webhooks/payment_link.paid.standard.json")
    assert_link_event(receiver.received[3], "composed/lifecycle.03.payment_link.paid.sample.json")
    order = event["payload"]["order"]["entity"]
    assert order["id"] == fetched["order_id"].removeprefix("order_")
    assert (order["product_type"], order["product_id"]) == ("payment_link_v2", link["id"][6:])
    assert (order["status"], order["amount_paid"], order["payment_capture"]) == (
        "paid",
        50000,
        True,
    )
    assert event["payload"]["payment"]["entity"]["id"] == query["razorpay_payment_id"]
    assert event["payload"]["payment_link"]["entity"]["status"] == "paid"


def test_a_partial_then_a_full_payment_move_the_link_to_partially_paid_then_paid(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    link = sdk.payment_link.create(link_request(http, fresh_sandbox, CALLBACK))
    http.get(link["short_url"])

    too_little = submit(http, link, amount="199.99")
    first = submit(http, link, amount="200.00", method="upi")
    partial = sdk.payment_link.fetch(link["id"])
    second = submit(http, link, amount="300")

    assert too_little.status_code == 400 and "at least ₹200.00" in too_little.text
    first_query, second_query = (callback_query(a.headers["Location"]) for a in (first, second))
    assert first_query["razorpay_payment_link_status"] == "partially_paid"
    assert second_query["razorpay_payment_link_status"] == "paid"
    sample_query = link_sample("composed/callback.partially_paid.sample.json")["query"]
    assert set(first_query) == set(sample_query)
    for query in (first_query, second_query):
        assert sdk.utility.verify_payment_link_signature(sdk_verify_args(query)) is True
    assert (partial["status"], partial["amount_paid"]) == ("partially_paid", 20000)
    paid = sdk.payment_link.fetch(link["id"])
    assert_same_shape(
        paid, link_sample("composed/lifecycle.04.payment_link.fetch-after-paid.sample.json")
    )
    assert set(paid) == set(
        link_sample("composed/lifecycle.04.payment_link.fetch-after-paid.sample.json")
    )
    assert [(p["payment_id"], p["amount"], p["method"]) for p in paid["payments"]] == [
        (first_query["razorpay_payment_id"], 20000, "upi"),
        (second_query["razorpay_payment_id"], 30000, "card"),
    ]
    assert receiver.events() == [
        "payment.authorized",
        "payment.captured",
        "payment_link.partially_paid",
        "payment.authorized",
        "payment.captured",
        "order.paid",
        "payment_link.paid",
    ]
    sample_name = "composed/lifecycle.02.payment_link.partially_paid.sample.json"
    event = assert_link_event(receiver.received[2], sample_name)
    assert event["payload"]["order"]["entity"]["status"] == "attempted"
    assert event["payload"]["payment_link"]["entity"]["amount_paid"] == 20000
    assert submit(http, link).status_code == 400  # a paid link takes nothing more


def test_a_failed_payment_stays_on_the_page_and_is_recorded_on_the_links_order(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    link = sdk.payment_link.create(link_request(http, fresh_sandbox, CALLBACK))

    failed = submit(http, link, outcome="failure", amount="500.00")

    assert failed.status_code == 200 and "Location" not in failed.headers
    assert "Payment failed. You can try again." in failed.text
    fetched = sdk.payment_link.fetch(link["id"])
    assert (fetched["status"], fetched["amount_paid"], fetched["payments"]) == ("created", 0, None)
    attempts = sdk.order.payments(fetched["order_id"])["items"]
    assert [p["status"] for p in attempts] == ["failed"]
    assert receiver.events() == ["payment.failed"]
    assert submit(http, link, amount="500.00").status_code == 303


def test_without_a_callback_url_the_page_shows_the_payment_instead_of_redirecting(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    link = sdk.payment_link.create({"amount": 49900, "description": "Course"})

    answer = submit(http, link)

    assert answer.status_code == 200
    payment_id = sdk.payment_link.fetch(link["id"])["payments"][0]["payment_id"]
    assert f"Payment successful: {payment_id}" in answer.text
    assert "This link is paid." in answer.text
    assert "This payment link is paid" in http.get(link["short_url"]).text


def test_short_urls_use_the_public_url_when_one_is_set(
    start_sandbox: Any, connect: Any, http: requests.Session
) -> None:
    sandbox = start_sandbox(public_url="http://127.0.0.1:8010")
    link = connect(sandbox).payment_link.create({"amount": 100})

    assert link["short_url"].startswith("http://127.0.0.1:8010/i/")
    code = link["short_url"].rsplit("/", 1)[1]
    assert http.get(f"{sandbox.url}/i/{code}").status_code == 200
    refused = http.patch(f"{sandbox.url}/_sandbox/config", json={"public_url": "rzp.io"})
    assert refused.status_code == 400 and "public_url" in refused.text


def test_the_links_order_takes_payments_only_on_the_links_page(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    link = sdk.payment_link.create(link_request(http, fresh_sandbox))
    order_id = http.post(f"{fresh_sandbox.url}/_sandbox/payment_links/{link['id']}/open").json()[
        "order_id"
    ]

    refused = http.post(f"{fresh_sandbox.url}/_sandbox/orders/{order_id}/pay", json=SUCCESS)

    assert refused.status_code == 400 and "payment link" in refused.json()["error"]["description"]
    page = http.get(
        f"{fresh_sandbox.url}/checkout/pay", params={"key_id": KEY_ID, "order_id": order_id}
    )
    assert page.status_code == 400
    assert sdk.order.payments(order_id)["items"] == []
    bad_amount = submit(http, link, amount="two hundred")
    assert bad_amount.status_code == 400 and "Enter the amount in rupees" in bad_amount.text
    too_much = pay_link(http, fresh_sandbox, link["id"], amount=50001)
    description = too_much.json()["error"]["description"]
    assert too_much.status_code == 400 and description.endswith("amount due, ₹500.00")
    assert sdk.payment_link.fetch(link["id"])["payments"] is None
