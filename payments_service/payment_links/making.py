"""Making a reserved link at Razorpay and recording what it made: the create body (our
order id as reference_id and in the notes), and finding a link whose creation lost its
answer by that reference id."""

from __future__ import annotations

from typing import Any

from ..db import Database
from ..db import payment_links as sql
from ..db.payment_links import PaymentLink
from ..errors import IdempotencyKeyInUse
from ..razorpay_gateway import RazorpayGateway


def finish_lost(gateway: RazorpayGateway, db: Database, link: PaymentLink) -> PaymentLink | None:
    """For reconciliation: record the link an earlier request made but never recorded;
    None when Razorpay has no link for it."""
    found = gateway.find_payment_links_by_reference(link.order_id)
    return record(db, link, found[0]) if found else None


def record(db: Database, link: PaymentLink, made: dict[str, Any]) -> PaymentLink:
    """Store what Razorpay made for a reserved link (once, whoever records it first)."""
    with db.transaction() as cur:
        stored = sql.record_created(cur, link.order_id, str(made["id"]), str(made["short_url"]))
        current = stored or sql.get(cur, link.order_id)
    if current is None:
        raise RuntimeError(f"payment link {link.order_id} vanished")
    return current


def find_made(gateway: RazorpayGateway, link: PaymentLink) -> dict[str, Any]:
    found = gateway.find_payment_links_by_reference(link.order_id)
    if not found:
        raise still_creating()
    return found[0]


def forget(db: Database, link: PaymentLink) -> None:
    """Razorpay certainly made no link: nothing of the request stays."""
    with db.transaction() as cur:
        sql.delete_reservation(cur, link.order_id)


def still_creating() -> IdempotencyKeyInUse:
    return IdempotencyKeyInUse(
        "Razorpay's answer for this payment link was lost; retry with the same "
        "Idempotency-Key to finish it",
        retry_after=5,
        field="Idempotency-Key",
    )


def razorpay_body(callback_url: str, link: PaymentLink, order: dict[str, Any]) -> dict[str, Any]:
    customer = {
        "email": order["customer_email"],
        "name": order["customer_name"],
        "contact": order["customer_contact"],
    }
    notes = {
        **order["notes"],
        "sku": order["product_sku"],
        "site_id": link.site_id,
        "order_ref": link.order_id,
    }
    return {
        "amount": order["amount"],
        "currency": order["currency"],
        "accept_partial": False,
        "reference_id": link.order_id,
        "description": link.description,
        "customer": {k: v for k, v in customer.items() if v},
        "expire_by": int(link.expire_by.timestamp()),
        "notify": {"email": link.notify_email, "sms": link.notify_sms},
        "reminder_enable": link.notify_email or link.notify_sms,
        "notes": notes,
        "callback_url": callback_url,
        "callback_method": "get",
    }
