"""Real responses of Razorpay's webhook endpoint, the webhook-event log and reconciliation,
successes and errors, are what openapi.yaml declares."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials
from tests.contract.openapi import (
    REAPPLY,
    RECONCILE,
    WEBHOOK,
    WEBHOOK_EVENTS,
    assert_conforms,
    assert_problem,
    event_body,
    webhook_signature,
    window_around_now,
)
from tests.test_create_order import socket_that_refuses


def test_real_webhook_responses_match_the_contract(
    client: Any, checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials
) -> None:
    order = checkout.create_order(new_site)
    checkout.pay(order)  # the buyer closes the tab: only the webhook reports the payment
    captured = webhooks.event(order["razorpay_order_id"], "payment.captured")

    first = webhooks.deliver(captured)
    assert_conforms(first, WEBHOOK, 200)
    assert first.get_json() == {"id": captured["id"], "status": "applied", "duplicate": False}
    again = webhooks.deliver(captured)
    assert_conforms(again, WEBHOOK, 200)
    assert again.get_json() == {"id": captured["id"], "status": "applied", "duplicate": True}

    # Whatever becomes of a verified event, Razorpay gets a 200 and does not retry.
    not_ours = {"id": "pay_NotOurs0000001", "order_id": "order_NotOurs000001"}
    outcomes = {
        "unmatched": event_body("payment.captured", payment=not_ours),
        "failed": event_body("payment.captured"),
        "ignored": event_body("settlement.processed"),
    }
    for status, body in outcomes.items():
        answer = webhooks.post(body, webhook_signature(body), f"evt_contract_{status}")
        assert_conforms(answer, WEBHOOK, 200)
        assert answer.get_json()["status"] == status

    # The raw bytes are what is signed: Content-Type is not inspected, and without an
    # event id the body's digest names the event.
    body = event_body("refund.speed_changed")
    as_text = client.post(
        WEBHOOK,
        data=body,
        headers={"Content-Type": "text/plain", "X-Razorpay-Signature": webhook_signature(body)},
    )
    assert_conforms(as_text, WEBHOOK, 200)
    assert as_text.get_json()["id"] == f"sha256:{hashlib.sha256(body).hexdigest()}"


def test_real_webhook_event_responses_match_the_contract(
    client: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    silence = client.get(WEBHOOK_EVENTS, headers=admin_headers)
    assert_conforms(silence, WEBHOOK_EVENTS, 200)
    assert silence.get_json() == {"items": [], "next_cursor": None, "last_received_at": None}

    order = checkout.create_order(new_site)
    checkout.pay(order)
    events = webhooks.events_for(order["razorpay_order_id"])
    for event in events:
        webhooks.deliver(event)

    first = client.get(f"{WEBHOOK_EVENTS}?limit=2", headers=admin_headers)
    assert_conforms(first, WEBHOOK_EVENTS, 200)
    cursor = first.get_json()["next_cursor"]
    assert cursor is not None and first.get_json()["last_received_at"] is not None
    last = client.get(f"{WEBHOOK_EVENTS}?limit=2&cursor={cursor}", headers=admin_headers)
    assert_conforms(last, WEBHOOK_EVENTS, 200)
    assert len(events) == 3 and len(last.get_json()["items"]) == 1
    assert last.get_json()["next_cursor"] is None

    query = "status=applied&event_type=payment.captured"
    filtered = client.get(f"{WEBHOOK_EVENTS}?{query}", headers=admin_headers)
    assert_conforms(filtered, WEBHOOK_EVENTS, 200)
    (captured,) = filtered.get_json()["items"]
    assert captured["order_id"] == order["id"]

    reapplied = client.post(f"{WEBHOOK_EVENTS}/{captured['id']}/reapply", headers=admin_headers)
    assert_conforms(reapplied, REAPPLY, 200)
    assert reapplied.get_json()["status"] == "applied"
    assert reapplied.get_json()["attempts"] == 2

    ready = client.get("/readyz")
    assert_conforms(ready, "/readyz", 200)
    assert ready.get_json()["last_webhook_received_at"] is not None

    # An implausible created_at (year 5138) is stored in the payload but not believed.
    far_future = event_body("settlement.processed", created_at=10**11)
    webhooks.post(far_future, webhook_signature(far_future), "evt_contract_far_future")
    stored = client.get(f"{WEBHOOK_EVENTS}?event_type=settlement.processed", headers=admin_headers)
    assert_conforms(stored, WEBHOOK_EVENTS, 200)
    (future,) = stored.get_json()["items"]
    assert future["razorpay_created_at"] is None
    assert future["payload"]["created_at"] == 10**11


def test_real_reconcile_responses_match_the_contract(
    client: Any, checkout: Checkout, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    order = checkout.create_order(new_site)
    checkout.pay(order)  # neither verify nor a webhook reaches the service
    window = window_around_now()

    healed = client.post(RECONCILE, json=window, headers=admin_headers)
    assert_conforms(healed, RECONCILE, 200)
    assert (healed.get_json()["updated"], healed.get_json()["unchanged"]) == (1, 0)
    again = client.post(RECONCILE, json=window, headers=admin_headers)
    assert_conforms(again, RECONCILE, 200)
    assert (again.get_json()["updated"], again.get_json()["unchanged"]) == (0, 1)
    paid = client.get(f"/v1/orders/{order['id']}", headers=new_site.headers)
    assert paid.get_json()["status"] == "paid"


def test_webhook_error_responses_match_the_contract(webhooks: RazorpayWebhooks) -> None:
    body = event_body("payment.captured")
    for signature in (None, "0" * 64, webhook_signature(body, "another-secret")):
        forged = webhooks.post(body, signature, "evt_contract_forged")
        assert_problem(forged, WEBHOOK, 403, "invalid_signature")
        assert forged.get_json()["field"] == "X-Razorpay-Signature"
    nul = event_body("payment.captured", payment={"id": "pay_\u0000", "order_id": "order_X"})
    assert b"\\u0000" in nul
    for not_an_event in (b"not json", b"[1, 2, 3]", b'{"no": "event"}', nul):
        signed = webhooks.post(not_an_event, webhook_signature(not_an_event), "evt_contract_junk")
        assert_problem(signed, WEBHOOK, 400, "malformed_webhook")
    huge = b'{"event": "payment.captured", "pad": "' + b"x" * 70_000 + b'"}'
    assert_problem(
        webhooks.post(huge, webhook_signature(huge), "evt_contract_huge"),
        WEBHOOK,
        413,
        "payload_too_large",
    )


def test_webhook_event_error_responses_match_the_contract(
    client: Any, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    site, admin = new_site.headers, admin_headers
    assert_problem(client.get(WEBHOOK_EVENTS), WEBHOOK_EVENTS, 401, "unauthorized")
    assert_problem(client.get(WEBHOOK_EVENTS, headers=site), WEBHOOK_EVENTS, 403, "forbidden")
    for query in ("status=lost", "limit=0", "cursor=garbage"):
        assert_problem(
            client.get(f"{WEBHOOK_EVENTS}?{query}", headers=admin),
            WEBHOOK_EVENTS,
            422,
            "validation_error",
        )

    unknown = f"{WEBHOOK_EVENTS}/evt_Unknown000001/reapply"
    assert_problem(client.post(unknown), REAPPLY, 401, "unauthorized")
    assert_problem(client.post(unknown, headers=site), REAPPLY, 403, "forbidden")
    assert_problem(client.post(unknown, headers=admin), REAPPLY, 404, "not_found")


def test_reconcile_error_responses_match_the_contract(
    client: Any, make_app: Any, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    window, admin = window_around_now(), admin_headers
    assert_problem(client.post(RECONCILE, json=window), RECONCILE, 401, "unauthorized")
    assert_problem(
        client.post(RECONCILE, json=window, headers=new_site.headers), RECONCILE, 403, "forbidden"
    )

    backwards = {"from": window["to"], "to": window["from"]}
    start = datetime(2025, 1, 1, tzinfo=UTC)
    too_long = {
        "from": start.isoformat(),
        "to": (start + timedelta(days=400, seconds=1)).isoformat(),
    }
    for body in (backwards, too_long):
        refused = client.post(RECONCILE, json=body, headers=admin)
        assert_problem(refused, RECONCILE, 422, "validation_error")
        assert refused.get_json()["field"] == "from"
    naive = {"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00"}
    refused = client.post(RECONCILE, json=naive, headers=admin)
    assert_problem(refused, RECONCILE, 422, "validation_error")
    assert set(refused.get_json()["errors"]) == {"from", "to"}

    json_headers = {**admin, "Content-Type": "application/json"}
    assert_problem(
        client.post(RECONCILE, data=b"{", headers=json_headers), RECONCILE, 400, "bad_request"
    )
    assert_problem(
        client.post(RECONCILE, data="from=yesterday", headers=admin),
        RECONCILE,
        415,
        "unsupported_media_type",
    )

    with socket_that_refuses() as dead_url:
        down = make_app(razorpay_api_base_url=dead_url).test_client()
        unavailable = down.post(RECONCILE, json=window, headers=admin)
    assert_problem(unavailable, RECONCILE, 503, "gateway_unavailable")
