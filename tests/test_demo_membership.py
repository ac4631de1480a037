"""The demo's membership against the real service over HTTP and the sandbox: the plan
`make run` defines once, subscribing and verifying through the store, access on the other
site, and a cancel only the signed-in buyer can ask for, at the end of the paid month."""

from __future__ import annotations

from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient

from payments_service.devstack.demo import StoreConfig, create_app
from payments_service.devstack.demo.memberships_api import ensure_plan
from tests.actions import SiteCredentials
from tests.conftest import ADMIN_SECRET

SITE_URL = "http://localhost"  # the test client's own origin: a same-origin form post
AUDIENCE = "payments-service"


def _store(site: SiteCredentials, api_url: str) -> Flask:
    return create_app(
        StoreConfig(
            site_id=site.site_id,
            title=site.site_id,
            jwt_secret=site.jwt_secret,
            audience=AUDIENCE,
            api_url=api_url,
            checkout_script_url="http://127.0.0.1:9/v1/checkout.js",
            callback_secret=site.callback_secret,
        )
    )


def _signed_in(store: Flask, email: str) -> FlaskClient:
    client = store.test_client()
    client.post("/sign-in", data={"email": email})
    return client


def _subscribe(client: FlaskClient, key: str = "k" * 20) -> dict[str, Any]:
    made = client.post("/subscriptions", data={"key": key}, headers={"Origin": SITE_URL})
    assert made.status_code in (200, 201), made.get_json()
    body: dict[str, Any] = made.get_json()
    return body


def _pay(sandbox: Any, sub: dict[str, Any]) -> dict[str, Any]:
    """The buyer authenticates on the sandbox's Checkout: what Checkout's handler gets."""
    rid = sub["checkout"]["subscription_id"]
    response = requests.post(
        f"{sandbox.url}/_sandbox/subscriptions/{rid}/pay", json={"outcome": "success"}, timeout=10
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_the_plan_make_run_defines_is_made_once_and_sold_on_every_site(
    live_api: str, new_site: SiteCredentials, old_site: SiteCredentials, db_rows: Any
) -> None:
    first = ensure_plan(live_api, AUDIENCE, ADMIN_SECRET)
    again = ensure_plan(live_api, AUDIENCE, ADMIN_SECRET)  # the next `make run`

    assert again["id"] == first["id"]
    assert (first["sku"], first["amount"], first["period"]) == ("all-courses", 29900, "monthly")
    assert db_rows("SELECT count(*) AS n FROM plans") == [{"n": 1}]
    for site in (new_site, old_site):
        page = _signed_in(_store(site, live_api), "ravi@example.com").get("/").text
        assert 'id="subscribe-all-courses"' in page
        assert "₹299.00 a month" in page


def test_no_membership_is_offered_before_an_admin_defined_its_plan(
    live_api: str, new_site: SiteCredentials
) -> None:
    client = _signed_in(_store(new_site, live_api), "ravi@example.com")

    assert 'id="membership-unavailable"' in client.get("/").text
    assert client.post("/subscriptions", data={"key": "k" * 20}).status_code == 409


def test_a_membership_verified_on_one_site_is_access_on_the_other(
    live_api: str, sandbox: Any, new_site: SiteCredentials, old_site: SiteCredentials
) -> None:
    ensure_plan(live_api, AUDIENCE, ADMIN_SECRET)
    buyer = _signed_in(_store(new_site, live_api), "ravi@example.com")
    sub = _subscribe(buyer)
    assert sub["checkout"]["key"] and sub["status"] == "created"

    verified = buyer.post(f"/subscriptions/{sub['id']}/verify", json=_pay(sandbox, sub))

    assert verified.status_code == 200, verified.get_json()
    assert verified.get_json()["access"]["granted"] is True
    page = buyer.get("/").text
    assert 'data-status="active"' in page and 'id="cancel-membership"' in page
    other = _signed_in(_store(old_site, live_api), "ravi@example.com").get("/").text
    assert 'id="owned-all-courses"' in other and 'id="included-python-101"' in other
    assert 'id="subscribe-all-courses"' not in other


def test_closing_checkout_and_subscribing_again_offers_the_same_unpaid_subscription(
    live_api: str, new_site: SiteCredentials
) -> None:
    ensure_plan(live_api, AUDIENCE, ADMIN_SECRET)
    buyer = _signed_in(_store(new_site, live_api), "ravi@example.com")

    first, second = _subscribe(buyer, "a" * 20), _subscribe(buyer, "b" * 20)

    assert second["id"] == first["id"]
    assert second["checkout"] == first["checkout"]


def test_only_the_signed_in_buyer_cancels_their_membership_at_the_end_of_the_month(
    live_api: str, sandbox: Any, new_site: SiteCredentials
) -> None:
    ensure_plan(live_api, AUDIENCE, ADMIN_SECRET)
    store = _store(new_site, live_api)
    buyer = _signed_in(store, "ravi@example.com")
    sub = _subscribe(buyer)
    buyer.post(f"/subscriptions/{sub['id']}/verify", json=_pay(sandbox, sub))
    path = f"/subscriptions/{sub['id']}/cancel"

    stranger = _signed_in(store, "asha@example.com").post(path, headers={"Origin": SITE_URL})
    elsewhere = buyer.post(path, headers={"Origin": "http://evil.localhost"})
    assert (stranger.status_code, elsewhere.status_code) == (404, 403)
    assert 'id="cancel-membership"' in buyer.get("/").text

    cancelled = buyer.post(path, headers={"Origin": SITE_URL})

    assert cancelled.status_code == 303
    page = buyer.get("/").text
    assert 'id="membership-ends"' in page and 'id="owned-all-courses"' in page
    assert 'id="cancel-membership"' not in page
