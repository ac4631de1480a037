"""The demo storefront against the real service over HTTP: access read from the service,
sign-in per site, its admin page's refunds and payment links, the link return page, and
the signed callbacks it accepts."""

from __future__ import annotations

import json
import re
import socket
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from payments_service.devstack.demo import StoreConfig, create_app
from payments_service.devstack.demo.app import email_cookie
from payments_service.devstack.demo.service import refund_key
from payments_service.signatures import callback_signature_header
from tests.actions import Checkout, PaymentLinks, SiteCredentials
from tests.conftest import ADMIN_SECRET

SITE_URL = "http://new.localhost:8022"  # the new site's registered origin


def _store(site: SiteCredentials, api_url: str, admin_secret: str = ADMIN_SECRET) -> Flask:
    """A demo site process as `make run` starts it (a fresh one each call)."""
    return create_app(
        StoreConfig(
            site_id=site.site_id,
            title=site.site_id.replace("-", " ").title(),
            jwt_secret=site.jwt_secret,
            audience="payments-service",
            api_url=api_url,
            checkout_script_url="http://127.0.0.1:9/v1/checkout.js",
            callback_secret=site.callback_secret,
            admin_jwt_secret=admin_secret,
        )
    )


def _signed_in(store: Flask, email: str) -> FlaskClient:
    client = store.test_client()
    client.post("/sign-in", data={"email": email})
    return client


def test_a_purchase_on_one_site_shows_on_another_that_never_got_a_notification(
    live_api: str, new_site: SiteCredentials, old_site: SiteCredentials, checkout: Checkout
) -> None:
    checkout.buy(new_site, customer={"email": "ravi@example.com"})

    for _ in range(2):  # two fresh processes of the old site: a restart shows the same
        page = _signed_in(_store(old_site, live_api), "Ravi@Example.com").get("/").text

        assert 'id="owned-python-101"' in page
        assert 'id="buy-data-201"' in page


def test_each_site_reads_only_its_own_sign_in_cookie_and_sign_out_clears_it(
    live_api: str, new_site: SiteCredentials, old_site: SiteCredentials
) -> None:
    new_store, old_store = _store(new_site, live_api), _store(old_site, live_api)
    client = _signed_in(new_store, "ravi@example.com")
    cookie = client.get_cookie(email_cookie(new_store.extensions["store"]))
    assert cookie is not None and cookie.value == "ravi@example.com"

    old_client = old_store.test_client()
    old_client.set_cookie(cookie.key, cookie.value)  # the browser sends it to every port
    assert 'id="sign-in"' in old_client.get("/").text

    client.post("/sign-out")
    assert client.get_cookie(cookie.key) is None
    assert 'id="sign-in"' in client.get("/").text


