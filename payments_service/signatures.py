"""Every HMAC the service checks or makes, in one place; comparisons run in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable


def _hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def checkout_signature(key_secret: str, order_id: str, payment_id: str) -> str:
    """The signature Razorpay Checkout returns: HMAC(key secret, "order_id|payment_id")."""
    return _hex_hmac(key_secret, f"{order_id}|{payment_id}".encode())


def is_valid_checkout_signature(
    key_secret: str, order_id: str, payment_id: str, signature: str
) -> bool:
    """Check a Checkout result against the order id we stored (never the browser's)."""
    expected = checkout_signature(key_secret, order_id, payment_id)
    return hmac.compare_digest(expected.encode(), signature.encode())


def subscription_signature(key_secret: str, payment_id: str, subscription_id: str) -> str:
    """The signature Checkout returns for a subscription's authentication payment:
    HMAC(key secret, "payment_id|subscription_id"), payment id FIRST (orders: the reverse)."""
    return _hex_hmac(key_secret, f"{payment_id}|{subscription_id}".encode())


def is_valid_subscription_signature(
    key_secret: str, payment_id: str, subscription_id: str, signature: str
) -> bool:
    """Check a subscription's Checkout result against the subscription id we stored."""
    expected = subscription_signature(key_secret, payment_id, subscription_id)
    return hmac.compare_digest(expected.encode(), signature.encode())


def payment_link_signature(
    key_secret: str, link_id: str, reference_id: str, status: str, payment_id: str
) -> str:
    """The signature a payment link's redirect carries:
    HMAC(key secret, "link_id|reference_id|status|payment_id")."""
    return _hex_hmac(key_secret, f"{link_id}|{reference_id}|{status}|{payment_id}".encode())


def is_valid_payment_link_signature(
    key_secret: str, link_id: str, reference_id: str, status: str, payment_id: str, signature: str
) -> bool:
    """Check a payment link's redirect against the link id and reference id we stored (the
    status and payment id are the redirect's: the signature proves them)."""
    expected = payment_link_signature(key_secret, link_id, reference_id, status, payment_id)
    return hmac.compare_digest(expected.encode(), signature.encode())


def is_valid_webhook_signature(secrets: Iterable[str], raw_body: bytes, signature: str) -> bool:
    """Check X-Razorpay-Signature over the exact request bytes with any current secret.

    Several secrets may be valid at once so the webhook secret can be rotated.
    """
    given = signature.encode()
    return any(
        hmac.compare_digest(_hex_hmac(secret, raw_body).encode(), given) for secret in secrets
    )


def callback_signature_header(secrets: Iterable[str], timestamp: int, raw_body: bytes) -> str:
    """Our X-Payments-Signature for a site callback: "t=<unix>,v1=<HMAC("<t>.<body>")>",
    with one v1 per secret while the site rotates its callback secret (current first)."""
    message = str(timestamp).encode() + b"." + raw_body
    return ",".join([f"t={timestamp}", *(f"v1={_hex_hmac(s, message)}" for s in secrets)])
