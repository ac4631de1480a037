"""Payment links against Razorpay's own shapes (tests/fixtures/razorpay/payment-links/): the
redirect's signature, and the webhooks as Razorpay documents them, quirks included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import razorpay

from payments_service.signatures import is_valid_payment_link_signature, payment_link_signature
from tests.actions import PaymentLinks, SiteCredentials
from tests.contract.openapi import webhook_signature

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "razorpay" / "payment-links"
SIGNATURES = json.loads((FIXTURES / "composed" / "lifecycle.signatures.sample.json").read_text())


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text()))


@pytest.mark.parametrize("vector", SIGNATURES["callback_signatures"], ids=lambda v: v["message"])
def test_our_link_signature_matches_the_composed_vectors(vector: dict[str, str]) -> None:
    link_id, reference, status, payment_id = vector["message"].split("|")

    made = payment_link_signature(SIGNATURES["key_secret"], link_id, reference, status, payment_id)

    assert made == vector["signature"]
    assert is_valid_payment_link_signature(
        SIGNATURES["key_secret"], link_id, reference, status, payment_id, vector["signature"]
    )
    assert not is_valid_payment_link_signature(
        SIGNATURES["key_secret"], link_id, reference + "x", status, payment_id, vector["signature"]
    )


@pytest.mark.parametrize(
    "name", ["callback.paid.sample.json", "callback.partially_paid.sample.json"]
)
def test_a_callback_query_verifies_with_ours_and_with_the_sdk_after_its_key_rename(
    name: str,
) -> None:
    sample = _load(f"composed/{name}")
    query = sample["query"]
    sdk = razorpay.Client(auth=(SIGNATURES["key_id"], SIGNATURES["key_secret"]))

    ours = is_valid_payment_link_signature(
        SIGNATURES["key_secret"],
        query["razorpay_payment_link_id"],
        query["razorpay_payment_link_reference_id"],
        query["razorpay_payment_link_status"],
        query["razorpay_payment_id"],
        query["razorpay_signature"],
    )
    # The SDK wants the link fields without their razorpay_ prefix (the query has it).
    renamed = {
        "payment_link_id": query["razorpay_payment_link_id"],
        "payment_link_reference_id": query["razorpay_payment_link_reference_id"],
        "payment_link_status": query["razorpay_payment_link_status"],
        "razorpay_payment_id": query["razorpay_payment_id"],
        "razorpay_signature": query["razorpay_signature"],
    }

    assert ours is True
    assert sdk.utility.verify_payment_link_signature(renamed) is True
    assert renamed == sample["sdk_verify_args"]


@pytest.mark.parametrize(
    "name",
    [
        "docs-webhooks/payment_link.paid.standard.json",
        "docs-webhooks/payment_link.expired.standard.json",
        "docs-webhooks/payment_link.cancelled.standard.json",
    ],
)
def test_razorpays_documented_link_events_for_a_link_we_never_made_are_stored_unmatched(
    client: Any, db_rows: Any, name: str
) -> None:
    raw = (FIXTURES / name).read_bytes()
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": webhook_signature(raw),
        "X-Razorpay-Event-Id": f"evt_{name.split('.')[1]}",
    }

    answer = client.post("/v1/webhooks/razorpay", data=raw, headers=headers)

    assert answer.status_code == 200
    assert answer.get_json()["status"] == "unmatched"
    assert db_rows("SELECT status FROM razorpay_events") == [{"status": "unmatched"}]
    assert db_rows("SELECT id FROM payments") == []


def test_the_composed_paid_event_is_checked_over_its_exact_bytes(client: Any) -> None:
    (delivery,) = [d for d in SIGNATURES["deliveries"] if d["event"] == "payment_link.paid"]
    raw = (FIXTURES / delivery["file"]).read_bytes()

    answer = client.post("/v1/webhooks/razorpay", data=raw, headers=delivery["headers"])
    tampered = client.post("/v1/webhooks/razorpay", data=raw + b" ", headers=delivery["headers"])

    assert answer.status_code == 200 and answer.get_json()["status"] == "unmatched"
    assert tampered.status_code == 403


def test_the_documented_paid_event_pays_our_link_through_its_payments_order_id(
    client: Any,
    links: PaymentLinks,
    seller: SiteCredentials,
    other_site: SiteCredentials,
    db_rows: Any,
) -> None:
    # Razorpay's own sample, made about one of our links: payload.order.entity is an
    # internal record whose id lacks the order_ prefix; the order id to learn is the
    # payment's (and the link's) order_id.
    link = links.create(seller.headers)
    envelope = _load("docs-webhooks/payment_link.paid.standard.json")
    payload = envelope["payload"]
    payload["payment_link"]["entity"].update(
        id=link["id"], reference_id=link["order_id"], amount=49900, amount_paid=49900
    )
    payload["payment"]["entity"].update(amount=49900, notes={"order_ref": link["order_id"]})
    raw = json.dumps(envelope).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": webhook_signature(raw),
        "X-Razorpay-Event-Id": "evt_DocsPaid0001",
    }

    answer = client.post("/v1/webhooks/razorpay", data=raw, headers=headers)

    assert answer.get_json()["status"] == "applied"
    assert payload["order"]["entity"]["id"] == "QflczVVaNJciLq"
    (order,) = db_rows("SELECT status, razorpay_order_id FROM orders")
    assert order == {"status": "paid", "razorpay_order_id": "order_QflczVVaNJciLq"}
    assert len(db_rows("SELECT id FROM enrollments")) == 1
    assert db_rows("SELECT status FROM payment_links") == [{"status": "paid"}]
