"""Whatever order Razorpay's reports of a subscription arrive in, and however often, they
leave one state, one enrollment and one payment row per charge; the worker's sweep heals a
subscription whose webhooks never came."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from payments_service.services import EXTENSION_KEY
from payments_service.subscriptions import heal_subscriptions
from tests.actions import SiteCredentials
from tests.subscription_actions import Memberships, owns


def _counts(db_rows: Any) -> tuple[int, int, int]:
    """(payment rows, enrollments, subscription.charged notifications)."""
    payments = db_rows("SELECT id FROM payments")
    enrollments = db_rows("SELECT id FROM enrollments")
    charged = db_rows("SELECT id FROM notifications WHERE event_type = 'subscription.charged'")
    return len(payments), len(enrollments), len(charged)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_shuffled_and_duplicated_events_give_one_state_and_one_enrollment(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
    db_rows: Any,
    seed: int,
) -> None:
    sub = memberships.subscribe(seller, plan)
    memberships.pay(sub)  # ... and the site never verifies
    memberships.advance(to=_at(memberships.razorpay_entity(sub)["charge_at"]))
    events = memberships.about(sub, memberships.new_events())
    assert len(events) == 8  # authenticated, activated, 2 x (charged, invoice.paid, captured)
    deliveries = events * 3
    random.Random(seed).shuffle(deliveries)

    statuses = memberships.deliver(deliveries)

    assert set(statuses) <= {"applied", "duplicate", "unmatched"}
    now = memberships.fetch(seller.headers, sub)
    assert (now["status"], now["paid_count"], now["access"]["granted"]) == ("active", 2, True)
    assert [c["status"] for c in now["charges"]] == ["paid", "paid"]
    assert _counts(db_rows) == (2, 1, 2)
    assert owns(client, other_site)


def test_charged_before_activated_and_three_deliveries_of_a_charge_count_it_once(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    db_rows: Any,
) -> None:
    sub = memberships.subscribe(seller, plan)
    memberships.pay(sub)
    by_name = {e["event"]: e for e in memberships.about(sub, memberships.new_events())}
    charged = by_name["subscription.charged"]

    first = memberships.deliver([charged, charged, charged])
    rest = memberships.deliver(
        [by_name["subscription.activated"], by_name["subscription.authenticated"]]
    )

    assert first == ["applied", "duplicate", "duplicate"]
    assert rest == ["applied", "applied"]
    now = memberships.fetch(seller.headers, sub)
    assert (now["status"], now["paid_count"]) == ("active", 1)
    assert _counts(db_rows) == (1, 1, 1)


def test_the_worker_sweep_applies_a_subscription_whose_webhooks_never_came(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
    app: Flask,
    db_rows: Any,
) -> None:
    sub = memberships.subscribe(seller, plan)
    memberships.pay(sub)  # no verify, no webhook
    memberships.charges_fail(sub)
    memberships.advance(to=_at(memberships.razorpay_entity(sub)["charge_at"]))
    assert memberships.fetch(seller.headers, sub)["status"] == "created"
    services = app.extensions[EXTENSION_KEY]

    report = heal_subscriptions(
        services.db, services.gateway, timedelta(0), services.clock, during_pending=True
    )

    assert (report.checked, report.updated, report.errors) == (1, 1, 0)
    now = memberships.fetch(seller.headers, sub)
    assert (now["status"], now["paid_count"], now["changed_by"]) == ("pending", 1, "reconcile")
    assert [c["status"] for c in now["charges"]] == ["paid", "attempted"]
    assert owns(client, other_site)
    failed = db_rows("SELECT id FROM payments WHERE status = 'failed'")
    assert len(failed) == 1
    # A second pass within the hour leaves it to the webhooks.
    again = heal_subscriptions(
        services.db, services.gateway, timedelta(0), services.clock, during_pending=True
    )
    assert again.checked == 0


def _at(value: int | str) -> int:
    return value if isinstance(value, int) else int(datetime.fromisoformat(value).timestamp())


def test_reconcile_of_a_window_applies_the_charges_of_our_subscriptions(
    memberships: Memberships,
    plan: dict[str, Any],
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: FlaskClient,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    sub = memberships.subscribe(seller, plan)
    memberships.pay(sub)  # no verify, no webhook
    now = datetime.now(UTC)
    window = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }

    first = client.post("/v1/reconcile", json=window, headers=admin_headers)
    again = client.post("/v1/reconcile", json=window, headers=admin_headers)

    assert first.status_code == 200, first.get_json()
    assert first.get_json()["updated"] == 1
    assert again.get_json()["updated"] == 0
    now_sub = memberships.fetch(seller.headers, sub)
    assert (now_sub["status"], now_sub["paid_count"], now_sub["changed_by"]) == (
        "active",
        1,
        "reconcile",
    )
    assert _counts(db_rows) == (1, 1, 1)
    assert owns(client, other_site)
