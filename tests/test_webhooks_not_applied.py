"""Signed events this service does not apply (another account's, a type it does not handle,
an order it did not create, one missing its entity): stored with the reason, acknowledged."""

from __future__ import annotations

import json
from typing import Any

from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials
from tests.test_razorpay_webhooks import COMPOSED, _paid_without_verify, _sign


def test_events_of_orders_we_did_not_create_are_stored_as_unmatched_and_acknowledged(
    webhooks: RazorpayWebhooks, admin_headers: dict[str, str], client: Any, db_rows: Any
) -> None:
    signatures = json.loads((COMPOSED / "lifecycle.signatures.sample.json").read_text())
    for delivery in signatures["deliveries"][:4]:
        body = (COMPOSED.parent / delivery["file"]).read_bytes()
        headers = delivery["headers"]
        answer = webhooks.post(
            body, headers["X-Razorpay-Signature"], headers["X-Razorpay-Event-Id"]
        )
        assert answer.status_code == 200
        assert answer.get_json()["status"] == "unmatched"

    assert db_rows("SELECT id FROM orders") == []
    listed = client.get("/v1/webhook-events?status=unmatched", headers=admin_headers).get_json()
    assert {e["id"] for e in listed["items"]} == {
        "SbxEvent000001",
        "SbxEvent000002",
        "SbxEvent000003",
        "SbxEvent000004",
    }
    assert listed["last_received_at"] is not None


def test_a_signed_event_missing_its_entity_is_stored_as_failed_and_acknowledged(
    webhooks: RazorpayWebhooks, db_rows: Any
) -> None:
    body = json.dumps(
        {"entity": "event", "event": "payment.captured", "payload": {}, "created_at": 1700000000}
    ).encode()
    answer = webhooks.post(body, _sign(body), "evt_noentity000001")
    assert answer.status_code == 200
    assert answer.get_json()["status"] == "failed"
    (row,) = db_rows("SELECT status, detail FROM razorpay_events")
    assert row["status"] == "failed" and "payload.payment.entity" in row["detail"]


def test_unknown_event_types_are_stored_and_ignored(
    webhooks: RazorpayWebhooks, db_rows: Any
) -> None:
    body = json.dumps(
        {
            "entity": "event",
            "event": "settlement.processed",
            "payload": {},
            "created_at": 1700000000,
        }
    ).encode()
    answer = webhooks.post(body, _sign(body), "evt_settlement0001")
    assert answer.get_json()["status"] == "ignored"
    assert db_rows("SELECT event_type, status FROM razorpay_events") == [
        {"event_type": "settlement.processed", "status": "ignored"}
    ]


def test_events_of_another_razorpay_account_are_ignored(
    make_app: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    db_rows: Any,
) -> None:
    order = _paid_without_verify(checkout, new_site)
    event = webhooks.event(order["razorpay_order_id"], "payment.captured")
    strict = RazorpayWebhooks(
        make_app(razorpay_account_id="acc_SomeoneElse0001").test_client(), webhooks.sandbox
    )
    assert strict.deliver(event).get_json()["status"] == "ignored"
    assert db_rows("SELECT status FROM orders") == [{"status": "created"}]
