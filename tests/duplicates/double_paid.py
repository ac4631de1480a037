"""A late second payment on an order already paid, made on the sandbox, and the checks that
it was refunded once and sold once."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import razorpay
import requests
from flask import Flask

from payments_service.refunds import (
    REQUESTER,
)
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials

PRICE = 49900


@dataclass(frozen=True)
class DoublePaid:
    """An order paid by ``paying``, then captured again by ``late`` (authorised late)."""

    order: dict[str, Any]
    paying: str
    late: str
    late_result: dict[str, Any]  # what Checkout would have handed the page for ``late``


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
