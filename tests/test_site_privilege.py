"""Least privilege for sites: one leaked site secret exposes that site's own customers, not
every site's. Every operation a bearer token may call is tried with another site's token
against the first site's customer, order, payment and refund: it is a 404 (or an empty list)
for records of another site and a 403 for what only admins may do, and no data of the first
site's sale comes back. What a site may still see, it sees without card, fee or admin details.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from payments_service.money_trail import SITE_DETAILS
from payments_service.sites import update_site
from tests.conftest import Checkout, SiteCredentials, order_body, register_site
from tests.test_openapi_contract import DOCUMENT, HTTP_METHODS, assert_conforms

ASHA = "asha@example.com"  # order_body's buyer, who buys from the old site
RAVI = {"email": "ravi@example.com", "name": "Ravi", "contact": "+919800000001"}
TRAIL = "/v1/customers/{email}/transactions"
ADMIN_ONLY_ENROLLMENT_FIELDS = {"granted_by", "grant_reason", "revoked_by", "revoke_reason"}
CARD_FEE_AND_ADMIN_DETAILS = {
    "card_network",
    "card_last4",
    "vpa",
    "bank",
    "wallet",
    "fee",
    "tax",
    "requested_by",
    "reason",
    "by",
    "needs_attention",
}


@dataclass(frozen=True)
class Sale:
    """The old site's sale to Asha, refunded in part by the site and by an admin."""

    order_body: dict[str, Any]
    order_key: str
    order_id: str
    razorpay_order_id: str
    payment_id: str
    enrollment_id: str
    refund_body: dict[str, Any]
    refund_key: str
    refund_ids: list[str]
    razorpay_refund_ids: list[str]

    @property
    def secrets(self) -> list[str]:
        """What another site must never be told about this sale (unless it sent it)."""
        return [
            self.order_id,
            self.razorpay_order_id,
            self.payment_id,
            *self.refund_ids,
            *self.razorpay_refund_ids,
            ASHA,
            "Asha",
            "+919876543210",
            "u-42",
            "goodwill from the old site",
            "admin:tester",
            "a sorry from the merchant",
            "a speaker's seat",
        ]


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
    )


@dataclass(frozen=True)
class Attempt:
    """One request of the other site's, and what it must get."""

    method: str
    path: str
    # "not_found", "forbidden", "empty" (a list of nothing), "only_its_own" (a list of the
    # other site's own orders only), "its_own" (a new order of the other site's)
    expect: str
    body: dict[str, Any] | None = None
    idempotency_key: str | None = None


# Every operation a bearer token may call (the test below checks the list is complete),
# each tried by the new site on the old site's sale; an operation may be tried several ways.
ATTEMPTS: dict[str, tuple[str, Callable[[Sale], Attempt]]] = {
    "replay the old site's order key": (
        "POST /v1/orders",
        lambda s: Attempt(
            "POST",
            "/v1/orders",
            "its_own",
            {**s.order_body, "allow_owned": True},
            s.order_key,
        ),
    ),
    "list orders by the old site's customer": (
        "GET /v1/orders",
        lambda s: Attempt("GET", f"/v1/orders?customer_email={ASHA}", "empty"),
    ),
    "list orders of the old site": (
        "GET /v1/orders",
        lambda s: Attempt("GET", "/v1/orders?site_id=old-site", "only_its_own"),
    ),
    "fetch the old site's order": (
        "GET /v1/orders/{order_id}",
        lambda s: Attempt("GET", f"/v1/orders/{s.order_id}", "not_found"),
    ),
    "list payments of the old site's order": (
        "GET /v1/payments",
        lambda s: Attempt("GET", f"/v1/payments?order_id={s.order_id}", "empty"),
    ),
    "list payments by the old site's customer": (
        "GET /v1/payments",
        lambda s: Attempt("GET", f"/v1/payments?customer_email={ASHA}", "empty"),
    ),
    "refund the old site's payment with its refund key": (
        "POST /v1/refunds",
        lambda s: Attempt("POST", "/v1/refunds", "not_found", s.refund_body, s.refund_key),
    ),
    "refund the old site's order": (
        "POST /v1/refunds",
        lambda s: Attempt("POST", "/v1/refunds", "not_found", {"order_id": s.order_id}),
    ),
    "list refunds of the old site's order": (
        "GET /v1/refunds",
        lambda s: Attempt("GET", f"/v1/refunds?order_id={s.order_id}", "empty"),
    ),
    "list refunds of the old site's payment": (
        "GET /v1/refunds",
        lambda s: Attempt("GET", f"/v1/refunds?payment_id={s.payment_id}", "empty"),
    ),
    "fetch the old site's refund": (
        "GET /v1/refunds/{refund_id}",
        lambda s: Attempt("GET", f"/v1/refunds/{s.refund_ids[0]}", "not_found"),
    ),
    "list every owner of the old site's SKU": (
        "GET /v1/enrollments",
        lambda s: Attempt("GET", "/v1/enrollments?sku=python-101", "forbidden"),
    ),
    "grant the old site's customer a course": (
        "POST /v1/enrollments",
        lambda s: Attempt(
            "POST",
            "/v1/enrollments",
            "forbidden",
            {"customer_email": ASHA, "sku": "x-1", "reason": "r"},
        ),
    ),
    "revoke the old site's enrollment": (
        "POST /v1/enrollments/{enrollment_id}/revoke",
        lambda s: Attempt(
            "POST", f"/v1/enrollments/{s.enrollment_id}/revoke", "forbidden", {"reason": "mine"}
        ),
    ),
    "read the old site's customer's trail": (
        "GET /v1/customers/{email}/transactions",
        lambda s: Attempt("GET", f"/v1/customers/{ASHA}/transactions", "not_found"),
    ),
    "list Razorpay's events": (
        "GET /v1/webhook-events",
        lambda s: Attempt("GET", "/v1/webhook-events", "forbidden"),
    ),
    "re-apply a Razorpay event": (
        "POST /v1/webhook-events/{event_id}/reapply",
        lambda s: Attempt("POST", "/v1/webhook-events/evt_Any0000000001/reapply", "forbidden"),
    ),
    "reconcile": (
        "POST /v1/reconcile",
        lambda s: Attempt(
            "POST",
            "/v1/reconcile",
            "forbidden",
            {"from": "2026-01-01T00:00:00+00:00", "to": "2026-01-02T00:00:00+00:00"},
        ),
    ),
    "list the old site's notifications": (
        "GET /v1/notifications",
        lambda s: Attempt("GET", "/v1/notifications?site_id=old-site", "forbidden"),
    ),
    "redeliver a notification": (
        "POST /v1/notifications/{notification_id}/redeliver",
        lambda s: Attempt("POST", "/v1/notifications/ntf_Any0000000001/redeliver", "forbidden"),
    ),
}


