"""The document itself: valid OpenAPI 3.1, listing exactly the app's routes, with examples
that match their schemas, and request schemas that accept exactly what the API accepts."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from openapi_spec_validator import validate

from tests.actions import SiteCredentials, order_body
from tests.contract.openapi import (
    DOCUMENT,
    ENROLLMENTS,
    GRANT_REQUEST,
    MINIMAL_ORDER,
    ORDER_REQUEST,
    RECONCILE,
    RECONCILE_REQUEST,
    REFUND_REQUEST,
    REFUNDS,
    UNKNOWN_PAYMENT,
    documented_examples,
    documented_operations,
    documented_routes,
    registered_routes,
    schema_errors,
)


def test_the_document_is_valid_openapi_3_1() -> None:
    assert DOCUMENT["openapi"].startswith("3.1.")
    validate(DOCUMENT)


def test_every_route_is_documented_with_its_methods_and_nothing_more(app: Flask) -> None:
    assert registered_routes(app) == documented_routes()


def test_the_documents_examples_match_their_schemas() -> None:
    examples = list(documented_examples())
    assert len(examples) >= 6
    for schema_pointer, example in examples:
        assert not schema_errors(example, schema_pointer), (schema_pointer, example)


def test_every_operation_has_a_declared_tag_and_a_unique_operation_id() -> None:
    declared = {tag["name"] for tag in DOCUMENT["tags"]}
    operations = [operation for _, operation in documented_operations()]
    ids = [operation["operationId"] for operation in operations]
    assert len(ids) == len(set(ids)), ids
    for operation in operations:
        assert operation["tags"] and set(operation["tags"]) <= declared, operation["operationId"]


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        (order_body(), True),
        (MINIMAL_ORDER, True),
        (order_body(customer={"email": "A@B.CO", "name": None, "contact": "12345678"}), True),
        (
            order_body(amount=10**12, receipt=None, notes={f"k{i}": "v" * 256 for i in range(12)}),
            True,
        ),
        (order_body(amount=10**12 + 1), False),
        (order_body(amount=99), False),
        (order_body(amount=499.5), False),
        (order_body(amount="49900"), False),
        (order_body(amount=True), False),
        (order_body(currency=None), False),
        (order_body(currency="inr"), False),
        (order_body(receipt=""), False),
        (order_body(receipt="r" * 41), False),
        (order_body(notes={f"k{i}": "v" for i in range(13)}), False),
        (order_body(notes={"": "v"}), False),
        (order_body(notes={"k": {"nested": 1}}), False),
        (order_body(product={"sku": "Python 101!", "name": "x"}), False),
        (order_body(product={"sku": "python-101", "name": ""}), False),
        (order_body(customer={"email": "a@b.co", "contact": "call me"}), False),
        (order_body(customer={"email": "a@b.co", "age": 30}), False),
        ({k: v for k, v in order_body().items() if k != "customer"}, False),
        (order_body(surprise=1), False),
        (order_body(allow_owned=True), True),
        (order_body(allow_owned=False), True),
        (order_body(allow_owned="true"), False),
        (order_body(allow_owned=1), False),
    ],
)
def test_the_create_order_schema_accepts_what_the_api_accepts(
    client: Any, new_site: SiteCredentials, body: dict[str, Any], accepted: bool
) -> None:
    response = client.post("/v1/orders", json=body, headers=new_site.headers)

    errors = schema_errors(body, ORDER_REQUEST)
    assert response.status_code == (201 if accepted else 422), response.get_json()
    assert (not errors) is accepted, errors


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z"}, True),
        ({"from": "2020-01-01T05:30:00+05:30", "to": "2020-01-01T23:59:59.5-08:00"}, True),
        ({"from": "2020-01-01T00:00:00", "to": "2020-01-02T00:00:00"}, False),
        ({"from": "2020-01-01", "to": "2020-01-02"}, False),
        ({"from": 1577836800, "to": 1577923200}, False),
        ({"from": "2020-01-01T00:00:00Z"}, False),
        ({"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z", "site_id": "x"}, False),
    ],
)
def test_the_reconcile_schema_accepts_what_the_api_accepts(
    client: Any, admin_headers: dict[str, str], body: dict[str, Any], accepted: bool
) -> None:
    response = client.post(RECONCILE, json=body, headers=admin_headers)

    errors = schema_errors(body, RECONCILE_REQUEST)
    assert response.status_code == (200 if accepted else 422), response.get_json()
    assert (not errors) is accepted, errors


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({"payment_id": UNKNOWN_PAYMENT}, True),
        ({"order_id": "ord_Unknown0000001"}, True),
        (
            {
                "payment_id": UNKNOWN_PAYMENT,
                "order_id": "ord_Unknown0000001",
                "amount": 100,
                "currency": "INR",
                "reason": "r" * 500,
                "speed": "optimum",
                "revoke_access": False,
            },
            True,
        ),
        (
            {
                "payment_id": None,
                "order_id": "o" * 64,
                "amount": None,
                "currency": None,
                "reason": None,
            },
            True,
        ),
        ({"payment_id": "pay_" + "a" * 60}, True),
        ({"payment_id": "pay_" + "a" * 61}, False),
        ({"payment_id": "rfnd_Abc"}, False),
        ({"payment_id": ""}, False),
        ({"order_id": ""}, False),
        ({"order_id": "o" * 65}, False),
        ({}, False),
        ({"payment_id": None, "order_id": None}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "amount": 99}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "amount": 10**12 + 1}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "amount": 100.5}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "amount": "500"}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "amount": True}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "currency": "inr"}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "reason": ""}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "reason": "r" * 501}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "speed": "instant"}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "speed": None}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "revoke_access": None}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "surprise": 1}, False),
    ],
)
def test_the_create_refund_schema_accepts_what_the_api_accepts(
    client: Any, new_site: SiteCredentials, body: dict[str, Any], accepted: bool
) -> None:
    # An accepted body names no payment of ours, so it gets as far as the 404.
    response = client.post(REFUNDS, json=body, headers=new_site.headers)

    errors = schema_errors(body, REFUND_REQUEST)
    assert response.status_code == (404 if accepted else 422), response.get_json()
    assert (not errors) is accepted, errors


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({"customer_email": "Guest@Example.com", "sku": "python-101", "reason": "r"}, True),
        ({"customer_email": "g@example.com", "sku": "go-1", "reason": "r" * 500}, True),
        ({"customer_email": "g@example.com", "sku": "go-1", "reason": ""}, False),
        ({"customer_email": "g@example.com", "sku": "go-1", "reason": "r" * 501}, False),
        ({"customer_email": "g@example.com", "sku": "go-1", "reason": None}, False),
        ({"customer_email": "g@example.com", "sku": "Go 1", "reason": "r"}, False),
        ({"customer_email": "g@example.com", "sku": "go-1"}, False),
        ({"customer_email": "g@example.com", "reason": "r"}, False),
        ({"sku": "go-1", "reason": "r"}, False),
        ({"customer_email": "g@example.com", "sku": "go-1", "reason": "r", "x": 1}, False),
    ],
)
def test_the_grant_enrollment_schema_accepts_what_the_api_accepts(
    client: Any, admin_headers: dict[str, str], body: dict[str, Any], accepted: bool
) -> None:
    response = client.post(ENROLLMENTS, json=body, headers=admin_headers)

    errors = schema_errors(body, GRANT_REQUEST)
    assert response.status_code == (201 if accepted else 422), response.get_json()
    assert (not errors) is accepted, errors
