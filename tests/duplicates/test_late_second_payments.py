"""A second captured payment on an order already paid (a late authorisation) is a duplicate:
recorded and flagged by whichever channel reports it first (webhook, verify, reconciliation,
or all at once), shown in the money trail, never a second enrollment or order.paid."""

from __future__ import annotations

from typing import Any

import requests
from flask import Flask

from payments_service.refunds import (
    REQUESTER,
    decide_refunds,
    refund_reserved,
)
from payments_service.worker import run_pass
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials
from tests.contract.openapi import TRAIL, assert_conforms, window_around_now
from tests.duplicates.double_paid import (
    PRICE,
    _all_at_once,
    _assert_one_sale,
    _assert_refunded_once,
    _double_pay,
    _late_events,
    _services,
)


def test_a_late_second_payment_reported_by_webhook_is_refunded_once_and_shown_in_the_trail(
    app: Flask,
    client: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    shop_site: SiteCredentials,
    admin_headers: dict[str, str],
    sandbox: Any,
    db_rows: Any,
) -> None:
    double = _double_pay(checkout, shop_site)
    events = _late_events(webhooks, double.late)

    captured = webhooks.deliver(events["payment.captured"])

    assert captured.get_json()["status"] == "applied"
    assert db_rows(
        "SELECT duplicate_of, refund_undecided FROM payments WHERE id = %s", double.late
    ) == [{"duplicate_of": double.paying, "refund_undecided": True}]
    assert db_rows("SELECT id FROM refunds") == []  # the worker decides on the refund
    assert decide_refunds(_services(app).db, refund=True) == 1
    assert db_rows("SELECT status, amount, requested_by FROM refunds") == [
        {"status": "requested", "amount": PRICE, "requested_by": REQUESTER}
    ]
    _assert_one_sale(db_rows)
    for name in ("order.paid", "payment.authorized", "payment.captured"):
        assert webhooks.deliver(events[name]).status_code == 200
    assert decide_refunds(_services(app).db, refund=True) == 0
    assert len(db_rows("SELECT id FROM refunds")) == 1

    report = run_pass(_services(app), requests.Session())

    assert report.duplicates_refunded == 1
    _assert_refunded_once(double, sandbox, db_rows)
    trail = client.get("/v1/customers/asha@example.com/transactions", headers=admin_headers)
    assert_conforms(trail, TRAIL, 200)
    entries = trail.get_json()["entries"]
    (duplicate,) = [
        e for e in entries if e["kind"] == "payment.captured" and e["payment_id"] == double.late
    ]
    assert duplicate["details"]["duplicate_of"] == double.paying
    assert "needs_attention" not in duplicate["details"]
    # The site that sold it sees the duplicate too (its other details are the admin's).
    as_the_site = client.get(
        "/v1/customers/asha@example.com/transactions", headers=shop_site.headers
    )
    assert_conforms(as_the_site, TRAIL, 200)
    (seen,) = [
        e
        for e in as_the_site.get_json()["entries"]
        if e["kind"] == "payment.captured" and e["payment_id"] == double.late
    ]
    assert seen["details"]["duplicate_of"] == double.paying
    (requested,) = [e for e in entries if e["kind"] == "refund.requested"]
    assert requested["payment_id"] == double.late
    assert requested["details"]["requested_by"] == REQUESTER
    assert double.paying in requested["details"]["reason"]
    assert [e["kind"] for e in entries if e["kind"].startswith("enrollment.")] == [
        "enrollment.granted"
    ]
    assert trail.get_json()["totals"] == [
        {"currency": "INR", "paid": 2 * PRICE, "refunded": PRICE, "refund_pending": 0, "net": PRICE}
    ]


def test_a_late_second_payment_reported_by_verify_first_grants_nothing_more(
    app: Flask,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    shop_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    double = _double_pay(checkout, shop_site)

    verified = checkout.verify(double.late_result)

    assert_conforms(verified, "/v1/payments/verify", 200)
    body = verified.get_json()
    assert body["payment"]["id"] == double.late
    assert body["payment"]["duplicate_of"] == double.paying
    assert body["order"]["status"] == "paid"
    assert checkout.verify(double.late_result).status_code == 200
    for event in _late_events(webhooks, double.late).values():
        assert webhooks.deliver(event).status_code == 200
    decide_refunds(_services(app).db, refund=True)
    assert len(db_rows("SELECT id FROM refunds")) == 1

    assert refund_reserved(_services(app).db, _services(app).gateway) == 1

    _assert_refunded_once(double, sandbox, db_rows)


def test_a_late_second_payment_found_by_reconciliation_is_refunded_and_replays_change_nothing(
    app: Flask,
    client: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    shop_site: SiteCredentials,
    admin_headers: dict[str, str],
    sandbox: Any,
    db_rows: Any,
) -> None:
    double = _double_pay(checkout, shop_site)

    first = client.post("/v1/reconcile", json=window_around_now(), headers=admin_headers)

    assert first.status_code == 200 and first.get_json()["updated"] == 1
    assert db_rows("SELECT duplicate_of FROM payments WHERE id = %s", double.late) == [
        {"duplicate_of": double.paying}
    ]
    run_pass(_services(app), requests.Session())
    _assert_refunded_once(double, sandbox, db_rows)

    again = client.post("/v1/reconcile", json=window_around_now(), headers=admin_headers)
    for event in _late_events(webhooks, double.late).values():
        assert webhooks.deliver(event).status_code == 200
    assert checkout.verify(double.late_result).status_code == 200
    assert run_pass(_services(app), requests.Session()).duplicates_refunded == 0

    assert again.get_json()["updated"] == 0
    _assert_refunded_once(double, sandbox, db_rows)


def test_every_channel_at_once_marks_one_duplicate_and_workers_at_once_refund_it_once(
    app: Flask,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    shop_site: SiteCredentials,
    admin_headers: dict[str, str],
    sandbox: Any,
    db_rows: Any,
) -> None:
    double = _double_pay(checkout, shop_site)
    events = _late_events(webhooks, double.late)
    calls = [
        lambda c: c.post("/v1/payments/verify", json=double.late_result),
        lambda c: c.post("/v1/reconcile", json=window_around_now(), headers=admin_headers),
        *[lambda c, e=event: RazorpayWebhooks(c, sandbox).deliver(e) for event in events.values()],
    ]
    statuses = _all_at_once(
        [lambda call=call: call(app.test_client()).status_code for call in calls]
    )
    assert statuses == [200] * len(calls)
    assert db_rows("SELECT duplicate_of FROM payments WHERE id = %s", double.late) == [
        {"duplicate_of": double.paying}
    ]
    services = _services(app)
    _all_at_once([lambda: decide_refunds(services.db, refund=True)] * 3)
    assert db_rows("SELECT status FROM refunds") == [{"status": "requested"}]

    _all_at_once([lambda: refund_reserved(services.db, services.gateway)] * 3)

    _assert_refunded_once(double, sandbox, db_rows)