def _send(client: FlaskClient, site: SiteCredentials, attempt: Attempt) -> Any:
    headers = dict(site.headers)
    if attempt.idempotency_key:
        headers["Idempotency-Key"] = attempt.idempotency_key
    return client.open(attempt.path, method=attempt.method, json=attempt.body, headers=headers)


@pytest.mark.parametrize("name", list(ATTEMPTS))
def test_another_sites_token_gets_nothing_of_the_first_sites_sale(
    client: FlaskClient, new_site: SiteCredentials, sale: Sale, name: str
) -> None:
    operation, build = ATTEMPTS[name]
    attempt = build(sale)

    answer = _send(client, new_site, attempt)

    template = operation.split(" ", 1)[1]
    body = answer.get_json()
    if attempt.expect in ("not_found", "forbidden"):
        assert_conforms(answer, template, 404 if attempt.expect == "not_found" else 403)
        assert body["code"] == attempt.expect
    elif attempt.expect == "empty":
        assert_conforms(answer, template, 200)
        assert body["items"] == []
    elif attempt.expect == "only_its_own":
        assert_conforms(answer, template, 200)
        assert [item["site_id"] for item in body["items"]] == [new_site.site_id]
    else:  # a new order of the new site's own, not the old site's replayed
        assert_conforms(answer, template, 201)
        assert body["site_id"] == new_site.site_id and body["id"] != sale.order_id
    sent = (attempt.path + json.dumps(attempt.body)).lower()
    told = answer.get_data(as_text=True)
    assert [s for s in sale.secrets if s.lower() not in sent and s in told] == []


def test_every_operation_a_bearer_token_may_call_is_tried_with_another_sites_token() -> None:
    bearer = {"siteJwt", "adminJwt"}
    operations = {
        f"{method.upper()} {path}"
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
        and any(bearer & set(requirement) for requirement in operation.get("security", []))
    }
    assert {operation for operation, _ in ATTEMPTS.values()} == operations


def test_the_other_site_still_sees_its_own_records(
    client: FlaskClient, new_site: SiteCredentials, sale: Sale
) -> None:
    for path in ("/v1/orders", "/v1/payments", f"/v1/orders?customer_email={RAVI['email']}"):
        items = client.get(path, headers=new_site.headers).get_json()["items"]
        assert len(items) == 1, path
    own = client.get(f"/v1/customers/{RAVI['email']}/transactions", headers=new_site.headers)
    assert_conforms(own, TRAIL, 200)


def test_any_site_asks_whether_another_sites_customer_owns_a_sku(
    client: FlaskClient, new_site: SiteCredentials, admin_headers: dict[str, str], sale: Sale
) -> None:
    query = f"/v1/enrollments?customer_email={ASHA.upper()}&sku=python-101"

    answer = client.get(query, headers=new_site.headers)

    assert_conforms(answer, "/v1/enrollments", 200)
    (owned,) = answer.get_json()["items"]
    assert (owned["id"], owned["status"], owned["order_id"]) == (
        sale.enrollment_id,
        "active",
        sale.order_id,
    )
    assert ADMIN_ONLY_ENROLLMENT_FIELDS.isdisjoint(owned)
    everything = client.get(f"/v1/enrollments?customer_email={ASHA}", headers=new_site.headers)
    assert {e["sku"] for e in everything.get_json()["items"]} == {"python-101", "ml-301"}
    assert "a speaker's seat" not in everything.get_data(as_text=True)
    (in_full,) = client.get(query, headers=admin_headers).get_json()["items"]
    assert in_full == {
        **owned,
        "granted_by": "checkout",
        "grant_reason": None,
        "revoked_by": None,
        "revoke_reason": None,
    }


