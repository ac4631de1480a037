"""What a site sees of its own customers: their money trail without card, fee or admin
details; making an order for a customer sells them nothing; verify answers the buyer without
admin records or card details; scopes are only those the schema knows."""

from __future__ import annotations

import json

import psycopg
import pytest
from flask.testing import FlaskClient

from payments_service.money_trail import SITE_DETAILS
from tests.actions import Checkout, SiteCredentials
from tests.contract.openapi import assert_conforms
from tests.site_privilege.attempts import (
    ADMIN_ONLY_ENROLLMENT_FIELDS,
    ASHA,
    CARD_FEE_AND_ADMIN_DETAILS,
    Sale,
    _detail_keys,
    _trail,
)


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
