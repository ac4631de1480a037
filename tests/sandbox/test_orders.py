"""The sandbox's orders over the official SDK: create, fetch, list, edit; Razorpay's validation
errors, ids, credentials, unknown routes and page sizes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.helpers import (
    KEY_ID,
    KEY_SECRET,
    Json,
    assert_error,
    assert_same_shape,
    pay,
    payment_fixture,
    sample,
)


def test_order_create_fetch_list_and_edit(sdk: razorpay.Client) -> None:
    first = sdk.order.create({"amount": 49900, "currency": "INR", "receipt": "rcpt-1"})
    second = sdk.order.create(
        {"amount": "1000", "currency": "INR", "receipt": "rcpt-2", "notes": {"site": "blog"}}
    )
    assert first["status"] == "created" and first["amount_due"] == 49900
    assert first["notes"] == [] and second["amount"] == 1000
    assert first["id"].startswith("order_") and len(first["id"]) == len("order_") + 14
    assert_same_shape(first, sample("docs-api/order.create.response.json"))
    assert sdk.order.fetch(first["id"]) == first

    listed = sdk.order.all()
    assert_same_shape(listed, sample("docs-api/order.all.response.json"))
    assert [order["id"] for order in listed["items"]] == [second["id"], first["id"]]
    assert sdk.order.all({"count": 1, "skip": 1})["items"] == [first]
    assert sdk.order.all({"receipt": "rcpt-2"})["items"] == [second]

    edited = sdk.order.edit(first["id"], {"notes": {"key1": "value1"}})
    assert edited["notes"] == {"key1": "value1"}
    assert_error(lambda: sdk.order.edit(first["id"], {"amount": 5}), "amount is/are not")


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({"amount": 99, "currency": "INR"}, "The amount must be at least INR 1.00"),
        ({"amount": 499.5, "currency": "INR"}, "The amount must be an integer."),
        ({"amount": "12.50", "currency": "INR"}, "The amount must be an integer."),
        ({"currency": "INR"}, "The amount field is required."),
        ({"amount": 1000, "currency": "inr"}, "The selected currency is invalid."),
        ({"amount": 1000, "currency": "XYZ"}, "The selected currency is invalid."),
        ({"amount": 1000, "currency": "INR", "receipt": "r" * 41}, "may not be greater than 40"),
        (
            {"amount": 1000, "currency": "INR", "notes": {f"k{i}": "v" for i in range(16)}},
            "Number of fields in notes should be less than or equal to 15",
        ),
        (
            {"amount": 1000, "currency": "INR", "notes": {"k": ["v"]}},
            "Notes values themselves should not be an array",
        ),
        ({"amount": 1000, "currency": "INR", "colour": "red"}, "colour is/are not required"),
    ],
)
def test_order_create_validation(sdk: razorpay.Client, body: Json, description: str) -> None:
    assert_error(lambda: sdk.order.create(body), description)


def test_order_payments_list_every_attempt(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    order = sdk.order.create({"amount": 50000, "currency": "INR"})
    failed = pay(http, fresh_sandbox, order["id"], outcome="failure", method="upi")
    assert sdk.order.fetch(order["id"])["status"] == "attempted"
    paid = pay(http, fresh_sandbox, order["id"], method="netbanking")

    payments = sdk.order.payments(order["id"])
    assert [item["id"] for item in payments["items"]] == [
        failed["error"]["metadata"]["payment_id"],
        paid["razorpay_payment_id"],
    ]
    assert [item["status"] for item in payments["items"]] == ["failed", "captured"]
    assert_same_shape(payments["items"][0], payment_fixture("upi"))
    assert_same_shape(payments["items"][1], payment_fixture("netbanking"))
    order = sdk.order.fetch(order["id"])
    assert (order["status"], order["attempts"], order["amount_paid"]) == ("paid", 2, 50000)


def test_unknown_and_malformed_ids(sdk: razorpay.Client, http: requests.Session) -> None:
    assert_error(lambda: sdk.order.fetch("order_AAAAAAAAAAAAAA"), "The id provided does not")
    assert_error(lambda: sdk.payment.fetch("pay_AAAAAAAAAAAAAA"), "The id provided does not")
    assert_error(lambda: sdk.refund.fetch("rfnd_AAAAAAAAAAAAAA"), "The id provided does not")
    assert_error(lambda: sdk.payment.fetch("pay_AABBdHIieex"), "AABBdHIieex is not a valid id")

    response = http.get(f"{sdk.base_url}/v1/orders/order_AAAAAAAAAAAAAA", auth=sdk.auth)
    assert response.status_code == 400
    assert_same_shape(response.json(), sample("docs-api/error.sample.error.json"))


@pytest.mark.parametrize(
    ("auth", "description"),
    [
        ((KEY_ID, "wrong_secret"), "Authentication failed"),
        (("rzp_test_SomeoneElse001", KEY_SECRET), "The api key provided is invalid"),
    ],
    ids=["wrong-secret", "unknown-key"],
)
def test_bad_credentials_are_401(
    fresh_sandbox: BackgroundSandbox,
    http: requests.Session,
    auth: tuple[str, str],
    description: str,
    connect: Callable[..., razorpay.Client],
) -> None:
    intruder = connect(fresh_sandbox, auth)
    assert_error(lambda: intruder.order.all(), description)
    response = http.get(f"{fresh_sandbox.url}/v1/orders", auth=auth)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "BAD_REQUEST_ERROR"
    missing = http.get(f"{fresh_sandbox.url}/v1/orders")
    assert missing.status_code == 401
    assert "Please provide your api key" in missing.json()["error"]["description"]


def test_unknown_routes_and_methods_answer_json(
    sdk: razorpay.Client, http: requests.Session
) -> None:
    # The SDK parses every error body; an HTML 404 would surface as a JSON decode error.
    assert_error(lambda: sdk.payment.fetchCardDetails("pay_AAAAAAAAAAAAAA"), "URL was not")
    for method, path in [("GET", "/v1/nowhere"), ("DELETE", "/v1/orders"), ("GET", "/nowhere")]:
        response = http.request(method, f"{sdk.base_url}{path}", auth=sdk.auth)
        assert response.status_code in (400, 404)
        assert_same_shape(response.json(), sample("docs-api/error.sample.error.json"))


def test_pagination_count_above_100_is_rejected(sdk: razorpay.Client) -> None:
    for resource in (sdk.order, sdk.payment, sdk.refund):
        assert_error(lambda r=resource: r.all({"count": 101}), "count may not be greater than 100")
    assert sdk.order.all({"count": 100})["entity"] == "collection"
