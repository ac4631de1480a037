"""A second captured payment on an order already paid (a late authorisation) is a duplicate:
recorded and flagged by whichever channel reports it first and however often, shown in the
money trail, never a second enrollment or order.paid; the worker then refunds it once
through Razorpay with X-Refund-Idempotency (or leaves it flagged when
REFUND_DUPLICATE_PAYMENTS is off). Real PostgreSQL, the sandbox over HTTP.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest
import razorpay
import requests
from flask import Flask

from payments_service.errors import ConfigurationError
from payments_service.payments import NOT_REFUNDED
from payments_service.refunds import (
    ATTENTION_DUPLICATE_REFUND_FAILED,
    REQUESTER,
    decide_refunds,
    refund_reserved,
)
from payments_service.settings import Settings
from payments_service.worker import run_pass
from tests.conftest import Checkout, RazorpayWebhooks, SiteCredentials, register_site
from tests.test_openapi_contract import PAYMENTS, TRAIL, assert_conforms, window_around_now

PRICE = 49900


@dataclass(frozen=True)
class DoublePaid:
    """An order paid by ``paying``, then captured again by ``late`` (authorised late)."""

    order: dict[str, Any]
    paying: str
    late: str
    late_result: dict[str, Any]  # what Checkout would have handed the page for ``late``


@pytest.fixture
def shop_site(app: Flask) -> SiteCredentials:
    """A site with a callback URL, so what it would be told is queued (and countable)."""
    return register_site(app, "shop-site", "http://shop.localhost:8023", "http://127.0.0.1:9/cb")


def _configure(sandbox: Any, **knobs: Any) -> None:
    requests.patch(f"{sandbox.url}/_sandbox/config", json=knobs, timeout=5).raise_for_status()


def _sdk(sandbox: Any) -> Any:
    return razorpay.Client(
        auth=(sandbox.config.key_id, sandbox.config.key_secret), base_url=sandbox.url
    )


def _double_pay(checkout: Checkout, site: SiteCredentials, **order: Any) -> DoublePaid:
    """Tab one's payment times out (failed), tab two pays and is verified, then the bank
    authorises tab one's payment after all and Razorpay captures it."""
    order = checkout.create_order(site, **order)
    late = checkout.pay(order, outcome="failure")["error"]["metadata"]["payment_id"]
    paying = checkout.pay(order)
    assert checkout.verify(paying).status_code == 200
    authorized = requests.post(
        f"{checkout.sandbox.url}/_sandbox/payments/{late}/authorize", timeout=10
    )
    assert authorized.status_code == 200, authorized.text
    return DoublePaid(order, paying["razorpay_payment_id"], late, authorized.json())


def _late_events(webhooks: RazorpayWebhooks, payment_id: str) -> dict[str, dict[str, Any]]:
    """The events the late authorisation emitted, by name."""
    return {
        event["event"]: event
        for event in webhooks.events_for(payment_id)
        if event["event"] != "payment.failed"
    }


def _refunds_at_razorpay(sandbox: Any, payment_id: str) -> list[dict[str, Any]]:
    return list(_sdk(sandbox).payment.fetch_multiple_refund(payment_id)["items"])


def _services(app: Flask) -> Any:
    return app.extensions["payments_service"]


def _assert_refunded_once(double: DoublePaid, sandbox: Any, db_rows: Any) -> None:
    """Razorpay holds one refund of all of the late payment and none of the paying one; our
    records agree; the buyer keeps the one enrollment; the order stays paid."""
    (at_razorpay,) = _refunds_at_razorpay(sandbox, double.late)
    assert (at_razorpay["amount"], at_razorpay["status"]) == (PRICE, "processed")
    assert _refunds_at_razorpay(sandbox, double.paying) == []
    (refund,) = db_rows(
        "SELECT id, payment_id, amount, status, razorpay_refund_id, requested_by, "
        "revokes_access FROM refunds"
    )
    assert refund == {
        "id": at_razorpay["notes"]["refund_ref"],
        "payment_id": double.late,
        "amount": PRICE,
        "status": "processed",
        "razorpay_refund_id": at_razorpay["id"],
        "requested_by": REQUESTER,
        "revokes_access": False,
    }
    payments = db_rows("SELECT id, status, duplicate_of, needs_attention FROM payments")
    assert {row.pop("id"): row for row in payments} == {
        double.paying: {"status": "captured", "duplicate_of": None, "needs_attention": None},
        double.late: {"status": "refunded", "duplicate_of": double.paying, "needs_attention": None},
    }
    _assert_one_sale(db_rows)