def test_a_site_that_cannot_reach_the_service_says_so_instead_of_offering_to_sell(
    new_site: SiteCredentials,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens there
    response = _signed_in(_store(new_site, nowhere), "ravi@example.com").get("/")

    assert response.status_code == 503
    assert 'id="service-problem"' in response.text
    assert 'id="buy-python-101"' not in response.text


def test_the_admin_page_lists_recent_orders_with_their_ids_and_says_it_is_local_only(
    live_api: str, new_site: SiteCredentials, old_site: SiteCredentials, checkout: Checkout
) -> None:
    paid = checkout.buy(new_site, customer={"email": "ravi@example.com"})
    unpaid = checkout.create_order(old_site, customer={"email": "mira@example.com"})

    page = _store(old_site, live_api).test_client().get("/admin").text

    assert 'id="local-dev-only"' in page
    assert f'id="refund-{paid["id"]}"' in page
    assert f'id="order-{unpaid["id"]}" data-status="created"' in page
    assert f'id="refund-{unpaid["id"]}"' not in page  # nothing was paid, nothing to refund
    assert "ravi@example.com" in page and "₹499.00" in page


def test_pressing_refund_twice_on_the_admin_page_refunds_the_order_once(
    live_api: str, new_site: SiteCredentials, checkout: Checkout, db_rows: Any
) -> None:
    order = checkout.buy(new_site, customer={"email": "ravi@example.com"})
    admin = _store(new_site, live_api).test_client()

    first = admin.post("/admin/refunds", data={"order_id": order["id"]})
    second = admin.post("/admin/refunds", data={"order_id": order["id"]})

    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert "revoked=yes" in first.headers["Location"]
    assert db_rows("SELECT order_id, amount, idempotency_key, requested_by FROM refunds") == [
        {
            "order_id": order["id"],
            "amount": 49900,
            "idempotency_key": refund_key(order["id"]),
            "requested_by": "admin:demo-admin-page",
        }
    ]
    page = _signed_in(_store(new_site, live_api), "ravi@example.com").get("/").text
    assert 'id="buy-python-101"' in page


def test_a_refund_posted_from_another_origin_is_refused(
    live_api: str, new_site: SiteCredentials, checkout: Checkout, db_rows: Any
) -> None:
    order = checkout.buy(new_site)
    admin = _store(new_site, live_api).test_client()

    response = admin.post(
        "/admin/refunds", data={"order_id": order["id"]}, headers={"Origin": "http://evil.test"}
    )

    assert response.status_code == 403
    assert db_rows("SELECT id FROM refunds") == []


def test_a_site_started_without_the_admin_secret_has_no_admin_page(
    live_api: str, new_site: SiteCredentials
) -> None:
    client = _store(new_site, live_api, admin_secret="").test_client()

    assert client.get("/admin").status_code == 404
    assert client.post("/admin/refunds", data={"order_id": "ord_x"}).status_code == 404
    assert 'id="admin-link"' not in client.get("/").text


def test_callbacks_are_accepted_only_when_signed_and_listed_on_the_admin_page(
    live_api: str, new_site: SiteCredentials
) -> None:
    client = _store(new_site, live_api).test_client()
    event = {
        "id": "evt_demo1",
        "type": "enrollment.granted",
        "site_id": "new-site",
        "data": {"enrollment": {"sku": "python-101", "customer_email": "ravi@example.com"}},
    }
    raw = json.dumps(event).encode()
    good = callback_signature_header([new_site.callback_secret], int(time.time()), raw)
    forged = callback_signature_header(["not-the-secret"], int(time.time()), raw)

    refused = client.post("/payments/callback", data=raw, headers={"X-Payments-Signature": forged})
    assert refused.status_code == 400
    assert "evt_demo1" not in client.get("/admin").text
    for _ in range(2):  # a redelivery is listed once
        accepted = client.post(
            "/payments/callback", data=raw, headers={"X-Payments-Signature": good}
        )
        assert accepted.status_code == 200
    assert client.get("/admin").text.count("evt_demo1") == 1


def test_the_admin_form_makes_one_link_per_form_even_when_submitted_twice(
    live_api: str, new_site: SiteCredentials, db_rows: Any
) -> None:
    admin = _store(new_site, live_api).test_client()
    page = admin.get("/admin", base_url=SITE_URL).text
    form = {"sku": "data-201", "email": "Mira@Example.com", "name": "Mira", "key": _key_of(page)}

    first = admin.post("/admin/payment-links", data=form, base_url=SITE_URL)
    second = admin.post("/admin/payment-links", data=form, base_url=SITE_URL)

    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    (link,) = db_rows("SELECT razorpay_link_id, order_id, return_url FROM payment_links")
    assert link["return_url"] == f"{SITE_URL}/links/return"
    shown = admin.get(first.headers["Location"], base_url=SITE_URL).text
    assert f'data-link-id="{link["razorpay_link_id"]}"' in shown
    assert 'id="payment-link-url" href="http' in shown and "/i/" in shown
    assert "mira@example.com" in shown and "₹999.00" in shown
    assert _key_of(shown) != form["key"]  # the next form makes the next link


def test_the_link_return_page_says_paid_only_when_the_service_does(
    live_api: str, new_site: SiteCredentials, client: Any, sandbox: Any
) -> None:
    links = PaymentLinks(client, sandbox)
    link = links.create(new_site.headers, return_url=f"{SITE_URL}/links/return")
    store = _store(new_site, live_api).test_client()
    claimed = f"/links/return?order_id={link['order_id']}&status=paid"

    unpaid = store.get(claimed).text  # a forged or early return: the query says paid
    assert 'id="payment-not-confirmed"' in unpaid and 'id="payment-received"' not in unpaid
    assert 'id="owns-nothing"' in unpaid

    links.come_back(links.pay(link))
    paid = store.get(claimed).text
    assert f"Payment received for order <code>{link['order_id']}</code>, status paid" in paid
    assert 'id="owned-python-101"' in paid
    assert store.get("/links/return?order_id=ord_unknown").status_code == 404


def test_a_link_form_posted_from_another_origin_is_refused(
    live_api: str, new_site: SiteCredentials, db_rows: Any
) -> None:
    admin = _store(new_site, live_api).test_client()
    form = {"sku": "python-101", "email": "ravi@example.com", "key": "k" * 22}

    response = admin.post("/admin/payment-links", data=form, headers={"Origin": "http://evil.test"})

    assert response.status_code == 403
    assert db_rows("SELECT order_id FROM payment_links") == []


def _key_of(page: str) -> str:
    match = re.search(r'name="key" value="([^"]+)"', page)
    assert match is not None, "the admin page has no link form"
    return match.group(1)
