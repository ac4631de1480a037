"""The sale the least-privilege tests try to reach from another site: the old site's sale to
Asha, paid, granted, and refunded in part by the site and by an admin; and its unpaid payment
link to Meera."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.actions import Checkout, SiteCredentials, order_body
from tests.actions import link_body as link_body_for
from tests.site_privilege.attempts import ASHA, MEERA, RAVI, Sale


@pytest.fixture
def sale(
    client: FlaskClient,
    checkout: Checkout,
    old_site: SiteCredentials,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> Sale:
    """The old site sells to Asha; the new site sells to Ravi (so its own lists are not
    empty); an admin refunds Asha a little and grants her another course."""
    body = order_body()
    created = client.post(
        "/v1/orders", json=body, headers={**old_site.headers, "Idempotency-Key": "cart-1"}
    )
    assert created.status_code == 201, created.get_json()
    order = created.get_json()
    paid = checkout.verify(checkout.pay(order))
    assert paid.status_code == 200, paid.get_json()
    payment_id = paid.get_json()["payment"]["id"]
    refund_body = {
        "payment_id": payment_id,
        "amount": 10000,
        "reason": "goodwill from the old site",
    }
    by_site = client.post(
        "/v1/refunds", json=refund_body, headers={**old_site.headers, "Idempotency-Key": "tk-1"}
    )
    by_admin = checkout.refund(
        admin_headers, payment_id=payment_id, amount=5000, reason="a sorry from the merchant"
    )
    refunds = [by_site.get_json(), by_admin.get_json()]
    assert [by_site.status_code, by_admin.status_code] == [201, 201], refunds
    grant = {"customer_email": ASHA, "sku": "ml-301", "reason": "a speaker's seat"}
    assert client.post("/v1/enrollments", json=grant, headers=admin_headers).status_code == 201
    checkout.buy(new_site, customer=RAVI, product={"sku": "data-201", "name": "Data 201"})
    link_body = link_body_for(customer={"email": MEERA}, return_url="http://old.localhost:8021/")
    link = client.post(
        "/v1/payment-links", json=link_body, headers={**old_site.headers, "Idempotency-Key": "pl-1"}
    )
    assert link.status_code == 201, link.get_json()
    plan = client.post(
        "/v1/plans",
        json={"sku": "all-courses", "name": "All courses", "period": "monthly", "amount": 29900},
        headers=admin_headers,
    )
    assert plan.status_code == 201, plan.get_json()
    subscription_body = {
        "plan_id": plan.get_json()["id"],
        "customer": {"email": ASHA, "site_user_id": "u-42"},
        "total_count": 12,
    }
    subscription = client.post(
        "/v1/subscriptions",
        json=subscription_body,
        headers={**old_site.headers, "Idempotency-Key": "sub-1"},
    )
    assert subscription.status_code == 201, subscription.get_json()
    return Sale(
        order_body=body,
        order_key="cart-1",
        order_id=order["id"],
        razorpay_order_id=order["razorpay_order_id"],
        payment_id=payment_id,
        enrollment_id=paid.get_json()["enrollment"]["id"],
        refund_body=refund_body,
        refund_key="tk-1",
        refund_ids=[r["id"] for r in refunds],
        razorpay_refund_ids=[r["razorpay_refund_id"] for r in refunds],
        link_body=link_body,
        link_key="pl-1",
        link_id=link.get_json()["id"],
        link_order_id=link.get_json()["order_id"],
        subscription_body=subscription_body,
        subscription_key="sub-1",
        subscription_id=subscription.get_json()["id"],
        razorpay_subscription_id=subscription.get_json()["razorpay_subscription_id"],
        plan_id=plan.get_json()["id"],
    )
