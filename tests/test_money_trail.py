from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from payments_service.sandbox import SandboxConfig, start_background
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials


def _trail(client: Any, email: str, headers: dict[str, str]) -> dict[str, Any]:
    answer = client.get(f"/v1/customers/{email}/transactions", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return dict(answer.get_json())


def test_the_trail_tells_the_whole_story_in_time_order_across_sites(
    client: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    order = checkout.create_order(new_site)
    checkout.pay(order, outcome="failure", error_reason="card_declined")
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.failed"))
    result = checkout.pay(order)
    checkout.verify(result)
    other = checkout.buy(old_site, product={"sku": "data-201", "name": "Data 201"}, amount=99900)
    checkout.refund(
        old_site.headers, payment_id=other["payment_id"], amount=30000, reason="partial goodwill"
    )
    checkout.refund(admin_headers, order_id=order["id"], reason="course cancelled")

    trail = _trail(client, "ASHA@example.COM", admin_headers)

    kinds = [e["kind"] for e in trail["entries"]]
    assert kinds == [
        "order.created",
        "payment.failed",
        "payment.authorized",
        "payment.captured",
        "enrollment.granted",
        "order.created",
        "payment.authorized",
        "payment.captured",
        "enrollment.granted",
        "refund.requested",
        "refund.processed",
        "refund.requested",
        "refund.processed",
        "enrollment.revoked",
    ]
    times = [e["at"] for e in trail["entries"]]
    assert times == sorted(times)
    failed = trail["entries"][1]
    assert failed["details"]["error_reason"] == "card_declined"
    captured = trail["entries"][3]
    assert captured["details"]["method"] == "card"
    assert {"card_network", "card_last4", "fee", "tax"} <= set(captured["details"])
    assert {e["site_id"] for e in trail["entries"] if e["site_id"]} == {"new-site", "old-site"}
    revoked = trail["entries"][-1]
    assert revoked["details"]["by"] == "admin:tester"
    assert trail["totals"] == [
        {"currency": "INR", "paid": 149800, "refunded": 79900, "refund_pending": 0, "net": 69900}
    ]


def test_a_failed_refund_is_neither_refunded_nor_pending_and_leaves_net_unchanged(
    client: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    sandbox: Any,
    admin_headers: dict[str, str],
) -> None:
    order = checkout.buy(new_site)
    _sandbox_config(sandbox, refund_outcome="pending")
    created = checkout.refund(new_site.headers, payment_id=order["payment_id"], amount=20000)
    assert created.status_code == 201, created.get_json()
    refund_id = created.get_json()["razorpay_refund_id"]
    pending = _trail(client, "asha@example.com", admin_headers)["totals"]
    assert pending == [
        {"currency": "INR", "paid": 49900, "refunded": 0, "refund_pending": 20000, "net": 29900}
    ]
    requests.post(
        f"{sandbox.url}/_sandbox/refunds/{refund_id}/settle", json={"status": "failed"}, timeout=5
    ).raise_for_status()
    (failed,) = [e for e in webhooks.events_for(refund_id) if e["event"] == "refund.failed"]
    assert webhooks.deliver(failed).get_json()["status"] == "applied"

    trail = _trail(client, "asha@example.com", admin_headers)

    assert [e["kind"] for e in trail["entries"]][-2:] == ["refund.requested", "refund.failed"]
    assert trail["totals"] == [
        {"currency": "INR", "paid": 49900, "refunded": 0, "refund_pending": 0, "net": 49900}
    ]
    _sandbox_config(sandbox, refund_outcome="processed")
    again = checkout.refund(new_site.headers, payment_id=order["payment_id"], amount=10000)
    assert again.status_code == 201, again.get_json()
    assert _trail(client, "asha@example.com", admin_headers)["totals"] == [
        {"currency": "INR", "paid": 49900, "refunded": 10000, "refund_pending": 0, "net": 39900}
    ]


def _sandbox_config(sandbox: Any, **changes: Any) -> None:
    requests.patch(f"{sandbox.url}/_sandbox/config", json=changes, timeout=5).raise_for_status()


def test_a_stranger_has_an_empty_trail_for_an_admin(
    client: Any, admin_headers: dict[str, str]
) -> None:
    trail = _trail(client, "nobody@example.com", admin_headers)
    assert trail["entries"] == [] and trail["totals"] == []


def test_the_trail_needs_a_token_and_a_real_email(client: Any, new_site: SiteCredentials) -> None:
    assert client.get("/v1/customers/a@example.com/transactions").status_code == 401
    bad = client.get("/v1/customers/not-an-email/transactions", headers=new_site.headers)
    assert bad.status_code == 422 and "email" in bad.get_json()["errors"]


def test_admin_grants_and_revokes_are_recorded_with_who_and_why(
    client: Any, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    body = {
        "customer_email": "Guest@Example.com",
        "sku": "python-101",
        "reason": "complimentary seat for a speaker",
    }
    granted = client.post("/v1/enrollments", json=body, headers=admin_headers)
    assert granted.status_code == 201
    assert granted.get_json()["source"] == "manual"
    assert client.post("/v1/enrollments", json=body, headers=admin_headers).status_code == 409
    assert client.post("/v1/enrollments", json=body, headers=new_site.headers).status_code == 403
    enrollment_id = granted.get_json()["id"]

    revoked = client.post(
        f"/v1/enrollments/{enrollment_id}/revoke",
        json={"reason": "talk cancelled"},
        headers=admin_headers,
    )

    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    again = client.post(
        f"/v1/enrollments/{enrollment_id}/revoke", json={"reason": "twice"}, headers=admin_headers
    )
    assert again.status_code == 409
    missing = client.post(
        "/v1/enrollments/enr_nope/revoke", json={"reason": "x"}, headers=admin_headers
    )
    assert missing.status_code == 404
    trail = _trail(client, "guest@example.com", admin_headers)
    assert [(e["kind"], e["details"]) for e in trail["entries"]] == [
        (
            "enrollment.granted",
            {
                "source": "manual",
                "by": "admin:tester",
                "reason": "complimentary seat for a speaker",
            },
        ),
        ("enrollment.revoked", {"by": "admin:tester", "reason": "talk cancelled"}),
    ]


@pytest.fixture
def ledger_sandbox() -> Iterator[Any]:
    running = start_background(SandboxConfig(webhook_delivery="off"))
    yield running
    running.stop()


def test_trail_totals_equal_the_sandbox_ledger_to_the_paisa(
    make_app: Any,
    ledger_sandbox: Any,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    app: Flask = make_app(razorpay_api_base_url=ledger_sandbox.url)
    shop = Checkout(app.test_client(), ledger_sandbox)
    rng = random.Random(20261122)
    customers = [f"buyer{n}@example.com" for n in range(25)]
    for email in customers:
        for sku in rng.sample(["python-101", "data-201", "ml-301"], k=rng.randint(1, 3)):
            site = rng.choice([new_site, old_site])
            amount = rng.randrange(100, 250_000)
            if rng.random() < 0.2:
                failed = shop.create_order(
                    site,
                    amount=amount,
                    customer={"email": email},
                    product={"sku": sku, "name": sku},
                )
                shop.pay(failed, outcome="failure")
            order = shop.buy(
                site,
                amount=amount,
                customer={"email": email.upper()},
                product={"sku": sku, "name": sku},
            )
            for _ in range(rng.randint(0, 2)):
                refundable = order["amount"] - _refunded(shop, order["id"], site)
                if refundable >= 100:
                    part = rng.randint(100, refundable)
                    answer = shop.refund(site.headers, payment_id=order["payment_id"], amount=part)
                    assert answer.status_code == 201, answer.get_json()

    paid = refunded = 0
    for email in customers:
        (totals,) = _trail(shop.client, email, admin_headers)["totals"]
        assert totals["net"] == totals["paid"] - totals["refunded"] - totals["refund_pending"]
        paid += totals["paid"]
        refunded += totals["refunded"]
    ledger = requests.get(f"{ledger_sandbox.url}/_sandbox/ledger", timeout=5).json()["INR"]
    assert (paid, refunded) == (ledger["captured"], ledger["refunded"])


def _refunded(shop: Checkout, order_id: str, site: SiteCredentials) -> int:
    order = shop.client.get(f"/v1/orders/{order_id}", headers=site.headers).get_json()
    return int(order["amount_refunded"])
