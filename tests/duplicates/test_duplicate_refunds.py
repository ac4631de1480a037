"""The worker refunds a duplicate payment once through Razorpay with X-Refund-Idempotency (a
lost answer asked again with the same key), or leaves it flagged when REFUND_DUPLICATE_PAYMENTS
is off or Razorpay refuses; the service never captures a second authorized payment."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from flask import Flask

from payments_service.errors import ConfigurationError
from payments_service.payments import NOT_REFUNDED
from payments_service.refunds import (
    ATTENTION_DUPLICATE_REFUND_FAILED,
    decide_refunds,
    refund_reserved,
)
from payments_service.settings import Settings
from payments_service.worker import run_pass
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials
from tests.contract.openapi import PAYMENTS, TRAIL, assert_conforms
from tests.duplicates.double_paid import (
    PRICE,
    _assert_one_sale,
    _assert_refunded_once,
    _configure,
    _double_pay,
    _late_events,
    _refunds_at_razorpay,
    _sdk,
    _services,
    _wait_for_refunds_at_razorpay,
)


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
