"""A full refund revokes access in the name of whoever asked for it (the refund's requester),
whichever report settles it first: the POST /v1/refunds answer, the refund webhook,
reconciliation or the worker. The enrollment and the customer's money trail agree."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import razorpay
import requests

from payments_service.refunds import resolve_requested_refunds
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials
from tests.contract.openapi import window_around_now
from tests.test_refunds import _wait_for_refunds_at_razorpay


def _configure(sandbox: Any, **changes: Any) -> None:
    requests.patch(f"{sandbox.url}/_sandbox/config", json=changes, timeout=5).raise_for_status()


def _revoked(db_rows: Any) -> dict[str, Any]:
    (row,) = db_rows("SELECT status, revoked_by, revoke_reason FROM enrollments")
    assert row["status"] == "revoked"
    return dict(row)


def _trail_revoke(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    answer = client.get("/v1/customers/asha@example.com/transactions", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    (revoke,) = [e for e in answer.get_json()["entries"] if e["kind"] == "enrollment.revoked"]
    return dict(revoke["details"])


def test_an_admin_refund_whose_webhook_lands_before_the_api_answer_revokes_as_the_admin(
    request: pytest.FixtureRequest,
    client: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    order = checkout.buy(new_site)
    request.getfixturevalue("sync_webhooks")  # refund.processed arrives during the API call

    answer = checkout.refund(admin_headers, order_id=order["id"], reason="course cancelled")

    assert answer.status_code == 201 and answer.get_json()["revoked_access"] is True
    webhook = db_rows("SELECT status FROM razorpay_events WHERE event_type = 'refund.processed'")
    assert webhook == [{"status": "applied"}]
    revoked = _revoked(db_rows)
    assert revoked["revoked_by"] == "admin:tester"
    assert "at the request of admin:tester" in revoked["revoke_reason"]
    assert _trail_revoke(client, admin_headers) == {
        "by": "admin:tester",
        "reason": revoked["revoke_reason"],
    }


def test_an_admin_refund_whose_webhook_lands_after_the_api_answer_revokes_as_the_admin(
    client: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    order = checkout.buy(new_site)
    answer = checkout.refund(admin_headers, order_id=order["id"], reason="course cancelled")
    rfnd = answer.get_json()["razorpay_refund_id"]
    (processed,) = [e for e in webhooks.events_for(rfnd) if e["event"] == "refund.processed"]

    assert webhooks.deliver(processed).get_json()["status"] == "applied"

    revoked = _revoked(db_rows)
    assert revoked["revoked_by"] == "admin:tester"
    assert "at the request of admin:tester" in revoked["revoke_reason"]
    assert _trail_revoke(client, admin_headers)["by"] == "admin:tester"


@pytest.mark.parametrize("settler", ["worker", "reconcile"])
def test_a_refund_whose_answer_was_lost_revokes_as_its_requester_when_settled_later(
    app: Any,
    make_app: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    sandbox: Any,
    db_rows: Any,
    settler: str,
) -> None:
    order = checkout.buy(new_site)
    impatient = make_app(razorpay_timeout_seconds=0.3).test_client()
    _configure(sandbox, latency_ms=800)
    lost = impatient.post("/v1/refunds", json={"order_id": order["id"]}, headers=new_site.headers)
    assert lost.status_code == 503
    _wait_for_refunds_at_razorpay(sandbox, order["payment_id"], 1)
    _configure(sandbox, latency_ms=0)

    if settler == "worker":
        services = app.extensions["payments_service"]
        assert resolve_requested_refunds(services.db, services.gateway, timedelta(0)) == 1
    else:
        healed = app.test_client().post(
            "/v1/reconcile", json=window_around_now(), headers=admin_headers
        )
        assert healed.status_code == 200, healed.get_json()

    assert db_rows("SELECT status FROM refunds") == [{"status": "processed"}]
    revoked = _revoked(db_rows)
    assert revoked["revoked_by"] == "site:new-site"
    assert "at the request of site:new-site" in revoked["revoke_reason"]


def test_a_refund_made_outside_the_service_revokes_as_razorpay_naming_how_it_was_learnt(
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    order = checkout.buy(new_site)
    sdk = razorpay.Client(
        auth=(sandbox.config.key_id, sandbox.config.key_secret), base_url=sandbox.url
    )
    refund = sdk.payment.refund(order["payment_id"], {"amount": 49900})
    (processed,) = [
        e for e in webhooks.events_for(refund["id"]) if e["event"] == "refund.processed"
    ]

    assert webhooks.deliver(processed).get_json()["status"] == "applied"

    revoked = _revoked(db_rows)
    assert revoked["revoked_by"] == "razorpay"
    assert "outside this service" in revoked["revoke_reason"]
    assert "via webhook" in revoked["revoke_reason"]
