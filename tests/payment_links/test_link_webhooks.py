"""Razorpay's webhooks for payment links: a buyer who closes the tab still gets access,
whichever report comes first it counts once, and a link that expires or is cancelled
grants nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from payments_service.sandbox import SandboxConfig, start_background
from tests.actions import (
    PaymentLinks,
    RazorpayWebhooks,
    SiteCredentials,
    order_counts,
    register_site,
)
from tests.contract.openapi import event_body, webhook_signature

LINK_EVENTS = ["payment.authorized", "payment.captured", "order.paid", "payment_link.paid"]


def _link_events(webhooks: RazorpayWebhooks, order_id: str) -> list[dict[str, Any]]:
    """What the sandbox sent about the link of our order ``order_id``, oldest first (the
    payment events carry it in their notes, the link events as the reference id)."""
    return webhooks.events_for(order_id)


def test_the_webhooks_alone_give_access_to_a_buyer_who_closed_the_tab(
    links: PaymentLinks,
    webhooks: RazorpayWebhooks,
    seller: SiteCredentials,
    other_site: SiteCredentials,
    client: Any,
    db_rows: Any,
) -> None:
    link = links.create(seller.headers)
    links.pay(link)  # ... and the buyer never comes back
    events = _link_events(webhooks, link["order_id"])
    assert [e["event"] for e in events] == LINK_EVENTS

    outcomes = [webhooks.deliver(event).get_json()["status"] for event in events]

    assert outcomes == ["applied"] * 4
    assert order_counts(db_rows, link["order_id"]) == (1, 1, 2)
    fetched = client.get(f"/v1/payment-links/{link['id']}", headers=seller.headers).get_json()
    assert (fetched["status"], fetched["order_status"]) == ("paid", "paid")
    (enrollment,) = db_rows("SELECT granted_by FROM enrollments")
    assert enrollment["granted_by"] == "webhook"


@pytest.mark.parametrize("callback_first", [True, False], ids=["callback-first", "webhooks-first"])
def test_the_callback_and_the_webhooks_in_either_order_count_the_payment_once(
    links: PaymentLinks,
    webhooks: RazorpayWebhooks,
    seller: SiteCredentials,
    other_site: SiteCredentials,
    db_rows: Any,
    callback_first: bool,
) -> None:
    link = links.create(seller.headers)
    params = links.pay(link)
    events = _link_events(webhooks, link["order_id"])

    if callback_first:
        assert links.come_back(params).status_code == 303
    for event in events:
        assert webhooks.deliver(event).status_code == 200
    if not callback_first:
        answer = links.come_back(params)
        assert answer.status_code == 303 and "status=paid" in answer.headers["Location"]

    assert order_counts(db_rows, link["order_id"]) == (1, 1, 2)
    assert len(db_rows("SELECT id FROM notifications WHERE event_type = 'order.paid'")) == 1


def test_only_the_link_event_arriving_still_pays_and_redelivery_is_a_duplicate(
    links: PaymentLinks, webhooks: RazorpayWebhooks, seller: SiteCredentials, db_rows: Any
) -> None:
    link = links.create(seller.headers)
    links.pay(link)
    (paid,) = [
        e for e in _link_events(webhooks, link["order_id"]) if e["event"] == "payment_link.paid"
    ]

    first = webhooks.deliver(paid)
    again = webhooks.deliver(paid)

    assert first.get_json()["status"] == "applied"
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert order_counts(db_rows, link["order_id"]) == (1, 1, 1)
    (order,) = db_rows("SELECT status, razorpay_order_id FROM orders")
    assert order["status"] == "paid" and order["razorpay_order_id"].startswith("order_")


def test_a_paid_event_for_a_link_we_never_made_is_stored_unmatched(
    client: Any, db_rows: Any
) -> None:
    link = {"id": "plink_Stranger0000001", "status": "paid", "reference_id": "", "amount": 100}
    payment = {
        "id": "pay_Stranger000001",
        "order_id": "order_Stranger00001",
        "amount": 100,
        "currency": "INR",
        "status": "captured",
        "created_at": 1700000000,
        "notes": [],
    }
    body = event_body("payment_link.paid", payment_link=link, payment=payment)
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": webhook_signature(body),
        "X-Razorpay-Event-Id": "evt_Stranger01",
    }

    answer = client.post("/v1/webhooks/razorpay", data=body, headers=headers)

    assert answer.status_code == 200 and answer.get_json()["status"] == "unmatched"
    (stored,) = db_rows("SELECT event_type, status FROM razorpay_events")
    assert stored == {"event_type": "payment_link.paid", "status": "unmatched"}
    assert db_rows("SELECT id FROM payments") == []


def test_a_cancelled_link_cancels_its_order_and_grants_nothing(
    links: PaymentLinks,
    webhooks: RazorpayWebhooks,
    seller: SiteCredentials,
    client: Any,
    db_rows: Any,
) -> None:
    link = links.create(seller.headers)

    answer = client.post(f"/v1/payment-links/{link['id']}/cancel", headers=seller.headers)
    again = client.post(f"/v1/payment-links/{link['id']}/cancel", headers=seller.headers)
    (event,) = _link_events(webhooks, link["order_id"])
    delivered = webhooks.deliver(event)

    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["status"], body["order_status"]) == ("cancelled", "cancelled")
    assert body["cancelled_at"] is not None
    assert again.status_code == 200 and again.get_json()["cancelled_at"] == body["cancelled_at"]
    assert event["event"] == "payment_link.cancelled"
    assert delivered.get_json()["status"] == "applied"
    assert db_rows("SELECT id FROM enrollments") == []
    paying = requests.post(
        f"{links.sandbox.url}/_sandbox/payment_links/{link['id']}/pay",
        json={"outcome": "success"},
        timeout=10,
    )
    assert paying.status_code == 400  # the hosted page takes no payment any more


def test_a_paid_link_cannot_be_cancelled(
    links: PaymentLinks, seller: SiteCredentials, client: Any, db_rows: Any
) -> None:
    link = links.create(seller.headers)
    links.come_back(links.pay(link))

    answer = client.post(f"/v1/payment-links/{link['id']}/cancel", headers=seller.headers)

    assert answer.status_code == 409 and answer.get_json()["code"] == "conflict"
    assert db_rows("SELECT status FROM payment_links") == [{"status": "paid"}]


def test_the_cancel_event_alone_ends_the_link(
    links: PaymentLinks, webhooks: RazorpayWebhooks, seller: SiteCredentials, db_rows: Any
) -> None:
    # Cancelled on Razorpay's dashboard: only the webhook tells us.
    link = links.create(seller.headers)
    sdk_cancel = requests.post(
        f"{links.sandbox.url}/v1/payment_links/{link['id']}/cancel",
        json={},
        auth=(links.sandbox.config.key_id, links.sandbox.config.key_secret),
        timeout=10,
    )
    assert sdk_cancel.status_code == 200
    (event,) = _link_events(webhooks, link["order_id"])

    assert webhooks.deliver(event).get_json()["status"] == "applied"

    assert db_rows("SELECT status FROM payment_links") == [{"status": "cancelled"}]
    assert db_rows("SELECT status FROM orders") == [{"status": "cancelled"}]


def test_an_expired_link_expires_its_order_and_grants_nothing(make_app: Any, db_rows: Any) -> None:
    # A sandbox of its own: its clock is moved past the link's expiry, and never goes back.
    sandbox = start_background(SandboxConfig(webhook_delivery="off"))
    try:
        app = make_app(razorpay_api_base_url=sandbox.url)
        seller = register_site(app, "new-site", "http://new.localhost:8022")
        client = app.test_client()
        links, webhooks = PaymentLinks(client, sandbox), RazorpayWebhooks(client, sandbox)
        soon = datetime.now(UTC) + timedelta(minutes=20)
        link = links.create(seller.headers, expire_by=soon.isoformat())
        links.advance_sandbox_clock(21 * 60)
        (event,) = webhooks.events_for(link["order_id"])

        delivered = webhooks.deliver(event)

        fetched = client.get(f"/v1/payment-links/{link['id']}", headers=seller.headers).get_json()
    finally:
        sandbox.stop()
    assert event["event"] == "payment_link.expired"
    assert delivered.get_json()["status"] == "applied"
    assert db_rows("SELECT status, expired_at IS NOT NULL AS stamped FROM payment_links") == [
        {"status": "expired", "stamped": True}
    ]
    assert db_rows("SELECT status FROM orders") == [{"status": "expired"}]
    assert db_rows("SELECT id FROM enrollments") == []
    assert (fetched["status"], fetched["order_status"]) == ("expired", "expired")


def test_a_link_event_whose_payment_is_of_another_order_is_stored_unmatched(
    links: PaymentLinks, seller: SiteCredentials, client: Any, db_rows: Any
) -> None:
    link = links.create(seller.headers)
    links.come_back(links.pay(link))  # we now know the link's Razorpay order
    before = db_rows("SELECT id, status, amount_paid, razorpay_order_id FROM orders")
    payment = {
        "id": "pay_Elsewhere00001",
        "order_id": "order_Elsewhere0001",
        "amount": 49900,
        "currency": "INR",
        "status": "captured",
        "created_at": 1700000000,
        "notes": {"order_ref": link["order_id"]},
    }
    body = event_body(
        "payment_link.paid", payment_link={"id": link["id"], "status": "paid"}, payment=payment
    )
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": webhook_signature(body),
        "X-Razorpay-Event-Id": "evt_Elsewhere01",
    }

    answer = client.post("/v1/webhooks/razorpay", data=body, headers=headers)

    assert answer.status_code == 200 and answer.get_json()["status"] == "unmatched"
    assert db_rows("SELECT id, status, amount_paid, razorpay_order_id FROM orders") == before
    assert db_rows("SELECT id FROM payments WHERE id = 'pay_Elsewhere00001'") == []


def test_a_buyer_who_owns_the_course_paying_a_link_gets_no_second_enrollment(
    links: PaymentLinks, seller: SiteCredentials, db_rows: Any
) -> None:
    first, second = links.create(seller.headers), links.create(seller.headers)
    links.come_back(links.pay(first))

    answer = links.come_back(links.pay(second))

    assert answer.status_code == 303
    assert len(db_rows("SELECT id FROM enrollments WHERE status = 'active'")) == 1
    (duplicate,) = db_rows(
        "SELECT duplicate_of_enrollment FROM payments WHERE order_id = %s", second["order_id"]
    )
    assert duplicate["duplicate_of_enrollment"] is not None
