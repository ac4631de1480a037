"""Refunds of captured payments: creation with idempotency keys, and later settlement."""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from typing import Any

from .entities import Payment, Refund, new_id, random_digits
from .errors import invalid_request
from .state import IdempotentRefund, Transaction
from .validation import parse_amount, parse_choice, parse_notes, parse_receipt, reject_unknown

REFUND_FIELDS = frozenset({"amount", "speed", "notes", "receipt"})
SPEEDS = ("normal", "optimum")
SETTLED_STATUSES = ("processed", "failed")
IDEMPOTENCY_KEY_MIN_LENGTH = 10
IDEMPOTENCY_KEY_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_")


def create_refund(
    transaction: Transaction,
    payment_id: str,
    body: Mapping[str, Any],
    idempotency_key: str | None = None,
) -> Refund:
    """Refund (part of) a captured payment, or replay the refund an idempotency key made.

    The refund is ``processed`` or ``pending`` as the config's ``refund_outcome`` says; it
    emits ``refund.created`` and, when processed at once, ``refund.processed``.
    Raises RazorpayError for invalid input, a payment that cannot be refunded, an amount above
    what remains or above the merchant balance, or a key reused with a different request.
    """
    request_fingerprint = json.dumps({"payment_id": payment_id, "body": body}, sort_keys=True)
    if idempotency_key is not None:
        replayed = _replay(transaction, idempotency_key, request_fingerprint)
        if replayed is not None:
            return replayed
    payment = transaction.state.payment(payment_id)
    refund = _new_refund(transaction, payment, body)
    transaction.state.add_refund(refund)
    if idempotency_key is not None:
        transaction.state.refund_keys[idempotency_key] = IdempotentRefund(
            request_fingerprint, refund.id
        )
    payment.amount_refunded += refund.amount
    if payment.refundable_amount == 0:
        payment.status = "refunded"
    transaction.config.merchant_balance -= refund.amount
    if refund.status == "processed":
        refund.arn = random_digits(23)
    transaction.emit("refund.created", refund=refund.to_json(), payment=payment.to_json())
    if refund.status == "processed":
        transaction.emit("refund.processed", refund=refund.to_json(), payment=payment.to_json())
    return refund


def settle_refund(transaction: Transaction, refund: Refund, status: str) -> None:
    """Finish a pending refund as ``processed`` or ``failed`` and emit the matching event.

    A failed refund gives its amount back to the payment and to the merchant balance.
    Raises RazorpayError if the refund is not pending or the status is not a final one.
    """
    if status not in SETTLED_STATUSES:
        raise invalid_request("The selected status is invalid.", field="status")
    if refund.status != "pending":
        raise invalid_request(f"Only pending refunds can be settled; this one is {refund.status}")
    payment = transaction.state.payment(refund.payment_id)
    refund.status = status
    if status == "processed":
        refund.arn = random_digits(23)
    else:
        payment.amount_refunded -= refund.amount
        if payment.status == "refunded":
            payment.status = "captured"
        transaction.config.merchant_balance += refund.amount
    transaction.emit(f"refund.{status}", refund=refund.to_json(), payment=payment.to_json())


def _new_refund(transaction: Transaction, payment: Payment, body: Mapping[str, Any]) -> Refund:
    """Validate a refund request against the payment and build (not store) the refund."""
    reject_unknown(body, REFUND_FIELDS)
    if payment.status == "refunded":
        raise invalid_request("The payment has been fully refunded already")
    if payment.status != "captured":
        raise invalid_request("The payment status should be captured for action to be taken")
    amount = payment.refundable_amount
    if "amount" in body:
        amount = parse_amount(body["amount"], payment.currency)
    if amount > payment.refundable_amount:
        raise invalid_request("The refund amount provided is greater than amount captured")
    if amount > transaction.config.merchant_balance:
        raise invalid_request("invalid request sent")
    return Refund(
        id=new_id("rfnd_"),
        payment_id=payment.id,
        amount=amount,
        currency=payment.currency,
        notes=parse_notes(body.get("notes")),
        receipt=parse_receipt(body.get("receipt")),
        speed_requested=parse_choice(body, "speed", SPEEDS),
        status=transaction.config.refund_outcome,
    )


def _replay(transaction: Transaction, key: str, request_fingerprint: str) -> Refund | None:
    """Return the refund an idempotency key already made, or None for a fresh key.

    Raises RazorpayError for a malformed key or one first used with a different request.
    """
    if len(key) < IDEMPOTENCY_KEY_MIN_LENGTH or not set(key) <= IDEMPOTENCY_KEY_ALPHABET:
        raise invalid_request(
            "The X-Refund-Idempotency header must be at least 10 letters, digits, - or _"
        )
    earlier = transaction.state.refund_keys.get(key)
    if earlier is None:
        return None
    if earlier.request != request_fingerprint:
        raise invalid_request("The idempotency key has already been used with a different request")
    return transaction.state.refund(earlier.refund_id)
