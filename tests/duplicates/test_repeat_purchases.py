"""Purchases of a product already owned: a deliberate repeat is kept, an undeclared one
flagged, one after an admin grant is a duplicate; with the setting off, refunding it revokes
nothing; the grant that waits on another is the duplicate only if that one commits."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
import requests
from flask import Flask

from payments_service.payments import UNSAID_REPEAT, apply_payment, apply_payment_in
from payments_service.worker import run_pass
from tests.actions import Checkout, SiteCredentials
from tests.contract.openapi import (
    PAYMENTS,
    TRAIL,
    assert_conforms,
)
from tests.duplicates.double_paid import _refunds_at_razorpay, _services
from tests.duplicates.two_tabs import (
    PRICE,
    VERIFY,
    _assert_marked,
    _payment_of,
    _RolledBack,
    _two_tabs,
    _wait_until_a_backend_waits_for_a_lock,
)


def test_a_deliberate_repeat_paid_while_owned_is_kept_not_refunded(
    app: Flask,
    client: Any,
    checkout: Checkout,
    shop_site: SiteCredentials,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    checkout.buy(shop_site)
    repeat = checkout.create_order(shop_site, allow_owned=True)
    assert repeat["allow_owned"] is True

    answer = checkout.verify(checkout.pay(repeat))
    run_pass(_services(app), requests.Session())

    assert_conforms(answer, VERIFY, 200)
    assert answer.get_json()["enrollment"] is None
    payment = _payment_of(repeat, db_rows)
    assert (payment["duplicate_of_enrollment"], payment["needs_attention"]) == (None, None)
    assert payment["status"] == "captured"
    assert db_rows("SELECT id FROM refunds") == []
    assert db_rows("SELECT DISTINCT status FROM orders") == [{"status": "paid"}]
    flagged = client.get(f"{PAYMENTS}?needs_attention=true", headers=admin_headers)
    assert flagged.get_json()["items"] == []
    trail = client.get(TRAIL.replace("{email}", "asha@example.com"), headers=admin_headers)
    assert trail.get_json()["totals"] == [
        {"currency": "INR", "paid": 2 * PRICE, "refunded": 0, "refund_pending": 0, "net": 2 * PRICE}
    ]


def test_with_the_setting_off_a_duplicate_purchase_is_flagged_and_refunding_it_revokes_nothing(
    make_app: Any,
    checkout: Checkout,
    shop_site: SiteCredentials,
    admin_headers: dict[str, str],
    sandbox: Any,
    db_rows: Any,
) -> None:
    keeping = make_app(refund_duplicate_payments=False)
    client = keeping.test_client()
    tabs = _two_tabs(checkout, shop_site)
    for result in (tabs.first_paid, tabs.second_paid):
        assert client.post(VERIFY, json=result).status_code == 200
    run_pass(_services(keeping), requests.Session())

    assert db_rows("SELECT id FROM refunds") == []
    flagged = client.get(f"{PAYMENTS}?needs_attention=true", headers=admin_headers)
    assert_conforms(flagged, PAYMENTS, 200)
    (payment,) = flagged.get_json()["items"]
    assert payment["order_id"] == tabs.second["id"]
    assert "REFUND_DUPLICATE_PAYMENTS" in payment["needs_attention"]

    by_admin = client.post(
        "/v1/refunds", json={"order_id": tabs.second["id"]}, headers=admin_headers
    )

    assert by_admin.status_code == 201, by_admin.get_json()
    assert by_admin.get_json()["payment_id"] == payment["id"]
    assert (by_admin.get_json()["revokes_access"], by_admin.get_json()["revoked_access"]) == (
        True,
        False,
    )
    assert db_rows("SELECT order_id, status FROM enrollments") == [
        {"order_id": tabs.first["id"], "status": "active"}
    ]
    assert db_rows("SELECT status FROM orders WHERE id = %s", tabs.second["id"]) == [
        {"status": "refunded"}
    ]
    assert client.get(f"{PAYMENTS}?needs_attention=true", headers=admin_headers).get_json() == {
        "items": [],
        "next_cursor": None,
    }
    assert db_rows("SELECT id FROM notifications WHERE event_type = 'enrollment.revoked'") == []


def test_an_order_paid_after_an_admin_granted_the_product_is_a_duplicate_purchase(
    app: Flask,
    client: Any,
    checkout: Checkout,
    shop_site: SiteCredentials,
    admin_headers: dict[str, str],
    sandbox: Any,
    db_rows: Any,
) -> None:
    order = checkout.create_order(shop_site)
    granted = client.post(
        "/v1/enrollments",
        json={"customer_email": "asha@example.com", "sku": "python-101", "reason": "a gift"},
        headers=admin_headers,
    )
    assert granted.status_code == 201

    answer = checkout.verify(checkout.pay(order))
    run_pass(_services(app), requests.Session())

    assert answer.get_json()["payment"]["duplicate_of_enrollment"] == granted.get_json()["id"]
    (refund,) = _refunds_at_razorpay(sandbox, answer.get_json()["payment"]["id"])
    assert (refund["amount"], refund["status"]) == (PRICE, "processed")
    assert db_rows("SELECT id, status FROM enrollments") == [
        {"id": granted.get_json()["id"], "status": "active"}
    ]
    assert db_rows("SELECT status FROM orders") == [{"status": "refunded"}]


def test_an_order_that_never_said_whether_a_repeat_is_deliberate_is_flagged_not_refunded(
    app: Flask,
    client: Any,
    checkout: Checkout,
    shop_site: SiteCredentials,
    admin_headers: dict[str, str],
    dsn: str,
    sandbox: Any,
    db_rows: Any,
) -> None:
    tabs = _two_tabs(checkout, shop_site)
    with psycopg.connect(dsn) as conn:  # as an order made before migration 0007 reads
        conn.execute("UPDATE orders SET allow_owned = NULL WHERE id = %s", (tabs.second["id"],))
    assert (
        client.get(f"/v1/orders/{tabs.second['id']}", headers=shop_site.headers).get_json()[
            "allow_owned"
        ]
        is None
    )

    for result in (tabs.first_paid, tabs.second_paid):
        assert checkout.verify(result).status_code == 200
    run_pass(_services(app), requests.Session())

    _, duplicate = _assert_marked(tabs, db_rows)
    assert duplicate["id"] == tabs.second["id"]
    assert _payment_of(duplicate, db_rows)["needs_attention"] == UNSAID_REPEAT
    assert db_rows("SELECT id FROM refunds") == []
    assert _refunds_at_razorpay(sandbox, tabs.second_paid["razorpay_payment_id"]) == []


@pytest.mark.parametrize("first_commits", [True, False])
def test_the_grant_that_waits_on_another_is_the_duplicate_only_if_that_one_commits(
    app: Flask,
    checkout: Checkout,
    shop_site: SiteCredentials,
    dsn: str,
    db_rows: Any,
    first_commits: bool,
) -> None:
    """The first order's transaction has granted but not committed; the second's grant
    waits on the unique index. When the first commits, the second is the duplicate in its
    own transaction; when it rolls back, the second grants instead."""
    services = _services(app)
    tabs = _two_tabs(checkout, shop_site)
    first, second = (
        services.gateway.fetch_payment(paid["razorpay_payment_id"])
        for paid in (tabs.first_paid, tabs.second_paid)
    )
    with ThreadPoolExecutor(1) as thread:
        with contextlib.suppress(_RolledBack), services.db.transaction() as cur:
            granting = apply_payment_in(cur, first, actor="webhook")
            assert granting.enrollment is not None
            waiting = thread.submit(apply_payment, services.db, second, actor="checkout")
            _wait_until_a_backend_waits_for_a_lock(dsn)
            if not first_commits:
                raise _RolledBack  # the transaction rolls back, then the error is dropped
        outcome = waiting.result(timeout=30)

    if first_commits:
        assert outcome.enrollment is None
        assert outcome.payment.duplicate_of_enrollment == granting.enrollment.id
        _assert_marked(tabs, db_rows)
    else:
        assert outcome.enrollment is not None and outcome.payment.duplicate_of_enrollment is None
        assert db_rows("SELECT order_id FROM enrollments") == [{"order_id": tabs.second["id"]}]
        assert db_rows("SELECT count(*) AS n FROM payments") == [{"n": 1}]
