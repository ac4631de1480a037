"""Real responses of the order and Checkout endpoints, successes and errors, are what
openapi.yaml declares."""

from __future__ import annotations

from typing import Any

from payments_service.signatures import checkout_signature
from tests.actions import Checkout, SiteCredentials, order_body
from tests.contract.openapi import (
    MINIMAL_ORDER,
    SITE_ORIGIN,
    assert_conforms,
    assert_problem,
)
from tests.test_create_order import socket_that_refuses


def test_real_order_responses_match_the_contract(
    client: Any, checkout: Checkout, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    keyed = {**new_site.headers, "Idempotency-Key": "contract-1"}
    created = client.post("/v1/orders", json=order_body(), headers=keyed)
    assert_conforms(created, "/v1/orders", 201)
    assert_conforms(client.post("/v1/orders", json=order_body(), headers=keyed), "/v1/orders", 200)
    minimal = client.post("/v1/orders", json=MINIMAL_ORDER, headers=new_site.headers)
    assert_conforms(minimal, "/v1/orders", 201)
    assert minimal.get_json()["checkout"]["prefill"] == {"email": "b@c.io"}

    order = created.get_json()
    assert_conforms(checkout.verify(checkout.pay(order)), "/v1/payments/verify", 200)
    fetched = client.get(f"/v1/orders/{order['id']}", headers=new_site.headers)
    assert_conforms(fetched, "/v1/orders/{order_id}", 200)
    assert fetched.get_json()["paid_at"] is not None

    first = client.get("/v1/orders?limit=1", headers=new_site.headers)
    assert_conforms(first, "/v1/orders", 200)
    cursor = first.get_json()["next_cursor"]
    assert cursor is not None
    last = client.get(f"/v1/orders?limit=1&cursor={cursor}", headers=new_site.headers)
    assert_conforms(last, "/v1/orders", 200)
    assert last.get_json()["next_cursor"] is None
    query = "status=paid&customer_email=asha@example.com&site_id=new-site"
    paid = client.get(f"/v1/orders?{query}", headers=admin_headers)
    assert_conforms(paid, "/v1/orders", 200)
    assert [o["id"] for o in paid.get_json()["items"]] == [order["id"]]


def test_real_checkout_responses_match_the_contract(
    client: Any, checkout: Checkout, new_site: SiteCredentials
) -> None:
    origin = {"Origin": SITE_ORIGIN}
    preflight = client.options(
        "/v1/payments/verify", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert_conforms(preflight, "/v1/payments/verify", 204)

    first = checkout.create_order(new_site)
    paid = client.post("/v1/payments/verify", json=checkout.pay(first), headers=origin)
    assert_conforms(paid, "/v1/payments/verify", 200)
    assert paid.headers["Access-Control-Allow-Origin"] == SITE_ORIGIN
    assert paid.get_json()["enrollment"]["order_id"] == first["id"]

    # Buying a course the buyer already owns pays the order but grants nothing new.
    again = checkout.verify(checkout.pay(checkout.create_order(new_site, allow_owned=True)))
    assert_conforms(again, "/v1/payments/verify", 200)
    assert again.get_json()["enrollment"] is None


def test_order_error_responses_match_the_contract(
    client: Any, make_app: Any, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    orders, site = "/v1/orders", new_site.headers
    assert_problem(client.get(orders), orders, 401, "unauthorized")
    bad_token = {"Authorization": "Bearer not.a.jwt"}
    assert_problem(
        client.post(orders, json=order_body(), headers=bad_token), orders, 401, "unauthorized"
    )
    invalid = order_body(amount=99, customer={"email": "nope"}, notes={"k": "v" * 257}, x=1)
    rejected = client.post(orders, json=invalid, headers=site)
    assert_problem(rejected, orders, 422, "validation_error")
    assert set(rejected.get_json()["errors"]) == {"amount", "customer", "notes", "x"}
    not_an_object = client.post(orders, json=[1], headers=site)
    assert_problem(not_an_object, orders, 422, "validation_error")
    assert set(not_an_object.get_json()["errors"]) == {"_schema"}
    bad_key = {**site, "Idempotency-Key": "has space"}
    assert_problem(
        client.post(orders, json=order_body(), headers=bad_key), orders, 422, "validation_error"
    )
    keyed = {**site, "Idempotency-Key": "k-1"}
    client.post(orders, json=order_body(), headers=keyed)
    assert_problem(
        client.post(orders, json=order_body(amount=59900), headers=keyed),
        orders,
        422,
        "idempotency_key_reused",
    )
    # The role is checked before the body: an admin gets 403 whatever it sends.
    for admin_body in ({"json": order_body()}, {"json": [1]}, {"data": "amount=1"}):
        assert_problem(
            client.post(orders, headers=admin_headers, **admin_body), orders, 403, "forbidden"
        )
    assert_problem(
        client.post(orders, data=b"{", headers={**site, "Content-Type": "application/json"}),
        orders,
        400,
        "bad_request",
    )
    assert_problem(
        client.post(orders, data="amount=1", headers=site), orders, 415, "unsupported_media_type"
    )
    assert_problem(
        client.post(
            orders,
            data=b"[" + b" " * 70_000 + b"]",
            headers={**site, "Content-Type": "application/json"},
        ),
        orders,
        413,
        "payload_too_large",
    )

    assert_problem(
        client.get(f"{orders}?cursor=garbage", headers=site), orders, 422, "validation_error"
    )
    unknown_parameter = client.get(f"{orders}?limit=0&colour=red", headers=site)
    assert_problem(unknown_parameter, orders, 422, "validation_error")
    assert set(unknown_parameter.get_json()["errors"]) == {"limit"}
    assert_problem(
        client.get(f"{orders}/ord_Missing0000000", headers=site),
        "/v1/orders/{order_id}",
        404,
        "not_found",
    )

    with socket_that_refuses() as dead_url:
        down = make_app(razorpay_api_base_url=dead_url).test_client()
        unavailable = down.post(orders, json=order_body(), headers=site)
    assert_problem(unavailable, orders, 503, "gateway_unavailable")


def test_checkout_error_responses_match_the_contract(
    client: Any, checkout: Checkout, new_site: SiteCredentials, sandbox: Any
) -> None:
    verify, origin = "/v1/payments/verify", {"Origin": SITE_ORIGIN}
    order = checkout.create_order(new_site)
    result = checkout.pay(order)
    forged = {
        **result,
        "razorpay_signature": checkout_signature(
            "not-the-key-secret", result["razorpay_order_id"], result["razorpay_payment_id"]
        ),
    }
    assert_problem(checkout.verify(forged), verify, 403, "invalid_signature")

    other = checkout.create_order(new_site, amount=100)
    foreign = {
        "razorpay_order_id": other["razorpay_order_id"],
        "razorpay_payment_id": result["razorpay_payment_id"],
        "razorpay_signature": checkout_signature(
            sandbox.config.key_secret, other["razorpay_order_id"], result["razorpay_payment_id"]
        ),
    }
    assert_problem(checkout.verify(foreign), verify, 400, "payment_mismatch")

    failed = checkout.create_order(new_site)
    payment_id = checkout.pay(failed, outcome="failure")["error"]["metadata"]["payment_id"]
    unsuccessful = checkout.verify(
        {
            "razorpay_order_id": failed["razorpay_order_id"],
            "razorpay_payment_id": payment_id,
            "razorpay_signature": checkout_signature(
                sandbox.config.key_secret, failed["razorpay_order_id"], payment_id
            ),
        }
    )
    assert_problem(unsuccessful, verify, 400, "payment_not_successful")
    assert unsuccessful.get_json()["payment_status"] == "failed"

    unknown = {
        "razorpay_order_id": "order_Unknown0000001",
        "razorpay_payment_id": "pay_Unknown00000001",
        "razorpay_signature": "0" * 64,
    }
    assert_problem(checkout.verify(unknown), verify, 404, "not_found")
    incomplete = client.post(verify, json={"razorpay_order_id": "order_X"}, headers=origin)
    assert_problem(incomplete, verify, 422, "validation_error")
    assert incomplete.headers["Access-Control-Allow-Origin"] == SITE_ORIGIN
    assert_problem(
        client.post(verify, data=b"{", content_type="application/json"), verify, 400, "bad_request"
    )
    assert_problem(client.post(verify, data="x=1"), verify, 415, "unsupported_media_type")
    stranger = client.options(verify, headers={"Origin": "https://evil.example"})
    assert_problem(stranger, verify, 403, "forbidden")
