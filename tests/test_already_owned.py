"""POST /v1/orders refuses to sell a product its customer already owns (409 already_owned)
unless the site says it is a deliberate repeat (`allow_owned`); replays stay replays."""

from __future__ import annotations

from typing import Any

from tests.actions import Checkout, SiteCredentials, order_body
from tests.contract.openapi import assert_problem


def test_an_order_for_a_product_the_customer_owns_is_a_409_already_owned(
    client: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    db_rows: Any,
) -> None:
    bought = checkout.buy(new_site)
    (enrollment,) = db_rows("SELECT id FROM enrollments")
    customer = {"email": "ASHA@example.com"}  # the same buyer, any case, on another site

    answer = client.post("/v1/orders", json=order_body(customer=customer), headers=old_site.headers)

    assert_problem(answer, "/v1/orders", 409, "already_owned")
    problem = answer.get_json()
    assert problem["enrollment_id"] == enrollment["id"]
    assert "asha@example.com" in problem["detail"] and "python-101" in problem["detail"]
    assert db_rows("SELECT id FROM orders") == [{"id": bought["id"]}]


def test_the_same_customer_may_still_order_another_product(
    client: Any, checkout: Checkout, new_site: SiteCredentials
) -> None:
    checkout.buy(new_site)
    other = order_body(product={"sku": "rust-201", "name": "Rust 201"})

    assert client.post("/v1/orders", json=other, headers=new_site.headers).status_code == 201


def test_allow_owned_creates_a_deliberate_repeat_order(
    client: Any, checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    bought = checkout.buy(new_site)

    answer = client.post("/v1/orders", json=order_body(allow_owned=True), headers=new_site.headers)

    assert answer.status_code == 201
    assert answer.get_json()["id"] != bought["id"] and answer.get_json()["status"] == "created"
    assert len(db_rows("SELECT id FROM orders")) == 2


def test_a_revoked_enrollment_does_not_block_a_new_order(
    client: Any, checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    bought = checkout.buy(new_site)
    assert checkout.refund(new_site.headers, order_id=bought["id"]).status_code == 201
    assert db_rows("SELECT status FROM enrollments") == [{"status": "revoked"}]

    answer = client.post("/v1/orders", json=order_body(), headers=new_site.headers)

    assert answer.status_code == 201


def test_replaying_the_key_of_an_order_since_paid_returns_that_order(
    client: Any, checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    headers = {**new_site.headers, "Idempotency-Key": "cart-paid-1"}
    first = client.post("/v1/orders", json=order_body(), headers=headers)
    assert checkout.verify(checkout.pay(first.get_json())).status_code == 200

    replay = client.post("/v1/orders", json=order_body(), headers=headers)

    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.get_json()["id"] == first.get_json()["id"]
    assert replay.get_json()["status"] == "paid"
    assert len(db_rows("SELECT id FROM orders")) == 1


def test_allow_owned_is_not_part_of_what_an_idempotency_key_compares(
    client: Any, checkout: Checkout, new_site: SiteCredentials
) -> None:
    checkout.buy(new_site)
    headers = {**new_site.headers, "Idempotency-Key": "cart-repeat-1"}
    refused = client.post("/v1/orders", json=order_body(), headers=headers)
    created = client.post("/v1/orders", json=order_body(allow_owned=True), headers=headers)
    replay = client.post("/v1/orders", json=order_body(), headers=headers)

    assert (refused.status_code, created.status_code, replay.status_code) == (409, 201, 200)
    assert replay.get_json()["id"] == created.get_json()["id"]


def test_allow_owned_must_be_a_json_boolean(
    client: Any, new_site: SiteCredentials, db_rows: Any
) -> None:
    answer = client.post("/v1/orders", json=order_body(allow_owned="yes"), headers=new_site.headers)

    assert answer.status_code == 422 and "allow_owned" in answer.get_json()["errors"]
    assert db_rows("SELECT id FROM orders") == []
