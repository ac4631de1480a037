"""A subscription that ends while a paid period is running keeps access until that period
ends: Razorpay completes it at its LAST charge (the buyer has just paid for that cycle), and
a cancel at cycle end it reports before the cycle is over is still a cancel at cycle end.
The worker's sweep revokes the access once the service's clock passes the period's end. A
cancel now takes access at once, even after a cancel at cycle end was asked."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient

from payments_service.worker import run_pass
from tests.actions import Clock, SiteCredentials, use_clock
from tests.subscription_actions import Memberships, owns


def test_a_completed_subscription_keeps_access_until_its_last_paid_cycle_ends(
    app: Flask,
    clock: Clock,
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
    db_rows: Any,
) -> None:
    use_clock(app, clock)
    sub = memberships.subscribe(seller, plan, total_count=3)
    assert memberships.verify(seller, sub, memberships.pay(sub)).status_code == 200
    memberships.deliver_new(sub)
    for _ in range(2):  # the second and the third (last) cycle are charged
        memberships.advance(to=_at(memberships.fetch(seller.headers, sub)["charge_at"]))
        delivered = memberships.deliver_new(sub)
    assert "subscription.completed:applied" in delivered

    completed = memberships.fetch(seller.headers, sub)
    assert (completed["status"], completed["paid_count"]) == ("completed", 3)
    assert completed["access_until"] == completed["current_end"]
    assert completed["access"]["granted"] is True
    assert owns(client, seller) and owns(client, other_site)
    paid_until = datetime.fromisoformat(completed["access_until"])

    clock.now = paid_until - timedelta(minutes=1)  # the last paid cycle is still running
    _worker_pass(app)
    assert owns(client, seller) and owns(client, other_site)

    memberships.advance(to=_at(completed["access_until"]))  # Razorpay has nothing more to say
    assert memberships.deliver_new(sub) == []
    clock.now = paid_until
    _worker_pass(app)

    ended = memberships.fetch(seller.headers, sub)
    assert (ended["status"], ended["access"]["granted"]) == ("completed", False)
    assert not owns(client, seller) and not owns(client, other_site)
    revoked = db_rows("SELECT revoked_by, revoke_reason FROM enrollments WHERE status = 'revoked'")
    assert revoked == [
        {"revoked_by": "reconcile", "revoke_reason": "subscription completed, paid period ended"}
    ]
    _worker_pass(app)  # a later pass finds nothing left to revoke
    assert _revoked_notifications(db_rows) == {"new-site": 1, "old-site": 1}


def test_a_cancel_at_cycle_end_reported_early_keeps_access_until_the_cycle_ends(
    app: Flask,
    clock: Clock,
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
) -> None:
    use_clock(app, clock)
    sub = memberships.buy(seller, plan)
    memberships.deliver_new(sub)
    assert memberships.post(seller.headers, sub, "cancel", at_cycle_end=True).status_code == 200
    entity = memberships.razorpay_entity(sub)

    # Razorpay says cancelled a day before the paid cycle's end.
    early = {**entity, "status": "cancelled", "charge_at": None}
    early["ended_at"] = int(entity["current_end"]) - 86_400
    answer = _deliver_signed(client, "subscription.cancelled", early)

    assert answer.status_code == 200, answer.get_json()
    cancelled = memberships.fetch(seller.headers, sub)
    assert cancelled["status"] == "cancelled"
    assert cancelled["access_until"] == cancelled["current_end"]
    assert owns(client, other_site)

    clock.now = datetime.fromisoformat(cancelled["current_end"])
    _worker_pass(app)

    assert not owns(client, other_site) and not owns(client, seller)


def test_a_cancel_now_after_a_cancel_at_cycle_end_takes_access_at_once(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
) -> None:
    sub = memberships.buy(seller, plan)
    assert memberships.post(seller.headers, sub, "cancel", at_cycle_end=True).status_code == 200

    now = memberships.post(seller.headers, sub, "cancel")

    assert now.status_code == 200, now.get_json()
    cancelled = now.get_json()
    assert (cancelled["status"], cancelled["access_until"]) == ("cancelled", None)
    assert cancelled["access"]["granted"] is False
    assert not owns(client, other_site)
    # Razorpay's own reports of it change nothing.
    assert memberships.deliver_new(sub)[-1] == "subscription.cancelled:applied"
    assert not owns(client, other_site)


def _worker_pass(app: Flask) -> None:
    with requests.Session() as session:
        run_pass(app.extensions["payments_service"], session)


def _revoked_notifications(db_rows: Any) -> dict[str, int]:
    rows = db_rows(
        """SELECT site_id, count(*) AS n FROM notifications
            WHERE event_type = 'enrollment.revoked' GROUP BY site_id"""
    )
    return {row["site_id"]: row["n"] for row in rows}


def _deliver_signed(client: FlaskClient, event: str, entity: dict[str, Any]) -> Any:
    """A webhook as Razorpay would sign it, about ``entity``."""
    body = json.dumps(
        {
            "entity": "event",
            "account_id": "acc_sandbox0000001",
            "event": event,
            "contains": ["subscription"],
            "payload": {"subscription": {"entity": entity}},
            "created_at": entity["ended_at"],
        }
    ).encode()
    signature = hmac.new(b"sandbox_webhook_secret", body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": signature,
        "X-Razorpay-Event-Id": f"evt_early{entity['id'][-9:]}",
    }
    return client.post("/v1/webhooks/razorpay", data=body, headers=headers)


def _at(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())
