"""Refunds asked for: partial up to the captured amount, valid bodies only, only by the order's
site or an admin, listed to those who may see them; a refusal by Razorpay is a 502."""

from __future__ import annotations

import time
from typing import Any

import pytest
import razorpay
import requests

from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials


def _configure(sandbox: Any, **changes: Any) -> None:
    requests.patch(f"{sandbox.url}/_sandbox/config", json=changes, timeout=5).raise_for_status()


def _sdk(sandbox: Any) -> Any:
    return razorpay.Client(
        auth=(sandbox.config.key_id, sandbox.config.key_secret), base_url=sandbox.url
    )


def test_partial_plus_partial_is_full_with_the_right_statuses(
    checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.buy(new_site)

    first = checkout.refund(
        new_site.headers,
        payment_id=order["payment_id"],
        amount=20000,
        reason="changed mind about half",
    )
    assert first.status_code == 201
    assert first.get_json()["status"] == "processed" and first.get_json()["amount"] == 20000
    assert db_rows("SELECT status, amount_refunded FROM orders") == [
        {"status": "partially_refunded", "amount_refunded": 20000}
    ]
    assert db_rows("SELECT status FROM enrollments") == [{"status": "active"}]

    rest = checkout.refund(new_site.headers, order_id=order["id"])

    assert rest.status_code == 201 and rest.get_json()["amount"] == 29900
    assert db_rows("SELECT status, amount_refunded FROM orders") == [
        {"status": "refunded", "amount_refunded": 49900}
    ]
    assert db_rows("SELECT status, amount_refunded FROM payments") == [
        {"status": "refunded", "amount_refunded": 49900}
    ]
    (enrollment,) = db_rows("SELECT status, revoked_by, revoke_reason FROM enrollments")
    assert enrollment["status"] == "revoked" and enrollment["revoked_by"] == "site:new-site"
    assert rest.get_json()["revoked_access"] is True


def test_a_full_refund_can_keep_access(
    checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.buy(new_site)
    answer = checkout.refund(new_site.headers, order_id=order["id"], revoke_access=False)
    assert answer.status_code == 201
    assert db_rows("SELECT status FROM enrollments") == [{"status": "active"}]


def test_an_over_refund_is_rejected_and_nothing_is_written(
    checkout: Checkout, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    order = checkout.buy(new_site)
    too_much = checkout.refund(new_site.headers, payment_id=order["payment_id"], amount=49901)
    assert too_much.status_code == 409
    assert too_much.get_json()["code"] == "not_refundable"
    assert too_much.get_json()["refundable"] == 49900
    assert db_rows("SELECT id FROM refunds") == []

    checkout.refund(new_site.headers, payment_id=order["payment_id"])
    again = checkout.refund(new_site.headers, payment_id=order["payment_id"], amount=100)
    assert again.status_code == 409
    assert len(db_rows("SELECT id FROM refunds")) == 1
    at_razorpay = _sdk(sandbox).payment.fetch_multiple_refund(order["payment_id"])
    assert at_razorpay["count"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": 99}, "amount"),
        ({"amount": 100.5}, "amount"),
        ({"amount": "500"}, "amount"),
        ({"speed": "warp"}, "speed"),
        ({"currency": "XYZ"}, "currency"),
        ({"payment_id": None, "order_id": None}, "payment_id"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_bad_refund_bodies_name_the_field(
    checkout: Checkout,
    new_site: SiteCredentials,
    db_rows: Any,
    body: dict[str, Any],
    field: str,
) -> None:
    order = checkout.buy(new_site)
    answer = checkout.refund(new_site.headers, **{"payment_id": order["payment_id"], **body})
    assert answer.status_code == 422
    assert field in answer.get_json()["errors"]
    assert db_rows("SELECT id FROM refunds") == []


def test_a_whole_refund_amount_written_with_a_fraction_refunds_that_integer(
    client: Any, checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.buy(new_site)
    body = f'{{"payment_id": "{order["payment_id"]}", "amount": 10000.0}}'

    answer = client.post(
        "/v1/refunds", data=body, headers={**new_site.headers, "Content-Type": "application/json"}
    )

    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["amount"] == 10000
    assert db_rows("SELECT amount FROM refunds") == [{"amount": 10000}]


def test_refund_in_another_currency_is_a_conflict_with_the_payment(
    checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.buy(new_site)
    answer = checkout.refund(new_site.headers, payment_id=order["payment_id"], currency="USD")
    assert answer.status_code == 409 and answer.get_json()["code"] == "not_refundable"
    assert answer.get_json()["field"] == "currency"
    assert db_rows("SELECT id FROM refunds") == []


def test_a_payment_named_with_another_order_is_not_found(
    checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    paid = checkout.buy(new_site)
    unpaid = checkout.create_order(new_site, allow_owned=True)

    answer = checkout.refund(new_site.headers, payment_id=paid["payment_id"], order_id=unpaid["id"])

    assert answer.status_code == 404 and answer.get_json()["code"] == "not_found"
    assert answer.get_json()["field"] == "order_id"
    assert db_rows("SELECT id FROM refunds") == []


@pytest.mark.parametrize("payment_id", ["pay_Unknown_0001", "pay_" + "x" * 60])
def test_a_payment_id_of_the_documented_form_is_looked_up(
    checkout: Checkout, new_site: SiteCredentials, payment_id: str
) -> None:
    # openapi.yaml: ^pay_[A-Za-z0-9_]{1,60}$; a well-formed id no payment has is a 404.
    answer = checkout.refund(new_site.headers, payment_id=payment_id)

    assert answer.status_code == 404 and answer.get_json()["code"] == "not_found"


def test_unknown_and_uncaptured_payments_cannot_be_refunded(
    checkout: Checkout,
    new_site: SiteCredentials,
    sandbox: Any,
    webhooks: RazorpayWebhooks,
    db_rows: Any,
) -> None:
    unknown = checkout.refund(new_site.headers, payment_id="pay_Unknown0000001")
    assert unknown.status_code == 404
    _configure(sandbox, auto_capture=False)
    order = checkout.create_order(new_site)
    checkout.pay(order)
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.authorized"))
    payment_id = db_rows("SELECT id FROM payments")[0]["id"]

    answer = checkout.refund(new_site.headers, payment_id=payment_id)

    assert answer.status_code == 409 and answer.get_json()["code"] == "not_refundable"
    assert db_rows("SELECT id FROM refunds") == []


def test_a_site_cannot_refund_another_sites_order_but_an_admin_can(
    checkout: Checkout,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    order = checkout.buy(old_site)
    assert checkout.refund(new_site.headers, payment_id=order["payment_id"]).status_code == 404
    assert db_rows("SELECT id FROM refunds") == []
    by_admin = checkout.refund(admin_headers, payment_id=order["payment_id"], reason="support")
    assert by_admin.status_code == 201
    assert by_admin.get_json()["requested_by"] == "admin:tester"


def test_razorpay_refusing_a_refund_is_a_502_and_a_later_retry_succeeds(
    checkout: Checkout, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    order = checkout.buy(new_site)
    _configure(sandbox, merchant_balance=1000)
    headers = {**new_site.headers, "Idempotency-Key": "refund-balance-1"}

    refused = checkout.refund(headers, payment_id=order["payment_id"])

    assert refused.status_code == 502 and refused.get_json()["code"] == "gateway_error"
    assert db_rows("SELECT id FROM refunds") == []
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
    _configure(sandbox, merchant_balance=10_000_000)
    retried = checkout.refund(headers, payment_id=order["payment_id"])
    assert retried.status_code == 201


def test_refunds_are_listed_and_fetched_by_those_who_may_see_them(
    client: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    mine = checkout.buy(new_site)
    theirs = checkout.buy(old_site, customer={"email": "other@example.com"})
    a = checkout.refund(new_site.headers, payment_id=mine["payment_id"], amount=1000).get_json()
    b = checkout.refund(old_site.headers, payment_id=theirs["payment_id"]).get_json()

    listed = client.get("/v1/refunds", headers=new_site.headers).get_json()["items"]
    assert [r["id"] for r in listed] == [a["id"]]
    assert client.get(f"/v1/refunds/{b['id']}", headers=new_site.headers).status_code == 404
    assert client.get(f"/v1/refunds/{a['id']}", headers=new_site.headers).status_code == 200
    by_order = client.get(f"/v1/refunds?order_id={theirs['id']}", headers=admin_headers)
    assert [r["id"] for r in by_order.get_json()["items"]] == [b["id"]]
    payments = client.get("/v1/payments?status=refunded", headers=admin_headers).get_json()
    assert [p["id"] for p in payments["items"]] == [theirs["payment_id"]]


def _retry_while_in_use(client: Any, headers: dict[str, str], body: Any) -> Any:
    """POST the refund again, as Retry-After says, until the key is no longer in use."""
    deadline = time.monotonic() + 10
    while True:
        answer = client.post("/v1/refunds", json=body, headers=headers)
        if answer.status_code != 409 or time.monotonic() > deadline:
            return answer
        time.sleep(int(answer.headers["Retry-After"]))


def _wait_for_refunds_at_razorpay(sandbox: Any, payment_id: str, count: int) -> None:
    """Poll until the slow sandbox has finished creating the refund we stopped waiting for."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = requests.get(
            f"{sandbox.url}/v1/payments/{payment_id}/refunds",
            timeout=5,
            auth=(sandbox.config.key_id, sandbox.config.key_secret),
        ).json()
        if found.get("count", 0) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the sandbox never created the refund")


def _zero() -> Any:
    from datetime import timedelta

    return timedelta(0)
