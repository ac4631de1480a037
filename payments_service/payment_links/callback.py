"""The buyer's browser back from a paid link: prove the redirect, confirm it with Razorpay,
apply the payment as Checkout verify does, and say where to send the buyer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..db import Database
from ..db import orders as orders_sql
from ..db import payment_links as sql
from ..db import payments as payments_sql
from ..db.payment_links import PaymentLink
from ..errors import InvalidSignature, NotFound, PaymentMismatch, ValidationFailed
from ..payments import SETTLED_STATUSES
from ..razorpay_gateway import RazorpayGateway
from ..signatures import is_valid_payment_link_signature
from .apply import pay_link_in

SIGNED_STATUSES = ("paid", "partially_paid")


@dataclass(frozen=True)
class LinkCallback:
    """The query Razorpay's hosted page sends the browser back with ("" when absent)."""

    razorpay_payment_id: str
    razorpay_payment_link_id: str
    razorpay_payment_link_reference_id: str
    razorpay_payment_link_status: str
    razorpay_signature: str


@dataclass(frozen=True)
class CallbackResult:
    """Where the buyer goes next: the site's return URL with our order id and status."""

    order_id: str
    status: str
    redirect_to: str


def complete_callback(
    db: Database, gateway: RazorpayGateway, key_secret: str, callback: LinkCallback
) -> CallbackResult:
    """Verify the redirect's signature over the link id and reference id WE stored, fetch
    the payment and the link from Razorpay (never trusting the browser), and apply the
    payment. A repeat of a settled callback changes nothing and needs no Razorpay call.

    Raises ValidationFailed (a parameter missing), NotFound (not our link), InvalidSignature,
    PaymentMismatch (the payment is not the link's), GatewayError.
    """
    missing = [name for name, value in callback.__dict__.items() if not value]
    if missing:
        raise ValidationFailed(f"missing {', '.join(missing)}", field=missing[0])
    with db.read() as cur:
        link = sql.get_by_razorpay_id(cur, callback.razorpay_payment_link_id)
    if link is None or link.razorpay_link_id is None:
        raise NotFound("this payment link is not one of ours", field="razorpay_payment_link_id")
    if not _is_signed(key_secret, link, callback):
        raise InvalidSignature(
            "razorpay_signature does not match this payment link and payment",
            field="razorpay_signature",
        )
    if not _already_settled(db, link, callback.razorpay_payment_id):
        payment = gateway.fetch_payment(callback.razorpay_payment_id)
        link_entity = gateway.fetch_payment_link(link.razorpay_link_id)
        _check_matches(link, payment, link_entity)
        with db.transaction() as cur:
            pay_link_in(cur, link, payment, link_entity, actor="payment_link")
    return _result(db, link)


def _is_signed(key_secret: str, link: PaymentLink, callback: LinkCallback) -> bool:
    if callback.razorpay_payment_link_status not in SIGNED_STATUSES:
        return False
    return is_valid_payment_link_signature(
        key_secret,
        str(link.razorpay_link_id),
        link.order_id,  # our reference_id, not the echoed one
        callback.razorpay_payment_link_status,
        callback.razorpay_payment_id,
        callback.razorpay_signature,
    )


def _already_settled(db: Database, link: PaymentLink, payment_id: str) -> bool:
    with db.read() as cur:
        payment = payments_sql.get(cur, payment_id)
    return (
        payment is not None
        and payment.order_id == link.order_id
        and payment.status in SETTLED_STATUSES
        and link.status == "paid"
    )


def _check_matches(link: PaymentLink, payment: dict[str, Any], link_entity: dict[str, Any]) -> None:
    if link_entity.get("reference_id") != link.order_id or link_entity.get("id") != (
        link.razorpay_link_id
    ):
        raise PaymentMismatch(
            "Razorpay's link is not the one we made", field="razorpay_payment_link_id"
        )
    if not payment.get("order_id") or payment.get("order_id") != link_entity.get("order_id"):
        raise PaymentMismatch(
            "the payment was not made on this payment link", field="razorpay_payment_id"
        )


def _result(db: Database, link: PaymentLink) -> CallbackResult:
    with db.read() as cur:
        order = orders_sql.get(cur, link.order_id)
    if order is None:
        raise RuntimeError(f"payment link {link.order_id} has no order")
    return CallbackResult(
        order.id, order.status, with_query(link.return_url, order.id, order.status)
    )


def with_query(url: str, order_id: str, status: str) -> str:
    """``url`` with order_id and status added to (or replacing them in) its query."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("order_id", "status")]
    query += [("order_id", order_id), ("status", status)]
    return urlunsplit(parts._replace(query=urlencode(query)))
