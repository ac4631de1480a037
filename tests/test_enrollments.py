from __future__ import annotations

from typing import Any

from tests.actions import Checkout, SiteCredentials


def test_a_purchase_on_one_site_is_visible_from_the_other(
    client: Any, checkout: Checkout, new_site: SiteCredentials, old_site: SiteCredentials
) -> None:
    order = checkout.create_order(new_site)
    assert checkout.verify(checkout.pay(order)).status_code == 200

    response = client.get(
        "/v1/enrollments?customer_email=ASHA@example.com&sku=python-101", headers=old_site.headers
    )

    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(e["customer_email"], e["sku"], e["status"]) for e in items] == [
        ("asha@example.com", "python-101", "active")
    ]
    assert items[0]["order_id"] == order["id"]


def test_no_purchase_means_no_enrollment(
    client: Any, checkout: Checkout, new_site: SiteCredentials
) -> None:
    checkout.create_order(new_site)
    response = client.get(
        "/v1/enrollments?customer_email=asha@example.com", headers=new_site.headers
    )
    assert response.get_json()["items"] == []


def test_buying_the_same_course_twice_keeps_one_active_enrollment(
    client: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    db_rows: Any,
) -> None:
    for site in (new_site, old_site):
        order = checkout.create_order(site, allow_owned=site is old_site)  # a deliberate repeat
        assert checkout.verify(checkout.pay(order)).status_code == 200
    assert len(db_rows("SELECT id FROM enrollments WHERE status = 'active'")) == 1
    assert db_rows("SELECT count(*) AS paid FROM orders WHERE status = 'paid'") == [{"paid": 2}]


def test_enrollment_query_needs_a_customer_or_sku(client: Any, new_site: SiteCredentials) -> None:
    response = client.get("/v1/enrollments", headers=new_site.headers)
    assert response.status_code == 422
    assert client.get("/v1/enrollments?sku=python-101").status_code == 401
