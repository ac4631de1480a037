"""What POST /v1/payments/verify answers under `enrollment`: the order's enrollment whoever
granted it (verify, the webhook, reconciliation), and null only when the buyer already
owned the product, in every order of arrival of verify and Razorpay's webhooks."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials


def _configure(sandbox: Any, **changes: Any) -> None:
    requests.patch(f"{sandbox.url}/_sandbox/config", json=changes, timeout=5).raise_for_status()


def _enrollment_of(db_rows: Any, order_id: str) -> dict[str, Any]:
    (row,) = db_rows("SELECT id, status, granted_by FROM enrollments WHERE order_id = %s", order_id)
    return dict(row)


@pytest.mark.usefixtures("sync_webhooks")
def test_verify_returns_the_enrollment_the_webhook_granted_while_verify_captured(
    checkout: Checkout, new_site: SiteCredentials, sandbox: Any, db_rows: Any
) -> None:
    # Verify captures the authorized payment; Razorpay's payment.captured webhook reaches us
    # before the capture call returns, so the webhook pays the order and grants first.
    _configure(sandbox, auto_capture=False)
    order = checkout.create_order(new_site)
    result = checkout.pay(order)

    first = checkout.verify(result)
    second = checkout.verify(result)

    granted = _enrollment_of(db_rows, order["id"])
    assert granted["granted_by"] == "webhook" and granted["status"] == "active"
    assert first.status_code == second.status_code == 200
    assert first.get_json()["enrollment"]["id"] == granted["id"]
    assert second.get_json()["enrollment"]["id"] == granted["id"]
    assert first.get_json()["order"]["status"] == "paid"


def test_verify_after_the_webhooks_returns_the_enrollment_they_granted(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.create_order(new_site)
    result = checkout.pay(order)
    for event in webhooks.events_for(order["razorpay_order_id"]):
        assert webhooks.deliver(event).get_json()["status"] == "applied"

    answer = checkout.verify(result)

    granted = _enrollment_of(db_rows, order["id"])
    assert granted["granted_by"] == "webhook"
    assert answer.status_code == 200 and answer.get_json()["enrollment"]["id"] == granted["id"]


def test_verify_before_the_webhooks_returns_its_enrollment_and_so_does_a_later_verify(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.create_order(new_site)
    result = checkout.pay(order)

    first = checkout.verify(result)
    for event in webhooks.events_for(order["razorpay_order_id"]):
        assert webhooks.deliver(event).status_code == 200
    again = checkout.verify(result)

    granted = _enrollment_of(db_rows, order["id"])
    assert granted["granted_by"] == "checkout"
    assert first.get_json()["enrollment"]["id"] == granted["id"]
    assert again.status_code == 200 and again.get_json()["enrollment"]["id"] == granted["id"]


@pytest.mark.parametrize("first", ["webhook", "verify"])
def test_verify_answers_null_when_another_order_already_gave_the_buyer_the_product(
    request: pytest.FixtureRequest,
    checkout: Checkout,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
    first: str,
) -> None:
    owned = checkout.buy(old_site)
    if first == "webhook":
        request.getfixturevalue("sync_webhooks")
        _configure(sandbox, auto_capture=False)
    repeat = checkout.create_order(new_site, allow_owned=True)
    result = checkout.pay(repeat)

    answers = [checkout.verify(result), checkout.verify(result)]

    assert [a.status_code for a in answers] == [200, 200]
    assert [a.get_json()["order"]["status"] for a in answers] == ["paid", "paid"]
    assert [a.get_json()["enrollment"] for a in answers] == [None, None]
    assert db_rows("SELECT order_id, status FROM enrollments") == [
        {"order_id": owned["id"], "status": "active"}
    ]


def test_verify_answers_null_when_an_admin_had_granted_the_product(
    client: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    grant = {"customer_email": "asha@example.com", "sku": "python-101", "reason": "scholarship"}
    assert client.post("/v1/enrollments", json=grant, headers=admin_headers).status_code == 201
    order = checkout.create_order(new_site, allow_owned=True)

    answer = checkout.verify(checkout.pay(order))

    assert answer.status_code == 200 and answer.get_json()["enrollment"] is None


def test_a_verify_repeated_after_a_full_refund_shows_the_revoked_enrollment(
    checkout: Checkout, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.create_order(new_site)
    result = checkout.pay(order)
    checkout.verify(result)
    assert checkout.refund(new_site.headers, order_id=order["id"]).status_code == 201

    again = checkout.verify(result)

    granted = _enrollment_of(db_rows, order["id"])
    assert granted["status"] == "revoked"
    assert again.status_code == 200
    assert again.get_json()["enrollment"]["id"] == granted["id"]
    assert again.get_json()["enrollment"]["status"] == "revoked"