def test_listing_every_owner_of_a_sku_needs_the_scope(
    app: Flask,
    client: FlaskClient,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    sale: Sale,
) -> None:
    crm = register_site(app, "crm", "http://crm.localhost:8024")
    owners = "/v1/enrollments?sku=python-101"
    assert client.get(owners, headers=crm.headers).status_code == 403
    update_site(app.extensions["payments_service"].db, "crm", scopes=["enrollments:list"])

    listed = client.get(owners, headers=crm.headers)

    assert_conforms(listed, "/v1/enrollments", 200)
    (owner,) = listed.get_json()["items"]
    assert (owner["customer_email"], owner["id"]) == (ASHA, sale.enrollment_id)
    assert ADMIN_ONLY_ENROLLMENT_FIELDS.isdisjoint(owner)
    assert client.get(owners, headers=new_site.headers).status_code == 403  # no scope
    by_admin = client.get(owners, headers=admin_headers).get_json()["items"]
    assert [e["granted_by"] for e in by_admin] == ["checkout"]
    update_site(app.extensions["payments_service"].db, "crm", scopes=[])
    assert client.get(owners, headers=crm.headers).status_code == 403


def _trail(client: FlaskClient, headers: dict[str, str], email: str = ASHA) -> dict[str, Any]:
    answer = client.get(f"/v1/customers/{email}/transactions", headers=headers)
    assert_conforms(answer, TRAIL, 200)
    return dict(answer.get_json())


def _detail_keys(trail: dict[str, Any]) -> set[str]:
    return {key for entry in trail["entries"] for key in entry["details"] or {}}


def test_a_site_reads_its_own_customers_trail_without_card_fee_or_admin_details(
    client: FlaskClient, old_site: SiteCredentials, admin_headers: dict[str, str], sale: Sale
) -> None:
    as_a_site = _trail(client, old_site.headers)

    in_full = _trail(client, admin_headers)
    assert _detail_keys(as_a_site).isdisjoint(CARD_FEE_AND_ADMIN_DETAILS)
    assert {"card_network", "card_last4", "fee", "tax", "requested_by", "reason", "by"} <= (
        _detail_keys(in_full)
    )
    assert "admin:tester" not in json.dumps(as_a_site)
    for seen, full in zip(as_a_site["entries"], in_full["entries"], strict=True):
        assert {**seen, "details": None} == {**full, "details": None}
        if full["details"] is not None:
            shown = SITE_DETAILS[full["kind"]]
            assert seen["details"] == {k: v for k, v in full["details"].items() if k in shown}
    assert as_a_site["totals"] == in_full["totals"]
    assert as_a_site["totals"][0]["refunded"] == 15000


def test_creating_an_order_for_a_customer_is_not_selling_to_them(
    client: FlaskClient,
    checkout: Checkout,
    new_site: SiteCredentials,
    sale: Sale,
) -> None:
    course = {"sku": "go-1", "name": "Go"}
    unpaid = checkout.create_order(new_site, product=course)
    trail = f"/v1/customers/{ASHA}/transactions"
    assert client.get(trail, headers=new_site.headers).status_code == 404

    assert checkout.verify(checkout.pay(unpaid)).status_code == 200

    as_a_seller = _trail(client, new_site.headers)
    sellers = {e["site_id"] for e in as_a_seller["entries"] if e["site_id"]}
    assert sellers == {"old-site", "new-site"}  # which site sold what, across sites
    assert _detail_keys(as_a_seller).isdisjoint(CARD_FEE_AND_ADMIN_DETAILS)


def test_verify_answers_the_buyer_without_admin_records_or_card_details(
    client: FlaskClient,
    checkout: Checkout,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    order = checkout.create_order(new_site)
    result = checkout.pay(order)
    enrollment_id = checkout.verify(result).get_json()["enrollment"]["id"]
    revoke = {"reason": "chargeback filed, says ops-asha"}
    revoked = client.post(
        f"/v1/enrollments/{enrollment_id}/revoke", json=revoke, headers=admin_headers
    )
    assert revoked.get_json()["revoked_by"] == "admin:tester"

    again = checkout.verify(result)  # no token: the Razorpay signature is the proof

    assert_conforms(again, "/v1/payments/verify", 200)
    answer = again.get_json()
    assert answer["enrollment"]["status"] == "revoked"
    assert ADMIN_ONLY_ENROLLMENT_FIELDS.isdisjoint(answer["enrollment"])
    assert "ops-asha" not in again.get_data(as_text=True)
    assert {"card_network", "card_last4", "fee", "tax", "vpa", "bank"}.isdisjoint(answer["payment"])


def test_the_schema_refuses_a_scope_it_does_not_know(dsn: str, new_site: SiteCredentials) -> None:
    with psycopg.connect(dsn) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("UPDATE sites SET scopes = '{orders:all}' WHERE id = 'new-site'")
