"""Access follows billing: a membership bought on one site is owned on every site; a
failed charge keeps access while Razorpay retries (by default), a halt takes it, a
successful retry gives it back, and a cancel at cycle end keeps it to the period's end."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.actions import SiteCredentials
from tests.subscriptions.conftest import Memberships, owns


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
