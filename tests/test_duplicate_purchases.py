"""A buyer with two tabs presses Buy in each (two orders, neither paid yet, so no 409
already_owned) and pays both: the second order paid is a duplicate purchase. It grants
nothing, its payment is marked with the enrollment the buyer already had, refunded once
(or flagged), and that refund never revokes the first order's enrollment; whichever
channel reports which order first, and when they all do at once. An order made with
allow_owned is a deliberate repeat and is kept. Real PostgreSQL, the sandbox over HTTP.
"""

from __future__ import annotations

import contextlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
import requests
from flask import Flask

from payments_service.payments import UNSAID_REPEAT, apply_payment, apply_payment_in
from payments_service.refunds import REQUESTER
from payments_service.worker import run_pass
from tests.conftest import Checkout, RazorpayWebhooks, SiteCredentials, register_site
from tests.test_duplicate_payments import _all_at_once, _refunds_at_razorpay, _services
from tests.test_openapi_contract import (
    PAYMENTS,
    SITE_NOTIFICATION,
    TRAIL,
    assert_conforms,
    schema_errors,
    window_around_now,
)

PRICE = 49900
VERIFY = "/v1/payments/verify"


@dataclass(frozen=True)
class TwoTabs:
    """Two orders for one buyer and product, made before either was paid, both paid."""

    first: dict[str, Any]
    second: dict[str, Any]
    first_paid: dict[str, Any]  # what Checkout handed each tab
    second_paid: dict[str, Any]

    @property
    def orders(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.first, self.second


@pytest.fixture
def shop_site(app: Flask) -> SiteCredentials:
    """A site with a callback URL, so what it would be told is queued (and readable)."""
    return register_site(app, "shop-site", "http://shop.localhost:8023", "http://127.0.0.1:9/cb")


def _two_tabs(checkout: Checkout, site: SiteCredentials, **order: Any) -> TwoTabs:
    first = checkout.create_order(site, **order)
    second = checkout.create_order(site, **order)  # the first is not paid: no 409
    return TwoTabs(first, second, checkout.pay(first), checkout.pay(second))


def _customer(email: str) -> dict[str, Any]:
    return {"email": email, "name": "Asha", "contact": "+919876543210", "site_user_id": "u-42"}


def _split(tabs: TwoTabs, db_rows: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(the order that kept the grant, the duplicate one, the enrollment's id): exactly one
    active enrollment for the buyer, granted by one of the two orders."""
    email = tabs.first["customer"]["email"]
    (enrollment,) = db_rows(
        "SELECT id, order_id FROM enrollments WHERE customer_email = %s AND status = 'active'",
        email,
    )
    kept = tabs.first if enrollment["order_id"] == tabs.first["id"] else tabs.second
    duplicate = tabs.second if kept is tabs.first else tabs.first
    assert enrollment["order_id"] == kept["id"]
    return kept, duplicate, str(enrollment["id"])


def _payment_of(order: dict[str, Any], db_rows: Any) -> dict[str, Any]:
    (payment,) = db_rows(
        "SELECT id, status, duplicate_of, duplicate_of_enrollment, needs_attention "
        "FROM payments WHERE order_id = %s",
        order["id"],
    )
    return dict(payment)


def _assert_marked(tabs: TwoTabs, db_rows: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """One order kept the grant and its payment is clean; the other's payment is marked with
    that enrollment; both orders are paid. Returns (kept, duplicate)."""
    kept, duplicate, enrollment_id = _split(tabs, db_rows)
    assert _payment_of(kept, db_rows)["duplicate_of_enrollment"] is None
    marked = _payment_of(duplicate, db_rows)
    assert (marked["duplicate_of"], marked["duplicate_of_enrollment"]) == (None, enrollment_id)
    assert (
        db_rows(
            "SELECT status, amount_paid FROM orders WHERE id = ANY(%s) ORDER BY id",
            [kept["id"], duplicate["id"]],
        )
        == [{"status": "paid", "amount_paid": PRICE}] * 2
    )
    return kept, duplicate


def _assert_refunded_once(
    tabs: TwoTabs, client: Any, headers: dict[str, str], sandbox: Any, db_rows: Any
) -> None:
    """Razorpay holds one refund, of all of the duplicate's payment; the kept order is paid
    and its enrollment active; the duplicate order is refunded; the trail adds up."""
    kept, duplicate, enrollment_id = _split(tabs, db_rows)
    kept_payment, duplicate_payment = _payment_of(kept, db_rows), _payment_of(duplicate, db_rows)
    (at_razorpay,) = _refunds_at_razorpay(sandbox, duplicate_payment["id"])
    assert (at_razorpay["amount"], at_razorpay["status"]) == (PRICE, "processed")
    assert _refunds_at_razorpay(sandbox, kept_payment["id"]) == []
    email = kept["customer"]["email"]
    refunds = db_rows(
        "SELECT r.id, r.payment_id, r.amount, r.status, r.requested_by, r.revokes_access, "
        "r.revoked_access FROM refunds r JOIN orders o ON o.id = r.order_id "
        "WHERE o.customer_email = %s",
        email,
    )
    assert refunds == [
        {
            "id": at_razorpay["notes"]["refund_ref"],
            "payment_id": duplicate_payment["id"],
            "amount": PRICE,
            "status": "processed",
            "requested_by": REQUESTER,
            "revokes_access": False,
            "revoked_access": False,
        }
    ]
    assert duplicate_payment["status"] == "refunded"
    assert duplicate_payment["needs_attention"] is None
    assert db_rows(
        "SELECT id, status, amount_refunded FROM orders WHERE customer_email = %s ORDER BY id",
        email,
    ) == sorted(
        [
            {"id": kept["id"], "status": "paid", "amount_refunded": 0},
            {"id": duplicate["id"], "status": "refunded", "amount_refunded": PRICE},
        ],
        key=lambda row: row["id"],
    )
    assert db_rows("SELECT id, status FROM enrollments WHERE customer_email = %s", email) == [
        {"id": enrollment_id, "status": "active"}
    ]
    trail = client.get(TRAIL.replace("{email}", email), headers=headers)
    assert_conforms(trail, TRAIL, 200)
    assert trail.get_json()["totals"] == [
        {"currency": "INR", "paid": 2 * PRICE, "refunded": PRICE, "refund_pending": 0, "net": PRICE}
    ]
    (entry,) = [
        e
        for e in trail.get_json()["entries"]
        if e["kind"] == "payment.captured" and e["payment_id"] == duplicate_payment["id"]
    ]
    assert entry["details"]["duplicate_of_enrollment"] == enrollment_id


def _told(db_rows: Any, order: dict[str, Any]) -> list[dict[str, Any]]:
    """What the order's site was told about the order, in order, each body checked against
    the callback's schema."""
    rows = db_rows(
        "SELECT event_type, body FROM notifications WHERE subject = %s ORDER BY created_at, id",
        order["id"],
    )
    bodies = [json.loads(row["body"]) for row in rows]
    for body in bodies:
        assert not schema_errors(body, SITE_NOTIFICATION), body
    return bodies


def test_the_second_of_two_tabs_verified_is_a_duplicate_purchase_refunded_once(
    app: Flask,
    client: Any,
    checkout: Checkout,
    shop_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    tabs = _two_tabs(checkout, shop_site)

    first = checkout.verify(tabs.first_paid)
    second = checkout.verify(tabs.second_paid)

    assert_conforms(second, VERIFY, 200)
    (enrollment,) = db_rows("SELECT id, order_id FROM enrollments")
    assert enrollment["order_id"] == tabs.first["id"]
    assert first.get_json()["enrollment"]["id"] == enrollment["id"]
    assert first.get_json()["payment"]["duplicate_of_enrollment"] is None
    body = second.get_json()
    assert (body["order"]["status"], body["enrollment"]) == ("paid", None)
    assert body["payment"]["duplicate_of_enrollment"] == enrollment["id"]
    assert body["payment"]["duplicate_of"] is None
    assert checkout.verify(tabs.second_paid).status_code == 200

    assert run_pass(_services(app), requests.Session()).duplicates_refunded == 1
    assert run_pass(_services(app), requests.Session()).duplicates_refunded == 0

    _assert_refunded_once(tabs, client, shop_site.headers, sandbox, db_rows)
    paid, refunded = _told(db_rows, tabs.second)
    assert (paid["type"], refunded["type"]) == ("order.paid", "refund.processed")
    assert paid["data"]["payment"]["duplicate_of_enrollment"] == enrollment["id"]
    assert refunded["data"]["order"]["status"] == "refunded"
    assert refunded["data"]["refund"]["payment_id"] == second.get_json()["payment"]["id"]
    (kept_paid,) = _told(db_rows, tabs.first)
    assert kept_paid["type"] == "order.paid"
    assert "duplicate_of_enrollment" not in kept_paid["data"]["payment"]
    assert db_rows(
        "SELECT event_type, count(*) AS n FROM notifications "
        "WHERE event_type LIKE 'enrollment.%%' GROUP BY event_type"
    ) == [{"event_type": "enrollment.granted", "n": 1}]


def test_two_tabs_reported_by_webhooks_and_their_replays_refund_the_second_once(
    app: Flask,
    client: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    shop_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    tabs = _two_tabs(checkout, shop_site)
    events = [
        event for order in tabs.orders for event in webhooks.events_for(order["razorpay_order_id"])
    ]

    for event in events:
        assert webhooks.deliver(event).get_json()["status"] == "applied"

    _, duplicate = _assert_marked(tabs, db_rows)
    assert duplicate["id"] == tabs.second["id"]
    run_pass(_services(app), requests.Session())
    for event in events:
        assert webhooks.deliver(event).get_json()["duplicate"] is True
    assert checkout.verify(tabs.second_paid).status_code == 200
    assert checkout.verify(tabs.first_paid).status_code == 200
    assert run_pass(_services(app), requests.Session()).duplicates_refunded == 0
    _assert_refunded_once(tabs, client, shop_site.headers, sandbox, db_rows)


def test_two_tabs_found_by_one_reconciliation_make_one_grant_and_one_duplicate(
    app: Flask,
    client: Any,
    checkout: Checkout,
    shop_site: SiteCredentials,
    admin_headers: dict[str, str],
    sandbox: Any,
    db_rows: Any,
) -> None:
    tabs = _two_tabs(checkout, shop_site)

    report = client.post("/v1/reconcile", json=window_around_now(), headers=admin_headers)

    assert report.status_code == 200 and report.get_json()["updated"] == 2
    _assert_marked(tabs, db_rows)
    run_pass(_services(app), requests.Session())
    _assert_refunded_once(tabs, client, admin_headers, sandbox, db_rows)


def test_two_tabs_paid_at_the_same_moment_through_every_channel_make_exactly_one_duplicate(
    app: Flask,
    client: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    shop_site: SiteCredentials,
    admin_headers: dict[str, str],
    live_api: str,
    sandbox: Any,
    db_rows: Any,
) -> None:
    """Over real HTTP to a threaded server: verify and the webhooks of both orders, and a
    reconciliation, all released at once, for several buyers; then three workers at once."""
    rounds = [
        _two_tabs(checkout, shop_site, customer=_customer(f"buyer{n}@example.com"))
        for n in range(4)
    ]
    calls = []
    for tabs in rounds:
        for result in (tabs.first_paid, tabs.second_paid):
            calls.append(lambda r=result: requests.post(f"{live_api}{VERIFY}", json=r, timeout=30))
        for order in tabs.orders:
            for event in webhooks.events_for(order["razorpay_order_id"]):
                calls.append(lambda e=event: _deliver_over_http(live_api, e))
    calls.append(
        lambda: requests.post(
            f"{live_api}/v1/reconcile", json=window_around_now(), headers=admin_headers, timeout=60
        )
    )

    answers = _all_at_once(calls)

    assert [answer.status_code for answer in answers] == [200] * len(calls)
    for tabs in rounds:
        _assert_marked(tabs, db_rows)
    services = _services(app)
    _all_at_once([lambda: run_pass(services, requests.Session())] * 3)
    for tabs in rounds:
        _assert_refunded_once(tabs, client, admin_headers, sandbox, db_rows)


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


class _RolledBack(Exception):
    pass


def _wait_until_a_backend_waits_for_a_lock(dsn: str) -> None:
    """Poll until some session of this database waits for a lock (the second grant)."""
    deadline = time.monotonic() + 10
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if waiting and waiting[0] > 0:
                return
            time.sleep(0.02)
    raise AssertionError("the second transaction never waited for the first one's grant")


def _deliver_over_http(live_api: str, event: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{live_api}/v1/webhooks/razorpay",
        data=event["body"].encode(),
        headers={
            "Content-Type": "application/json",
            "X-Razorpay-Signature": event["signature"],
            "X-Razorpay-Event-Id": event["id"],
        },
        timeout=30,
    )


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
