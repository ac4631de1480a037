"""The payment-link entity and the JSON shapes it appears in (API, webhooks, the link's order).

Razorpay's payment-link JSON differs from its other entities: no ``entity`` key, keys in
alphabetical order, ``0`` rather than ``null`` for times that have not happened, ``""`` for
an unset reference or callback, and ``payments`` null until a payment is captured.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from .entities import ID_ALPHABET, Notes, Order, notes_json

LINK_PREFIX = "plink_"
SHORT_CODE_LENGTH = 8
PAYABLE_STATUSES = frozenset({"created", "partially_paid"})


def new_short_code() -> str:
    """The random part of a short URL, like Razorpay's ``rzp.io/rzp/<code>``."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


@dataclass(frozen=True)
class LinkPayment:
    """A captured payment as a link's ``payments`` list shows it."""

    payment_id: str
    amount: int
    method: str
    created_at: int

    def to_json(self) -> dict[str, Any]:
        """The list item, keys as in Razorpay's fetch sample."""
        return {
            "amount": self.amount,
            "created_at": self.created_at,
            "method": self.method,
            "payment_id": self.payment_id,
            "status": "captured",
        }


@dataclass
class PaymentLink:
    """A Standard payment link: created, partially paid, then paid, expired or cancelled."""

    id: str
    short_code: str
    short_url: str
    amount: int
    currency: str
    accept_partial: bool
    first_min_partial_amount: int
    description: str
    reference_id: str
    customer: dict[str, str] | None
    notify: dict[str, bool]
    reminder_enable: bool
    notes: Notes
    callback_url: str
    callback_method: str
    upi_link: bool
    merchant_name: str
    created_at: int
    expire_by: int = 0
    status: str = "created"
    amount_paid: int = 0
    order_id: str | None = None
    payments: list[LinkPayment] = field(default_factory=list)
    cancelled_at: int = 0
    expired_at: int = 0
    updated_at: int = 0

    @property
    def bare_id(self) -> str:
        """The id without ``plink_``: the payment description and the order's product id."""
        return self.id.removeprefix(LINK_PREFIX)

    @property
    def amount_due(self) -> int:
        """What is left to pay."""
        return self.amount - self.amount_paid

    @property
    def is_payable(self) -> bool:
        """Whether the hosted page still takes payments (expiry is applied separately)."""
        return self.status in PAYABLE_STATUSES

    def minimum_payment(self) -> int:
        """The smallest amount the next payment may be: the whole due without partial
        payments, the first instalment's minimum for a first partial payment, else 1.00
        (or the remainder when it is smaller)."""
        if not self.accept_partial:
            return self.amount_due
        if self.amount_paid == 0 and self.first_min_partial_amount:
            return self.first_min_partial_amount
        return min(100, self.amount_due)

    def to_json(self, with_payments: bool = True) -> dict[str, Any]:
        """The entity as the API answers it; webhooks leave out ``payments``."""
        body: dict[str, Any] = {
            "accept_partial": self.accept_partial,
            "amount": self.amount,
            "amount_paid": self.amount_paid,
            "callback_method": self.callback_method,
            "callback_url": self.callback_url,
            "cancelled_at": self.cancelled_at,
            "created_at": self.created_at,
            "currency": self.currency,
            "customer": dict(self.customer) if self.customer is not None else [],
            "description": self.description,
            "expire_by": self.expire_by,
            "expired_at": self.expired_at,
            "first_min_partial_amount": self.first_min_partial_amount,
            "id": self.id,
            "notes": notes_json(self.notes),
            "notify": {**self.notify, "whatsapp": False},
        }
        if self.order_id is not None:
            body["order_id"] = self.order_id
        if with_payments:
            body["payments"] = [p.to_json() for p in self.payments] if self.payments else None
        return body | {
            "reference_id": self.reference_id,
            "reminder_enable": self.reminder_enable,
            "reminders": [],
            "short_url": self.short_url,
            "status": self.status,
            "updated_at": self.updated_at,
            "upi_link": self.upi_link,
            "user_id": "",
            "whatsapp_link": False,
        }


def internal_order_json(
    link: PaymentLink, order: Order, account_id: str, key_id: str, updated_at: int
) -> dict[str, Any]:
    """The link's order as ``payment_link.*`` webhooks carry it: Razorpay's internal order
    record (id without ``order_``, no ``entity`` key, product fields), not the API's order."""
    return {
        "account_number": None,
        "amount": order.amount,
        "amount_due": order.amount - order.amount_paid,
        "amount_paid": order.amount_paid,
        "app_offer": False,
        "attempts": order.attempts,
        "authorized": order.amount_paid > 0,
        "bank": None,
        "bank_account": None,
        "checkout_config_id": None,
        "created_at": order.created_at,
        "currency": order.currency,
        "customer_id": None,
        "discount": False,
        "first_payment_min_amount": link.first_min_partial_amount or None,
        "force_offer": None,
        "id": order.id.removeprefix("order_"),
        "late_auth_config_id": None,
        "merchant_id": account_id.removeprefix("acc_"),
        "method": None,
        "notes": notes_json(order.notes),
        "offers": {},
        "order_metas": [],
        "order_relationships": [],
        "partial_payment": link.accept_partial,
        "payer_name": None,
        "payment_capture": True,
        "product_id": link.bare_id,
        "product_type": "payment_link_v2",
        "provider_context": None,
        "public_key": key_id,
        "public_response": None,
        "receipt": order.receipt,
        **{f"reference{n}": None for n in range(2, 9)},
        "source": None,
        "status": order.status,
        "transfers": None,
        "updated_at": updated_at,
    }
