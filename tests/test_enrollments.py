from __future__ import annotations

from typing import Any

from flask import Flask

from payments_service.sites import update_site
from tests.actions import Checkout, SiteCredentials, register_site


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


def test_listing_every_enrollment_is_for_admins_and_sites_given_the_scope(
    app: Flask,
    client: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    checkout.verify(checkout.pay(checkout.create_order(new_site)))
    gift = {"customer_email": "guest@example.com", "sku": "go-1", "reason": "gift"}
    assert client.post("/v1/enrollments", json=gift, headers=admin_headers).status_code == 201
    everyone = [("guest@example.com", "go-1"), ("asha@example.com", "python-101")]
    crm = register_site(app, "crm", "http://crm.localhost:8024")
    update_site(app.extensions["payments_service"].db, "crm", scopes=["enrollments:list"])

    by_admin = client.get("/v1/enrollments", headers=admin_headers)
    by_scoped_site = client.get("/v1/enrollments", headers=crm.headers)
    by_other_site = client.get("/v1/enrollments", headers=new_site.headers)

    for listed in (by_admin, by_scoped_site):
        assert listed.status_code == 200
        assert [(e["customer_email"], e["sku"]) for e in listed.get_json()["items"]] == everyone
    assert "granted_by" not in by_scoped_site.get_json()["items"][0]
    assert by_other_site.status_code == 403
    assert by_other_site.get_json()["code"] == "forbidden"
    assert client.get("/v1/enrollments").status_code == 401
