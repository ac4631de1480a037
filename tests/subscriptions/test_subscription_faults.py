"""Bad input and faults: each a clear problem+json naming the field (or, for a webhook, 2xx
and stored), and nothing half-written or wrongly changed."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.actions import SiteCredentials
from tests.subscription_actions import CUSTOMER, Memberships, owns


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 299.5}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": "29900"}, "amount"),
        ({"period": "fortnightly"}, "period"),
        ({"currency": "USD"}, "currency"),
        ({"interval": 0}, "interval"),
        ({"period": "daily", "interval": 6}, "interval"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_field_and_nothing_is_made(
    client: FlaskClient,
    admin_headers: dict[str, str],
    db_rows: Any,
    change: dict[str, Any],
    field: str,
) -> None:
    body = {"sku": "all-courses", "name": "All", "period": "monthly", "amount": 29900}

    answer = client.post("/v1/plans", json=body | change, headers=admin_headers)

    assert answer.status_code == 422, answer.get_json()
    assert answer.content_type == "application/problem+json"
    assert field in answer.get_json()["errors"]
    assert db_rows("SELECT id FROM plans") == []


def test_a_site_cannot_make_plans(client: FlaskClient, seller: SiteCredentials) -> None:
    body = {"sku": "all-courses", "name": "All", "period": "monthly", "amount": 29900}

    assert client.post("/v1/plans", json=body, headers=seller.headers).status_code == 403


def test_plans_are_listed_and_fetched_and_never_change(
    memberships: Memberships, seller: SiteCredentials, client: FlaskClient, db_rows: Any
) -> None:
    plan = memberships.plan()

    listed = client.get("/v1/plans", headers=seller.headers).get_json()["items"]
    fetched = client.get(f"/v1/plans/{plan['id']}", headers=seller.headers).get_json()

    assert [p["id"] for p in listed] == [plan["id"]]
    assert fetched == {k: v for k, v in plan.items() if k != "created_by"}  # the admin's
    assert client.patch(f"/v1/plans/{plan['id']}", json={}).status_code == 405
    assert memberships.razorpay().plan.fetch(plan["id"])["item"]["amount"] == 29900


def test_a_subscription_in_another_currency_than_its_plan_is_refused(
    client: FlaskClient, plan: dict[str, Any], seller: SiteCredentials, db_rows: Any
) -> None:
    body = {
        "plan_id": plan["id"],
        "currency": "USD",
        "customer": {"email": CUSTOMER},
        "total_count": 12,
    }

    answer = client.post("/v1/subscriptions", json=body, headers=seller.headers)

    assert answer.status_code == 422, answer.get_json()
    assert "INR only" in answer.get_json()["errors"]["currency"][0]
    assert db_rows("SELECT id FROM subscriptions") == []


def test_the_same_idempotency_key_returns_the_first_subscription(
    memberships: Memberships, plan: dict[str, Any], seller: SiteCredentials, client: FlaskClient
) -> None:
    first = memberships.subscribe(seller, plan, key="sub-1")
    body = {"plan_id": plan["id"], "customer": {"email": CUSTOMER}, "total_count": 12}
    headers = {**seller.headers, "Idempotency-Key": "sub-1"}

    again = client.post("/v1/subscriptions", json=body, headers=headers)
    other = client.post("/v1/subscriptions", json=body | {"total_count": 6}, headers=headers)

    assert again.status_code == 200 and again.get_json()["id"] == first["id"]
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"
    assert first["checkout"] == {
        "key": first["checkout"]["key"],
        "subscription_id": first["razorpay_subscription_id"],
        "name": first["checkout"]["name"],
        "description": plan["name"],
        "prefill": {"email": CUSTOMER},
        "notes": {"subscription_ref": first["id"]},
    }


def test_a_signature_made_with_the_order_formula_is_refused_and_changes_nothing(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
) -> None:
    sub = memberships.subscribe(seller, plan)
    result = memberships.pay(sub)
    order_formula = f"{sub['razorpay_subscription_id']}|{result['razorpay_payment_id']}"
    forged = hmac.new(b"sandbox_key_secret", order_formula.encode(), hashlib.sha256).hexdigest()

    answer = memberships.verify(seller, sub, result | {"razorpay_signature": forged})

    assert answer.status_code == 403, answer.get_json()
    assert answer.get_json()["field"] == "razorpay_signature"
    now = memberships.fetch(seller.headers, sub)
    assert (now["status"], now["charges"]) == ("created", [])
    assert not owns(client, other_site)


def test_a_site_cannot_verify_another_sites_subscription(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
) -> None:
    sub = memberships.subscribe(seller, plan)
    result = memberships.pay(sub)

    answer = memberships.verify(other_site, sub, result)

    assert answer.status_code == 404, answer.get_json()
    assert memberships.fetch(seller.headers, sub)["status"] == "created"
    assert (
        memberships.client.get(
            f"/v1/subscriptions/{sub['id']}", headers=other_site.headers
        ).status_code
        == 404
    )


def test_a_completed_subscription_cannot_be_cancelled(
    memberships: Memberships, plan: dict[str, Any], seller: SiteCredentials
) -> None:
    one_cycle = memberships.subscribe(seller, plan, total_count=1)
    memberships.verify(seller, one_cycle, memberships.pay(one_cycle))
    assert memberships.fetch(seller.headers, one_cycle)["status"] == "completed"

    answer = memberships.post(seller.headers, one_cycle, "cancel")

    assert answer.status_code == 409, answer.get_json()
    assert answer.get_json()["field"] == "status"
    assert memberships.fetch(seller.headers, one_cycle)["status"] == "completed"


def test_webhooks_of_a_subscription_we_never_made_are_stored_unmatched(
    memberships: Memberships, plan: dict[str, Any], seller: SiteCredentials, db_rows: Any
) -> None:
    elsewhere = memberships.razorpay().subscription.create(
        {"plan_id": plan["id"], "total_count": 3}
    )
    memberships.pay({"razorpay_subscription_id": elsewhere["id"]})
    events = memberships.about(
        {"razorpay_subscription_id": elsewhere["id"]}, memberships.new_events()
    )

    statuses = memberships.deliver(events)

    assert statuses and set(statuses) == {"unmatched"}
    assert db_rows("SELECT id FROM payments") == []
    assert db_rows("SELECT id FROM enrollments") == []


def test_a_customer_who_already_has_the_sku_is_not_subscribed_and_billed_twice(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
    db_rows: Any,
) -> None:
    member = memberships.buy(seller, plan)
    (enrollment,) = db_rows("SELECT id FROM enrollments WHERE status = 'active'")
    body = {"plan_id": plan["id"], "customer": {"email": CUSTOMER.upper()}, "total_count": 12}

    for site, key in ((seller, "second-1"), (other_site, "second-2")):
        headers = {**site.headers, "Idempotency-Key": key}
        answer = client.post("/v1/subscriptions", json=body, headers=headers)

        assert answer.status_code == 409, answer.get_json()
        problem = answer.get_json()
        assert problem["code"] == "already_owned"
        assert problem["enrollment_id"] == enrollment["id"]
    assert db_rows("SELECT id FROM subscriptions") == [{"id": member["id"]}]
