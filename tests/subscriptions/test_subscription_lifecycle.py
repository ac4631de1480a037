"""The seller's actions and the money: cancel now or at the cycle's end, pause and resume
(each with its actor recorded), a refund of one month through POST /v1/refunds, and every
month in the customer's money trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask.testing import FlaskClient

from tests.actions import SiteCredentials
from tests.subscription_actions import CUSTOMER, Memberships, owns


def test_a_cancel_at_cycle_end_keeps_access_until_the_paid_period_ends(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
) -> None:
    sub = memberships.buy(seller, plan)
    memberships.deliver_new(sub)

    answer = memberships.post(seller.headers, sub, "cancel", at_cycle_end=True)

    assert answer.status_code == 200, answer.get_json()
    cancelling = answer.get_json()
    assert (cancelling["status"], cancelling["cancel_at_cycle_end"]) == ("active", True)
    assert cancelling["history"][-1]["actor"] == "site:new-site"
    assert owns(client, other_site)

    memberships.advance(to=_at(sub["current_end"]) - 60)
    assert memberships.deliver_new(sub) == []
    assert owns(client, other_site)

    memberships.advance(to=_at(sub["current_end"]))
    assert memberships.deliver_new(sub) == ["subscription.cancelled:applied"]

    ended = memberships.fetch(seller.headers, sub)
    assert (ended["status"], ended["access"]["granted"], ended["paid_count"]) == (
        "cancelled",
        False,
        1,
    )
    assert not owns(client, other_site)


def test_a_cancel_now_by_an_admin_takes_access_at_once_and_names_the_admin(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
    admin_headers: dict[str, str],
) -> None:
    sub = memberships.buy(seller, plan)

    cancelled = memberships.post(admin_headers, sub, "cancel").get_json()

    assert (cancelled["status"], cancelled["access"]["granted"]) == ("cancelled", False)
    assert cancelled["changed_by"] == "admin:tester"
    assert [(h["from_status"], h["to_status"], h["actor"]) for h in cancelled["history"]][-1] == (
        "active",
        "cancelled",
        "admin:tester",
    )
    assert not owns(client, other_site)
    # Razorpay's own report of it changes nothing more.
    assert memberships.deliver_new(sub)[-1] == "subscription.cancelled:applied"
    assert memberships.fetch(admin_headers, sub)["history"] == cancelled["history"]
    # The selling site is told an admin did it, not which one.
    assert memberships.fetch(seller.headers, sub)["history"][-1]["actor"] == "admin"


def test_pause_takes_access_and_resume_gives_it_back(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
) -> None:
    sub = memberships.buy(seller, plan)

    paused = memberships.post(seller.headers, sub, "pause").get_json()
    assert (paused["status"], paused["access"]["granted"]) == ("paused", False)
    assert not owns(client, other_site)

    resumed = memberships.post(seller.headers, sub, "resume").get_json()
    assert (resumed["status"], resumed["access"]["granted"]) == ("active", True)
    assert owns(client, other_site)
    assert [h["to_status"] for h in resumed["history"]] == ["created", "active", "paused", "active"]
    assert memberships.post(seller.headers, sub, "resume").status_code == 409


def test_a_refund_of_one_month_shows_in_the_money_trail_and_leaves_access(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    sub = memberships.buy(seller, plan)
    memberships.deliver_new(sub)
    memberships.advance(to=_at(sub["charge_at"]))  # the second month is charged
    memberships.deliver_new(sub)
    first, second = memberships.fetch(seller.headers, sub)["charges"]
    (payment,) = db_rows("SELECT id FROM payments WHERE order_id = %s", second["order_id"])
    headers = {**seller.headers, "Idempotency-Key": "refund-month-2"}

    refunds = [
        client.post(
            "/v1/refunds", json={"payment_id": payment["id"], "amount": 10000}, headers=headers
        )
        for _ in range(2)
    ]
    too_much = client.post(
        "/v1/refunds",
        json={"payment_id": payment["id"], "amount": 29900},
        headers={**seller.headers, "Idempotency-Key": "refund-month-2-again"},
    )

    assert [r.status_code for r in refunds] == [201, 200]
    assert refunds[0].get_json()["id"] == refunds[1].get_json()["id"]
    assert too_much.status_code == 409, too_much.get_json()  # the bounds of any refund
    charges = memberships.fetch(seller.headers, sub)["charges"]
    assert [(c["status"], c["amount_refunded"]) for c in charges] == [
        ("paid", 0),
        ("partially_refunded", 10000),
    ]
    assert owns(client, other_site)  # a refund of a month is money back, not a cancel
    trail = client.get(f"/v1/customers/{CUSTOMER}/transactions", headers=admin_headers).get_json()
    kinds = [(e["kind"], e["order_id"]) for e in trail["entries"]]
    for month in (first, second):
        assert ("order.created", month["order_id"]) in kinds
        assert ("payment.captured", month["order_id"]) in kinds
    assert ("refund.requested", second["order_id"]) in kinds
    (granted,) = [e for e in trail["entries"] if e["kind"] == "enrollment.granted"]
    assert granted["details"]["source"] == "subscription"


def _at(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())
