"""The sandbox's Razorpay entities and their JSON shapes (key order as in Razorpay's samples)."""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

Notes = dict[str, str | int | float | bool | None]

ID_ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 14

FEE_PERCENT = 2
GST_PERCENT = 18


def new_id(prefix: str = "") -> str:
    """Return ``prefix`` followed by 14 random alphanumerics, like Razorpay ids."""
    return prefix + "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def random_digits(length: int) -> str:
    """Return a string of random decimal digits (auth codes, RRNs, ARNs)."""
    return "".join(secrets.choice(string.digits) for _ in range(length))


def now() -> int:
    """Current time in Unix seconds, the unit of every Razorpay timestamp."""
    return int(time.time())


def notes_json(notes: Notes) -> dict[str, Any] | list[Any]:
    """Serialise notes as Razorpay does: a copy of the object, or ``[]`` when empty."""
    return dict(notes) if notes else []


def gateway_fee(amount: int) -> tuple[int, int]:
    """Return ``(fee, tax)`` for a captured amount: 2% fee plus 18% GST on it, in subunits.

    As in Razorpay's payment entity, ``fee`` includes ``tax``. Rounds half up.
    """
    base_fee = (amount * FEE_PERCENT + 50) // 100
    tax = (base_fee * GST_PERCENT + 50) // 100
    return base_fee + tax, tax


@dataclass
class Order:
    """An order: created, then attempted by its first payment, then paid by a capture."""

    id: str
    amount: int
    currency: str
    receipt: str | None
    notes: Notes
    auto_capture: bool | None = None
    status: str = "created"
    attempts: int = 0
    amount_paid: int = 0
    created_at: int = field(default_factory=now)

    def to_json(self) -> dict[str, Any]:
        """Return the order as Razorpay serialises it."""
        return {
            "id": self.id,
            "entity": "order",
            "amount": self.amount,
            "amount_paid": self.amount_paid,
            "amount_due": self.amount - self.amount_paid,
            "currency": self.currency,
            "receipt": self.receipt,
            "offer_id": None,
            "status": self.status,
            "attempts": self.attempts,
            "notes": notes_json(self.notes),
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Card:
    """The card a card payment was made with (always the Visa test card)."""

    id: str
    name: str

    def to_json(self) -> dict[str, Any]:
        """Return the card object embedded in a card payment."""
        return {
            "id": self.id,
            "entity": "card",
            "name": self.name,
            "last4": "1007",
            "network": "Visa",
            "type": "debit",
            "issuer": None,
            "international": False,
            "emi": False,
            "sub_type": "consumer",
            "token_iin": None,
        }


@dataclass(frozen=True)
class PaymentError:
    """Why a payment failed, as shown in its ``error_*`` fields and Checkout's failure event."""

    code: str
    description: str
    source: str
    step: str
    reason: str


@dataclass
class Payment:
    """A payment attempt on an order, made through Checkout (here: the control API)."""

    id: str
    order_id: str
    amount: int
    currency: str
    method: str
    email: str
    contact: str
    description: str | None
    notes: Notes
    card: Card | None = None
    bank: str | None = None
    wallet: str | None = None
    vpa: str | None = None
    acquirer_data: dict[str, str | None] = field(default_factory=dict)
    status: str = "created"
    amount_refunded: int = 0
    fee: int | None = None
    tax: int | None = None
    error: PaymentError | None = None
    created_at: int = field(default_factory=now)
    # Set on the payments of subscription charges (charges.py).
    invoice_id: str | None = None
    customer_id: str | None = None

    @property
    def is_captured(self) -> bool:
        """True from capture onwards, refunded payments included."""
        return self.status in ("captured", "refunded")

    @property
    def refundable_amount(self) -> int:
        """What can still be refunded."""
        return self.amount - self.amount_refunded

    @property
    def refund_status(self) -> str | None:
        """``None`` before any refund, then ``partial`` or ``full``."""
        if self.amount_refunded == 0:
            return None
        return "full" if self.amount_refunded >= self.amount else "partial"

    def to_json(self) -> dict[str, Any]:
        """Return the payment as Razorpay serialises it."""
        body: dict[str, Any] = {
            "id": self.id,
            "entity": "payment",
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status,
            "order_id": self.order_id,
            "invoice_id": self.invoice_id,
            "international": False,
            "method": self.method,
            "amount_refunded": self.amount_refunded,
            "refund_status": self.refund_status,
            "captured": self.is_captured,
            "description": self.description,
            "card_id": self.card.id if self.card else None,
        }
        if self.card:
            body["card"] = self.card.to_json()
        body |= self._payer_json()
        body |= {"notes": notes_json(self.notes), "fee": self.fee, "tax": self.tax}
        body |= self._error_json()
        body |= {"acquirer_data": dict(self.acquirer_data), "created_at": self.created_at}
        if self.method == "upi":
            body["upi"] = {"vpa": self.vpa, "flow": "collect"}
        return body

    def _payer_json(self) -> dict[str, Any]:
        """Who paid and from where: bank, wallet or VPA, e-mail and phone."""
        return {
            "bank": self.bank,
            "wallet": self.wallet,
            "vpa": self.vpa,
            "email": self.email,
            "contact": self.contact,
            "customer_id": self.customer_id,
            "token_id": None,
        }

    def _error_json(self) -> dict[str, str | None]:
        """The ``error_*`` fields: all null unless the payment failed."""
        error = self.error
        return {
            "error_code": error.code if error else None,
            "error_description": error.description if error else None,
            "error_source": error.source if error else None,
            "error_step": error.step if error else None,
            "error_reason": error.reason if error else None,
        }


@dataclass
class Refund:
    """A refund of (part of) a captured payment: pending, then processed or failed."""

    id: str
    payment_id: str
    amount: int
    currency: str
    notes: Notes
    receipt: str | None
    speed_requested: str
    status: str
    arn: str | None = None
    created_at: int = field(default_factory=now)

    @property
    def speed_processed(self) -> str:
        """How the refund was (or is being) processed: instant for ``optimum`` requests."""
        return "instant" if self.speed_requested == "optimum" else "normal"

    def to_json(self) -> dict[str, Any]:
        """Return the refund as Razorpay serialises it."""
        return {
            "id": self.id,
            "entity": "refund",
            "amount": self.amount,
            "currency": self.currency,
            "payment_id": self.payment_id,
            "notes": notes_json(self.notes),
            "receipt": self.receipt,
            "acquirer_data": {"arn": self.arn},
            "created_at": self.created_at,
            "batch_id": None,
            "status": self.status,
            "speed_processed": self.speed_processed,
            "speed_requested": self.speed_requested,
        }
