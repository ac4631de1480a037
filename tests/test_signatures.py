from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from payments_service.signatures import (
    callback_signature_header,
    checkout_signature,
    is_valid_checkout_signature,
    is_valid_webhook_signature,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "razorpay"


def test_checkout_signature_matches_razorpay_known_answer() -> None:
    expected = "b2335e3b0801106b84a7faff035df56ecffde06918c9ddd1f0fafbb37a51cc89"
    assert checkout_signature("key_secret", "fake_order_id", "fake_payment_id") == expected
    assert is_valid_checkout_signature("key_secret", "fake_order_id", "fake_payment_id", expected)


def test_checkout_signature_for_another_order_is_rejected() -> None:
    signature = checkout_signature("key_secret", "order_A", "pay_1")
    assert not is_valid_checkout_signature("key_secret", "order_B", "pay_1", signature)
    assert not is_valid_checkout_signature("other_secret", "order_A", "pay_1", signature)
    assert not is_valid_checkout_signature("key_secret", "order_A", "pay_1", "")


def test_webhook_signature_is_over_the_raw_bytes() -> None:
    raw = (FIXTURES / "sdk-python-mocks" / "fake_payment_authorized_webhook.json").read_bytes()
    expected = "d60e67fd884556c045e9be7dad57903e33efc7172c17c6e3ef77db42d2b366e9"
    assert is_valid_webhook_signature(["key_secret"], raw, expected)
    reserialised = json.dumps(json.loads(raw)).encode()
    assert not is_valid_webhook_signature(["key_secret"], reserialised, expected)


def test_any_of_two_webhook_secrets_verifies_during_rotation() -> None:
    body = b'{"event":"payment.captured"}'
    old = hmac.new(b"old-secret", body, hashlib.sha256).hexdigest()
    assert is_valid_webhook_signature(["new-secret", "old-secret"], body, old)
    assert not is_valid_webhook_signature(["new-secret"], body, old)


def test_callback_signature_header_signs_timestamp_and_body() -> None:
    header = callback_signature_header(["site-secret"], 1700000000, b'{"id":"evt_1"}')
    digest = hmac.new(b"site-secret", b'1700000000.{"id":"evt_1"}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={digest}"


def test_composed_webhook_fixtures_are_signed_over_their_exact_bytes() -> None:
    vectors = json.loads((FIXTURES / "composed" / "lifecycle.signatures.sample.json").read_text())
    secret = vectors["webhook_secret"]

    for delivery in vectors["deliveries"]:
        body = (FIXTURES / delivery["file"]).read_bytes()
        signature = delivery["headers"]["X-Razorpay-Signature"]
        assert is_valid_webhook_signature([secret], body, signature), delivery["file"]
        assert json.loads(body)["event"] == delivery["event"]
