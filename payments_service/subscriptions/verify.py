"""Checkout's result for a subscription: prove it with the signature over the subscription
id WE stored (payment id first), confirm it with Razorpay, then apply it like a webhook."""

from __future__ import annotations

from dataclasses import dataclass

from ..auth import Caller
from ..db import Database
from ..db.subscriptions import Subscription
from ..errors import InvalidSignature, PaymentMismatch, ValidationFailed
from ..razorpay_gateway import RazorpayGateway
from ..signatures import is_valid_subscription_signature
from .apply import apply_report_in, our_subscription
from .charges import is_charge
from .manage import visible


@dataclass(frozen=True)
class SubscriptionCheckout:
    """The three fields Checkout's handler receives ("" when absent)."""

    razorpay_payment_id: str
    razorpay_subscription_id: str
    razorpay_signature: str


def verify_checkout(
    db: Database,
    gateway: RazorpayGateway,
    key_secret: str,
    caller: Caller,
    subscription_id: str,
    result: SubscriptionCheckout,
    during_pending: bool,
) -> Subscription:
    """Verify and apply the customer's authentication payment.

    Raises NotFound (not the caller's subscription), ValidationFailed (a field missing),
    InvalidSignature (the result is of another subscription, or not signed by Razorpay for
    this payment and subscription, e.g. with the orders formula), PaymentMismatch (Razorpay
    says the payment is not this subscription's) and GatewayError.
    """
    sub = visible(db, caller, subscription_id)
    if not result.razorpay_payment_id or not result.razorpay_signature:
        field = "razorpay_payment_id" if not result.razorpay_payment_id else "razorpay_signature"
        raise ValidationFailed(f"{field} is required", field=field)
    stored = sub.razorpay_subscription_id
    if stored is None or result.razorpay_subscription_id not in ("", stored):
        raise InvalidSignature(
            "the Checkout result is not for this subscription",
            field="razorpay_subscription_id",
        )
    if not is_valid_subscription_signature(
        key_secret, result.razorpay_payment_id, stored, result.razorpay_signature
    ):
        raise InvalidSignature(
            "razorpay_signature does not match this payment and subscription "
            "(HMAC of payment_id|subscription_id)",
            field="razorpay_signature",
        )
    payment = gateway.fetch_payment(result.razorpay_payment_id)
    entity = gateway.fetch_subscription(stored)
    if entity.get("id") != stored:
        raise PaymentMismatch("Razorpay's subscription is not the one we made")
    if is_charge(payment):
        invoices = gateway.subscription_invoices(stored)
        if payment.get("invoice_id") not in {invoice.get("id") for invoice in invoices}:
            raise PaymentMismatch(
                "the payment is not of this subscription", field="razorpay_payment_id"
            )
    with db.transaction() as cur:
        locked = our_subscription(cur, stored)
        now, _ = apply_report_in(
            cur, locked, entity, payment if is_charge(payment) else None, "verify", during_pending
        )
    return now
