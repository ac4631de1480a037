"""A buyer with two tabs pays two orders of one product: the second paid is a duplicate
purchase whichever channel reports it (verify, webhooks, reconciliation, all at once); it
grants nothing and is refunded once."""

from __future__ import annotations

from typing import Any

import requests
from flask import Flask

from payments_service.worker import run_pass
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials
from tests.contract.openapi import (
    assert_conforms,
    window_around_now,
)
from tests.duplicates.double_paid import _all_at_once, _services
from tests.duplicates.two_tabs import (
    VERIFY,
    _assert_marked,
    _assert_refunded_once,
    _customer,
    _deliver_over_http,
    _told,
    _two_tabs,
)


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
