"""Least privilege for sites: one leaked site secret exposes that site's own customers, not
every site's. Every operation a bearer token may call is tried with another site's token
against the first site's customer, order, payment and refund: it is a 404 (or an empty list)
for records of another site and a 403 for what only admins may do, and no data of the first
site's sale comes back; the other site still sees its own, and listing every owner of a SKU
needs the scope."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from payments_service.sites import update_site
from tests.actions import SiteCredentials, register_site
from tests.contract.openapi import DOCUMENT, HTTP_METHODS, assert_conforms
from tests.site_privilege.attempts import (
    ADMIN_ONLY_ENROLLMENT_FIELDS,
    ASHA,
    ATTEMPTS,
    RAVI,
    TRAIL,
    Sale,
    _send,
)


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
    elif attempt.expect == "shared":
        assert_conforms(answer, template, 200)
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
