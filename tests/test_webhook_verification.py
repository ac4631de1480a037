"""Razorpay webhooks at the door: only deliveries signed over their exact bytes, carrying an
event, get in; everything else is refused with a 4xx and stored nowhere."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials
from tests.test_razorpay_webhooks import _paid_without_verify, _sign


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "missing"),
        ("0" * 64, "wrong"),
        ("not-hex", "garbage"),
        (_sign(b'{"event":"payment.captured"}', "another-secret"), "another secret"),
    ],
)
def test_unsigned_or_wrongly_signed_deliveries_are_403_and_stored_nowhere(
    webhooks: RazorpayWebhooks, db_rows: Any, signature: str | None, reason: str
) -> None:
    answer = webhooks.post(b'{"event":"payment.captured"}', signature, "evt_forged0000001")
    assert answer.status_code == 403, reason
    assert answer.get_json()["code"] == "invalid_signature"
    assert db_rows("SELECT id FROM razorpay_events") == []


def test_a_reserialised_body_does_not_verify(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = _paid_without_verify(checkout, new_site)
    event = webhooks.event(order["razorpay_order_id"], "payment.captured")
    reserialised = json.dumps(json.loads(event["body"]), indent=2).encode()

    answer = webhooks.post(reserialised, event["signature"], event["id"])

    assert answer.status_code == 403
    assert db_rows("SELECT id FROM razorpay_events") == []


def test_a_truncated_body_fails_its_signature(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials
) -> None:
    order = _paid_without_verify(checkout, new_site)
    event = webhooks.event(order["razorpay_order_id"], "payment.captured")
    answer = webhooks.post(event["body"].encode()[:-20], event["signature"], event["id"])
    assert answer.status_code == 403


def test_signed_bodies_that_are_not_events_are_400(
    webhooks: RazorpayWebhooks, db_rows: Any
) -> None:
    for body in (b"not json at all", b"[1, 2, 3]", b'{"no": "event"}'):
        answer = webhooks.post(body, _sign(body), "evt_notanevent0001")
        assert answer.status_code == 400
        assert answer.get_json()["code"] == "malformed_webhook"
    assert db_rows("SELECT id FROM razorpay_events") == []


def test_a_huge_body_is_413(webhooks: RazorpayWebhooks) -> None:
    body = b'{"event": "payment.captured", "pad": "' + b"x" * 100_000 + b'"}'
    answer = webhooks.post(body, _sign(body), "evt_huge0000000001")
    assert answer.status_code == 413


def test_two_webhook_secrets_are_valid_while_rotating(
    make_app: Any, webhooks: RazorpayWebhooks, db_rows: Any
) -> None:
    rotating = make_app(razorpay_webhook_secrets=("new-secret", "sandbox_webhook_secret"))
    client = RazorpayWebhooks(rotating.test_client(), webhooks.sandbox)
    body = json.dumps(
        {
            "entity": "event",
            "event": "refund.speed_changed",
            "payload": {},
            "created_at": 1700000000,
        }
    ).encode()
    assert client.post(body, _sign(body, "new-secret"), "evt_rot_new000001").status_code == 200
    old = client.post(body, _sign(body, "sandbox_webhook_secret"), "evt_rot_old000001")
    assert old.status_code == 200
    gone = client.post(body, _sign(body, "retired-secret"), "evt_rot_gone00001")
    assert gone.status_code == 403
    assert len(db_rows("SELECT id FROM razorpay_events")) == 2


def test_odd_but_signed_envelopes_never_cause_a_5xx(
    webhooks: RazorpayWebhooks, db_rows: Any
) -> None:
    far_future = json.dumps(
        {
            "event": "payment.captured",
            "created_at": 10**20,
            "account_id": ["not", "a", "string"],
            "payload": {},
        }
    ).encode()
    answer = webhooks.post(far_future, _sign(far_future), "evt_farfuture00001")
    assert answer.status_code == 200
    assert db_rows("SELECT razorpay_created_at, account_id FROM razorpay_events") == [
        {"razorpay_created_at": None, "account_id": None}
    ]

    with_nul = b'{"event": "payment.captured", "note": "a\\u0000b"}'
    answer = webhooks.post(with_nul, _sign(with_nul), "evt_nulchar000001")
    assert answer.status_code == 400 and answer.get_json()["code"] == "malformed_webhook"
