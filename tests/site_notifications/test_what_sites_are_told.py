"""What sites are told: a purchase to its site that it was paid and to every site that the
customer owns it (each with its own user id); a failed payment to its site only."""

from __future__ import annotations

import json
from typing import Any

from tests.actions import Checkout, SiteCredentials
from tests.site_notifications.receiving import Receiver, _verify_signature


def test_a_purchase_tells_its_site_it_was_paid_and_every_site_who_owns_it(
    checkout: Checkout,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    deliver: Any,
    db_rows: Any,
) -> None:
    order = checkout.buy(sites["new-site"])

    report = deliver()

    assert report.delivered == 3
    to_new = receiver.bodies("/new-site")
    to_old = receiver.bodies("/old-site")
    assert sorted(b["type"] for b in to_new) == ["enrollment.granted", "order.paid"]
    assert [b["type"] for b in to_old] == ["enrollment.granted"]
    granted = to_old[0]["data"]["enrollment"]
    assert (granted["customer_email"], granted["sku"]) == ("asha@example.com", "python-101")
    paid = next(b for b in to_new if b["type"] == "order.paid")
    assert paid["data"]["order"]["id"] == order["id"]
    assert paid["data"]["order"]["site_user_id"] == "u-42"
    for record in receiver.received:
        site = sites[record["path"].strip("/")]
        assert _verify_signature(site.callback_secret, record)
        assert record["headers"]["X-Payments-Event-Id"] == json.loads(record["body"])["id"]
    assert db_rows("SELECT DISTINCT status FROM notifications") == [{"status": "delivered"}]


def test_each_site_hears_its_own_user_id_for_the_customer(
    checkout: Checkout, sites: dict[str, SiteCredentials], receiver: Receiver, deliver: Any
) -> None:
    checkout.create_order(
        sites["old-site"], customer={"email": "asha@example.com", "site_user_id": "legacy-7"}
    )
    checkout.buy(sites["new-site"])
    deliver()
    granted = {
        r["path"]: json.loads(r["body"])["data"]["site_user_id"]
        for r in receiver.received
        if b"enrollment.granted" in r["body"]
    }
    assert granted == {"/new-site": "u-42", "/old-site": "legacy-7"}


def test_a_failed_payment_is_told_to_its_site_only(
    checkout: Checkout,
    webhooks: Any,
    sites: dict[str, SiteCredentials],
    receiver: Receiver,
    deliver: Any,
) -> None:
    order = checkout.create_order(sites["new-site"])
    checkout.pay(order, outcome="failure")
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.failed"))
    deliver()
    assert [(r["path"], json.loads(r["body"])["type"]) for r in receiver.received] == [
        ("/new-site", "payment.failed")
    ]
