"""Two tabs, two orders of one product, both paid: how the tests make them and read what
became of each."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import psycopg
import requests

from payments_service.refunds import REQUESTER
from tests.actions import Checkout, SiteCredentials
from tests.contract.openapi import (
    SITE_NOTIFICATION,
    TRAIL,
    assert_conforms,
    schema_errors,
)
from tests.duplicates.double_paid import _refunds_at_razorpay

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