def _assert_one_sale(db_rows: Any) -> None:
    assert db_rows("SELECT status, amount_paid, amount_refunded FROM orders") == [
        {"status": "paid", "amount_paid": PRICE, "amount_refunded": 0}
    ]
    assert db_rows("SELECT status FROM enrollments") == [{"status": "active"}]
    assert db_rows(
        "SELECT event_type, count(*) AS n FROM notifications "
        "WHERE event_type IN ('order.paid', 'enrollment.granted', 'enrollment.revoked') "
        "GROUP BY event_type ORDER BY event_type"
    ) == [{"event_type": "enrollment.granted", "n": 1}, {"event_type": "order.paid", "n": 1}]


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


def test_a_refund_whose_answer_was_lost_is_asked_again_with_the_same_idempotency_key(
    app: Flask,
    make_app: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    shop_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    double = _double_pay(checkout, shop_site)
    webhooks.deliver(_late_events(webhooks, double.late)["payment.captured"])
    decide_refunds(_services(app).db, refund=True)
    impatient = _services(make_app(razorpay_timeout_seconds=0.3))
    _configure(sandbox, latency_ms=800)

    assert refund_reserved(impatient.db, impatient.gateway) == 1  # the answer never comes

    assert db_rows("SELECT status FROM refunds") == [{"status": "requested"}]
    _wait_for_refunds_at_razorpay(sandbox, double.late, 1)  # yet Razorpay made it
    _configure(sandbox, latency_ms=0)
    assert refund_reserved(_services(app).db, _services(app).gateway) == 1
    _assert_refunded_once(double, sandbox, db_rows)


def test_with_the_setting_off_a_duplicate_is_flagged_not_refunded_until_an_admin_does(
    make_app: Any,
    checkout: Checkout,
    shop_site: SiteCredentials,
    admin_headers: dict[str, str],
    sandbox: Any,
    db_rows: Any,
) -> None:
    keeping = make_app(refund_duplicate_payments=False)
    client = keeping.test_client()
    double = _double_pay(checkout, shop_site)
    events = _late_events(RazorpayWebhooks(client, sandbox), double.late)

    assert RazorpayWebhooks(client, sandbox).deliver(events["payment.captured"]).status_code == 200
    run_pass(_services(keeping), requests.Session())

    assert db_rows("SELECT id FROM refunds") == []
    assert _refunds_at_razorpay(sandbox, double.late) == []
    flagged = client.get(f"{PAYMENTS}?needs_attention=true", headers=admin_headers)
    assert_conforms(flagged, PAYMENTS, 200)
    (payment,) = flagged.get_json()["items"]
    assert (payment["id"], payment["duplicate_of"]) == (double.late, double.paying)
    assert "REFUND_DUPLICATE_PAYMENTS" in payment["needs_attention"]
    trail = client.get("/v1/customers/asha@example.com/transactions", headers=admin_headers)
    assert_conforms(trail, TRAIL, 200)
    (entry,) = [
        e
        for e in trail.get_json()["entries"]
        if e["kind"] == "payment.captured" and e["payment_id"] == double.late
    ]
    assert entry["details"]["needs_attention"] == payment["needs_attention"]
    assert trail.get_json()["totals"] == [
        {"currency": "INR", "paid": 2 * PRICE, "refunded": 0, "refund_pending": 0, "net": 2 * PRICE}
    ]

    by_admin = client.post("/v1/refunds", json={"payment_id": double.late}, headers=admin_headers)

    assert by_admin.status_code == 201 and by_admin.get_json()["status"] == "processed"
    assert by_admin.get_json()["revoked_access"] is False
    _assert_one_sale(db_rows)
    assert (
        client.get(f"{PAYMENTS}?needs_attention=true", headers=admin_headers).get_json()["items"]
        == []
    )


def test_a_refund_razorpay_refuses_or_fails_leaves_the_duplicate_flagged_and_access_kept(
    app: Flask,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    shop_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    services = _services(app)
    refused = _double_pay(checkout, shop_site)
    webhooks.deliver(_late_events(webhooks, refused.late)["payment.captured"])
    decide_refunds(services.db, refund=True)
    _configure(sandbox, merchant_balance=100)

    assert refund_reserved(services.db, services.gateway) == 1

    assert db_rows("SELECT id FROM refunds") == []
    (payment,) = db_rows("SELECT needs_attention FROM payments WHERE id = %s", refused.late)
    assert "Razorpay refused" in payment["needs_attention"]
    assert refund_reserved(services.db, services.gateway) == 0

    _configure(sandbox, merchant_balance=10_000_000_00, refund_outcome="pending")
    failing = _double_pay(checkout, shop_site, product={"sku": "data-201", "name": "Data 201"})
    webhooks.deliver(_late_events(webhooks, failing.late)["payment.captured"])
    decide_refunds(services.db, refund=True)
    refund_reserved(services.db, services.gateway)
    (pending,) = _refunds_at_razorpay(sandbox, failing.late)
    requests.post(
        f"{sandbox.url}/_sandbox/refunds/{pending['id']}/settle",
        json={"status": "failed"},
        timeout=5,
    ).raise_for_status()
    (failed_event,) = [
        e for e in webhooks.events_for(pending["id"]) if e["event"] == "refund.failed"
    ]

    assert webhooks.deliver(failed_event).get_json()["status"] == "applied"

    assert db_rows("SELECT needs_attention FROM payments WHERE id = %s", failing.late) == [
        {"needs_attention": ATTENTION_DUPLICATE_REFUND_FAILED}
    ]
    assert db_rows("SELECT DISTINCT status FROM orders") == [{"status": "paid"}]
    assert db_rows("SELECT DISTINCT status FROM enrollments") == [{"status": "active"}]


def test_the_service_never_captures_a_second_authorized_payment_of_a_paid_order(
    make_app: Any,
    checkout: Checkout,
    shop_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    _configure(sandbox, auto_capture=False)
    capturing = make_app(capture_authorized_payments=True).test_client()
    double = _double_pay(checkout, shop_site)  # verify captured the paying payment
    assert _sdk(sandbox).payment.fetch(double.late)["status"] == "authorized"
    hooks = RazorpayWebhooks(capturing, sandbox)

    delivered = hooks.deliver(_late_events(hooks, double.late)["payment.authorized"])
    verified = checkout.verify(double.late_result)

    assert delivered.get_json()["status"] == "applied"
    assert verified.status_code == 400
    assert verified.get_json()["code"] == "payment_not_successful"
    assert "paid by another payment" in verified.get_json()["detail"]
    assert _sdk(sandbox).payment.fetch(double.late)["status"] == "authorized"
    assert db_rows("SELECT status, duplicate_of FROM payments WHERE id = %s", double.late) == [
        {"status": "authorized", "duplicate_of": None}
    ]
    assert db_rows("SELECT id FROM refunds") == []


def test_duplicates_are_refunded_unless_the_setting_says_false() -> None:
    admin = {"ADMIN_JWT_SECRET": "a" * 40}
    assert Settings.from_env(admin).refund_duplicate_payments is True
    for value, expected in (("false", False), ("0", False), ("true", True), ("yes", True)):
        env = {**admin, "REFUND_DUPLICATE_PAYMENTS": value}
        assert Settings.from_env(env).refund_duplicate_payments is expected
    with pytest.raises(ConfigurationError, match="REFUND_DUPLICATE_PAYMENTS"):
        Settings.from_env({**admin, "REFUND_DUPLICATE_PAYMENTS": "sometimes"})


def _all_at_once(calls: list[Any]) -> list[Any]:
    """Run the calls in threads released together; their results in order."""
    results: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        start.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _wait_for_refunds_at_razorpay(sandbox: Any, payment_id: str, count: int) -> None:
    """Poll until the slow sandbox has finished creating the refund we stopped waiting for."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if len(_refunds_at_razorpay(sandbox, payment_id)) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the sandbox never created the refund")


def test_the_worker_decides_each_duplicate_once_under_its_own_setting(
    app: Flask,
    make_app: Any,
    checkout: Checkout,
    shop_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    """Whichever app's channel marks a duplicate, the setting of the worker that first sees
    it decides: off leaves it flagged for good (a later worker with it on changes nothing),
    on refunds it."""
    keeping_app = make_app(refund_duplicate_payments=False)
    keeping = _services(keeping_app)
    hooks_of_keeping_app = RazorpayWebhooks(keeping_app.test_client(), sandbox)
    kept = _double_pay(checkout, shop_site)
    refunded = _double_pay(checkout, shop_site, product={"sku": "data-201", "name": "Data 201"})

    hooks_of_keeping_app.deliver(_late_events(hooks_of_keeping_app, kept.late)["payment.captured"])
    assert db_rows(
        "SELECT refund_undecided, needs_attention FROM payments WHERE id = %s", kept.late
    ) == [{"refund_undecided": True, "needs_attention": NOT_REFUNDED}]
    run_pass(keeping, requests.Session())
    hooks_of_keeping_app.deliver(
        _late_events(hooks_of_keeping_app, refunded.late)["payment.captured"]
    )
    run_pass(_services(app), requests.Session())
    run_pass(_services(app), requests.Session())

    assert _refunds_at_razorpay(sandbox, kept.late) == []
    (refund,) = _refunds_at_razorpay(sandbox, refunded.late)
    assert (refund["amount"], refund["status"]) == (PRICE, "processed")
    assert db_rows(
        "SELECT id, refund_undecided, needs_attention FROM payments WHERE id = ANY(%s) ORDER BY id",
        [kept.late, refunded.late],
    ) == sorted(
        [
            {"id": kept.late, "refund_undecided": False, "needs_attention": NOT_REFUNDED},
            {"id": refunded.late, "refund_undecided": False, "needs_attention": None},
        ],
        key=lambda row: row["id"],
    )
