"""Access follows billing: a membership bought on one site is owned on every site; a
failed charge keeps access while Razorpay retries (by default), a halt takes it, a
successful retry gives it back, and a cancel at cycle end keeps it to the period's end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from tests.actions import SiteCredentials
from tests.subscription_actions import Memberships, owns


def test_a_membership_bought_on_one_site_is_owned_on_the_other(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
    db_rows: Any,
) -> None:
    assert not owns(client, other_site)

    sub = memberships.buy(seller, plan)

    assert (sub["status"], sub["paid_count"], sub["access"]["granted"]) == ("active", 1, True)
    assert owns(client, other_site) and owns(client, seller)
    (charge,) = sub["charges"]
    assert (charge["status"], charge["amount_paid"]) == ("paid", 29900)
    (payment,) = db_rows(
        "SELECT status, amount FROM payments WHERE order_id = %s", charge["order_id"]
    )
    assert (payment["status"], payment["amount"]) == ("captured", 29900)


def test_a_failed_charge_keeps_access_a_halt_takes_it_and_a_successful_retry_gives_it_back(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
    db_rows: Any,
) -> None:
    sub = memberships.buy(seller, plan)
    memberships.deliver_new(sub)
    memberships.charges_fail(sub)

    memberships.advance(to=_at(sub["charge_at"]))
    delivered = memberships.deliver_new(sub)

    assert delivered == ["subscription.pending:applied", "payment.failed:unmatched"]
    pending = memberships.fetch(seller.headers, sub)
    assert (pending["status"], pending["auth_attempts"]) == ("pending", 1)
    assert owns(client, other_site)  # Razorpay is still retrying

    memberships.advance(days=3)
    memberships.deliver_new(sub)

    halted = memberships.fetch(seller.headers, sub)
    assert (halted["status"], halted["access"]["granted"]) == ("halted", False)
    assert not owns(client, other_site)
    revoked = db_rows("SELECT revoked_by, revoke_reason FROM enrollments WHERE status = 'revoked'")
    assert revoked == [{"revoked_by": "webhook", "revoke_reason": "subscription halted"}]

    memberships.charge_now(sub, "success")  # the customer's new card, charged at once
    memberships.deliver_new(sub)

    back = memberships.fetch(seller.headers, sub)
    assert (back["status"], back["paid_count"], back["access"]["granted"]) == ("active", 2, True)
    assert owns(client, other_site)
    assert [c["status"] for c in back["charges"]] == ["paid", "paid"]
    notified = db_rows(
        """SELECT event_type, count(*) AS n FROM notifications
            WHERE site_id = 'new-site' GROUP BY event_type"""
    )
    assert {row["event_type"]: row["n"] for row in notified} == {
        "subscription.activated": 2,  # bought, and back from halted
        "subscription.charged": 2,
        "subscription.halted": 1,
        "enrollment.granted": 2,
        "enrollment.revoked": 1,
    }


def test_without_access_during_pending_the_first_failed_charge_takes_access(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    make_app: Any,
) -> None:
    strict = make_app(subscription_access_during_pending=False).test_client()
    memberships.client = memberships.hooks.client = strict
    sub = memberships.buy(seller, plan)
    memberships.deliver_new(sub)
    memberships.charges_fail(sub)

    memberships.advance(to=_at(sub["charge_at"]))
    memberships.deliver_new(sub)

    assert memberships.fetch(seller.headers, sub)["status"] == "pending"
    assert not owns(strict, other_site)

    memberships.charge_now(sub, "success")
    memberships.deliver_new(sub)

    assert owns(strict, other_site)


def _at(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def test_a_trial_is_access_without_a_charge_until_billing_starts(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
    db_rows: Any,
) -> None:
    start = datetime.now(UTC) + timedelta(days=7)
    sub = memberships.subscribe(seller, plan, start_at=start.isoformat())

    trial = memberships.verify(seller, sub, memberships.pay(sub)).get_json()

    # Razorpay's refunded token payment authenticates the mandate: no charge of ours.
    assert (trial["status"], trial["paid_count"], trial["charges"]) == ("authenticated", 0, [])
    assert owns(client, other_site)
    assert db_rows("SELECT id FROM payments") == []

    memberships.advance(to=int(start.timestamp()))
    memberships.deliver_new(sub)

    billed = memberships.fetch(seller.headers, sub)
    assert (billed["status"], billed["paid_count"]) == ("active", 1)
    assert [c["amount_paid"] for c in billed["charges"]] == [29900]
