"""Real responses of the payment list and the refund endpoints, successes and errors, are
what openapi.yaml declares."""

from __future__ import annotations

from typing import Any

from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials
from tests.contract.openapi import (
    PAYMENTS,
    REFUND,
    REFUNDS,
    UNKNOWN_PAYMENT,
    assert_conforms,
    assert_problem,
    configure_sandbox,
)
from tests.test_create_order import socket_that_refuses


def test_real_payment_list_responses_match_the_contract(
    client: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    first = checkout.buy(new_site)
    second = checkout.buy(new_site, product={"sku": "data-201", "name": "Data 201"})
    theirs = checkout.buy(old_site, customer={"email": "other@example.com"})

    page = client.get(f"{PAYMENTS}?limit=1", headers=new_site.headers)
    assert_conforms(page, PAYMENTS, 200)
    cursor = page.get_json()["next_cursor"]
    assert cursor is not None
    last = client.get(f"{PAYMENTS}?limit=1&cursor={cursor}", headers=new_site.headers)
    assert_conforms(last, PAYMENTS, 200)
    assert last.get_json()["next_cursor"] is None
    seen = {p["id"] for p in page.get_json()["items"] + last.get_json()["items"]}
    assert seen == {first["payment_id"], second["payment_id"]}  # not the other site's

    by_order = client.get(f"{PAYMENTS}?order_id={first['id']}", headers=new_site.headers)
    assert_conforms(by_order, PAYMENTS, 200)
    (payment,) = by_order.get_json()["items"]
    assert (payment["id"], payment["status"]) == (first["payment_id"], "captured")
    query = "customer_email=OTHER@example.com&status=captured"
    by_admin = client.get(f"{PAYMENTS}?{query}", headers=admin_headers)
    assert_conforms(by_admin, PAYMENTS, 200)
    assert [p["id"] for p in by_admin.get_json()["items"]] == [theirs["payment_id"]]


def test_payment_list_error_responses_match_the_contract(
    client: Any, new_site: SiteCredentials
) -> None:
    assert_problem(client.get(PAYMENTS), PAYMENTS, 401, "unauthorized")
    for query in ("status=paid", "customer_email=nope", "limit=201", "cursor=garbage"):
        assert_problem(
            client.get(f"{PAYMENTS}?{query}", headers=new_site.headers),
            PAYMENTS,
            422,
            "validation_error",
        )


def test_real_refund_responses_match_the_contract(
    client: Any,
    checkout: Checkout,
    sandbox: Any,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    order = checkout.buy(new_site)
    keyed = {**new_site.headers, "Idempotency-Key": "contract-refund-1"}
    body = {
        "payment_id": order["payment_id"],
        "amount": 20000,
        "reason": "half",
        "speed": "optimum",
    }
    first = client.post(REFUNDS, json=body, headers=keyed)
    assert_conforms(first, REFUNDS, 201)
    assert first.get_json()["status"] == "processed"
    replay = client.post(REFUNDS, json=body, headers=keyed)
    assert_conforms(replay, REFUNDS, 200)
    assert replay.get_json()["id"] == first.get_json()["id"]

    configure_sandbox(sandbox, refund_outcome="pending")
    pending = checkout.refund(new_site.headers, order_id=order["id"], amount=10000)
    assert_conforms(pending, REFUNDS, 201)
    assert (pending.get_json()["status"], pending.get_json()["processed_at"]) == ("pending", None)
    configure_sandbox(sandbox, refund_outcome="processed")
    rest = checkout.refund(
        admin_headers, payment_id=order["payment_id"], order_id=order["id"], currency="INR"
    )
    assert_conforms(rest, REFUNDS, 201)
    assert (rest.get_json()["amount"], rest.get_json()["requested_by"]) == (19900, "admin:tester")
    assert rest.get_json()["revoked_access"] is True  # pending + processed cover the order
    refunded = client.get(f"/v1/orders/{order['id']}", headers=new_site.headers)
    assert_conforms(refunded, "/v1/orders/{order_id}", 200)
    assert (refunded.get_json()["status"], refunded.get_json()["amount_refunded"]) == (
        "refunded",
        49900,
    )
    payments = client.get(f"{PAYMENTS}?status=refunded", headers=new_site.headers)
    assert_conforms(payments, PAYMENTS, 200)
    assert [p["amount_refunded"] for p in payments.get_json()["items"]] == [49900]

    fetched = client.get(f"{REFUNDS}/{first.get_json()['id']}", headers=new_site.headers)
    assert_conforms(fetched, REFUND, 200)
    assert fetched.get_json() == first.get_json()
    page = client.get(f"{REFUNDS}?limit=2", headers=new_site.headers)
    assert_conforms(page, REFUNDS, 200)
    cursor = page.get_json()["next_cursor"]
    assert cursor is not None
    last = client.get(f"{REFUNDS}?limit=2&cursor={cursor}", headers=new_site.headers)
    assert_conforms(last, REFUNDS, 200)
    assert len(last.get_json()["items"]) == 1 and last.get_json()["next_cursor"] is None
    query = f"status=pending&payment_id={order['payment_id']}&order_id={order['id']}"
    filtered = client.get(f"{REFUNDS}?{query}", headers=admin_headers)
    assert_conforms(filtered, REFUNDS, 200)
    assert [r["id"] for r in filtered.get_json()["items"]] == [pending.get_json()["id"]]


def test_refund_error_responses_match_the_contract(
    client: Any,
    make_app: Any,
    checkout: Checkout,
    sandbox: Any,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    site = new_site.headers
    order = checkout.buy(new_site)
    payment_id = order["payment_id"]
    assert_problem(
        client.post(REFUNDS, json={"payment_id": payment_id}), REFUNDS, 401, "unauthorized"
    )
    invalid = client.post(REFUNDS, json={"amount": 99, "speed": "warp", "x": 1}, headers=site)
    assert_problem(invalid, REFUNDS, 422, "validation_error")
    assert set(invalid.get_json()["errors"]) == {"amount", "speed", "x"}
    unnamed = client.post(REFUNDS, json={"amount": 100}, headers=site)
    assert_problem(unnamed, REFUNDS, 422, "validation_error")
    assert set(unnamed.get_json()["errors"]) == {"payment_id"}
    bad_key = {**site, "Idempotency-Key": "has space"}
    assert_problem(
        client.post(REFUNDS, json={"payment_id": payment_id}, headers=bad_key),
        REFUNDS,
        422,
        "validation_error",
    )
    json_headers = {**site, "Content-Type": "application/json"}
    assert_problem(
        client.post(REFUNDS, data=b"{", headers=json_headers), REFUNDS, 400, "bad_request"
    )
    assert_problem(
        client.post(REFUNDS, data="payment_id=x", headers=site),
        REFUNDS,
        415,
        "unsupported_media_type",
    )

    theirs = checkout.buy(old_site, customer={"email": "other@example.com"})
    unpaid = checkout.create_order(new_site, allow_owned=True)
    for missing in (
        {"payment_id": UNKNOWN_PAYMENT},
        {"payment_id": theirs["payment_id"]},  # another site's
        {"order_id": unpaid["id"]},  # no captured payment
    ):
        assert_problem(client.post(REFUNDS, json=missing, headers=site), REFUNDS, 404, "not_found")

    other_currency = checkout.refund(site, payment_id=payment_id, currency="USD")
    assert_problem(other_currency, REFUNDS, 409, "not_refundable")
    assert other_currency.get_json()["field"] == "currency"
    other_order = checkout.refund(site, payment_id=payment_id, order_id=unpaid["id"])
    assert_problem(other_order, REFUNDS, 404, "not_found")
    assert other_order.get_json()["field"] == "order_id"

    too_much = checkout.refund(site, payment_id=payment_id, amount=49901)
    assert_problem(too_much, REFUNDS, 409, "not_refundable")
    assert too_much.get_json()["refundable"] == 49900
    keyed = {**site, "Idempotency-Key": "contract-refund-2"}
    assert checkout.refund(keyed, payment_id=payment_id, amount=49850).status_code == 201
    reused = checkout.refund(keyed, payment_id=payment_id, amount=100)
    assert_problem(reused, REFUNDS, 422, "idempotency_key_reused")
    assert reused.get_json()["field"] == "Idempotency-Key"
    crumbs = checkout.refund(site, payment_id=payment_id)  # 50 left, under the minimum
    assert_problem(crumbs, REFUNDS, 409, "not_refundable")
    assert crumbs.get_json()["refundable"] == 50
    assert checkout.refund(admin_headers, order_id=theirs["id"]).status_code == 201
    spent = checkout.refund(admin_headers, order_id=theirs["id"])
    assert_problem(spent, REFUNDS, 409, "not_refundable")
    assert "refundable" not in spent.get_json()

    configure_sandbox(sandbox, auto_capture=False)
    authorized = checkout.create_order(new_site, product={"sku": "data-201", "name": "Data 201"})
    result = checkout.pay(authorized)
    webhooks.deliver(webhooks.event(authorized["razorpay_order_id"], "payment.authorized"))
    uncaptured = checkout.refund(site, payment_id=result["razorpay_payment_id"])
    assert_problem(uncaptured, REFUNDS, 409, "not_refundable")
    assert "refundable" not in uncaptured.get_json()

    configure_sandbox(sandbox, auto_capture=True, merchant_balance=1000)
    fresh = checkout.buy(new_site, product={"sku": "ml-301", "name": "ML 301"})
    refused = checkout.refund(site, payment_id=fresh["payment_id"])
    assert_problem(refused, REFUNDS, 502, "gateway_error")
    configure_sandbox(sandbox, merchant_balance=10_000_000_00)

    lost_key = {**site, "Idempotency-Key": "contract-refund-lost"}
    with socket_that_refuses() as dead_url:
        down = make_app(razorpay_api_base_url=dead_url).test_client()
        lost = down.post(REFUNDS, json={"payment_id": fresh["payment_id"]}, headers=lost_key)
    assert_problem(lost, REFUNDS, 503, "gateway_unavailable")
    reserved = client.get(f"{REFUNDS}?payment_id={fresh['payment_id']}", headers=site)
    assert_conforms(reserved, REFUNDS, 200)
    assert [r["status"] for r in reserved.get_json()["items"]] == ["requested"]
    retried = checkout.refund(lost_key, payment_id=fresh["payment_id"])
    assert_conforms(retried, REFUNDS, 200)
    assert retried.get_json()["status"] == "processed"
    once = client.get(f"{REFUNDS}?payment_id={fresh['payment_id']}", headers=site)
    assert [r["id"] for r in once.get_json()["items"]] == [retried.get_json()["id"]]

    assert_problem(client.get(REFUNDS), REFUNDS, 401, "unauthorized")
    for query in ("status=lost", "limit=0", "cursor=garbage"):
        assert_problem(
            client.get(f"{REFUNDS}?{query}", headers=site), REFUNDS, 422, "validation_error"
        )
    their_refund = client.get(f"{REFUNDS}?order_id={theirs['id']}", headers=admin_headers)
    (their_refund_id,) = [r["id"] for r in their_refund.get_json()["items"]]
    for refund_id in ("rfd_Missing0000000", their_refund_id):
        assert_problem(client.get(f"{REFUNDS}/{refund_id}"), REFUND, 401, "unauthorized")
        assert_problem(client.get(f"{REFUNDS}/{refund_id}", headers=site), REFUND, 404, "not_found")
