"""The entities of Razorpay Subscriptions: the subscription and the invoice of each cycle.

Fields Razorpay shows are kept under their API names; the sandbox's own bookkeeping (the
billing schedule, the mandate, the outcome of automatic charges) follows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .entities import Notes, notes_json

CURRENCY_SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£"}
FINAL_STATUSES = frozenset({"cancelled", "completed", "expired"})


@dataclass
class Subscription:
    """One customer's subscription to a plan for ``total_count`` cycles."""

    id: str
    plan_id: str
    total_count: int
    quantity: int
    notes: Notes
    customer_notify: bool
    expire_by: int | None
    start_at: int | None
    created_at: int
    short_url: str
    remaining_count: int
    status: str = "created"
    customer_id: str | None = None
    current_start: int | None = None
    current_end: int | None = None
    ended_at: int | None = None
    charge_at: int | None = None
    end_at: int | None = None
    auth_attempts: int = 0
    paid_count: int = 0
    change_scheduled_at: int | None = None
    payment_method: str | None = None
    paused_at: int | None = None
    pause_initiated_by: str | None = None
    was_paused: bool = False
    # The billing schedule: cycle k starts ``k - anchor_index`` plan periods after ``anchor``;
    # ``cycle_index`` is the next cycle to invoice.
    anchor: int | None = None
    anchor_index: int = 0
    cycle_index: int = 0
    open_invoice_id: str | None = None
    cancel_at_cycle_end: bool = False
    scheduled_changes: dict[str, Any] | None = None
    # The mandate saved by the authentication payment, and how automatic charges go.
    card_id: str | None = None
    payer_name: str = ""
    email: str = ""
    contact: str = ""
    charge_outcome: str = "success"

    @property
    def is_final(self) -> bool:
        """Cancelled, completed or expired: nothing more happens to it."""
        return self.status in FINAL_STATUSES

    def to_json(self) -> dict[str, Any]:
        """Return the subscription as Razorpay serialises it."""
        body: dict[str, Any] = {
            "id": self.id,
            "entity": "subscription",
            "plan_id": self.plan_id,
            "customer_id": self.customer_id,
            "status": self.status,
            "current_start": self.current_start,
            "current_end": self.current_end,
            "ended_at": self.ended_at,
            "quantity": self.quantity,
            "notes": notes_json(self.notes),
            "charge_at": self.charge_at,
            "start_at": self.start_at,
            "end_at": self.end_at,
            "auth_attempts": self.auth_attempts,
            "total_count": self.total_count,
            "paid_count": self.paid_count,
            "customer_notify": self.customer_notify,
            "created_at": self.created_at,
        }
        if self.was_paused:
            body |= {"paused_at": self.paused_at, "pause_initiated_by": self.pause_initiated_by}
        body |= {
            "expire_by": self.expire_by,
            "short_url": self.short_url,
            "has_scheduled_changes": self.scheduled_changes is not None,
            "change_scheduled_at": self.change_scheduled_at,
            "source": "api",
            "offer_id": None,
        }
        if self.payment_method is not None:
            body["payment_method"] = self.payment_method
        body["remaining_count"] = self.remaining_count
        return body


@dataclass
class Invoice:
    """The invoice of one billing cycle (or of the authentication charge): issued, then paid."""

    id: str
    subscription_id: str
    order_id: str
    customer_id: str | None
    email: str
    contact: str
    line_item_id: str
    plan_name: str
    unit_amount: int
    quantity: int
    currency: str
    billing_start: int
    billing_end: int
    short_url: str
    created_at: int
    status: str = "issued"
    payment_id: str | None = None
    paid_at: int | None = None

    @property
    def amount(self) -> int:
        """What the invoice charges: the plan amount times the quantity."""
        return self.unit_amount * self.quantity

    def to_json(self) -> dict[str, Any]:
        """Return the invoice as Razorpay serialises a subscription invoice."""
        return {
            "id": self.id,
            "entity": "invoice",
            "receipt": None,
            "invoice_number": None,
            "customer_id": self.customer_id,
            "customer_details": self._customer_json(),
            "order_id": self.order_id,
            "subscription_id": self.subscription_id,
            "line_items": [self._line_item_json()],
            "payment_id": self.payment_id,
            "status": self.status,
            "expire_by": None,
            "issued_at": self.created_at,
            "paid_at": self.paid_at,
            "cancelled_at": None,
            "expired_at": None,
            "sms_status": None,
            "email_status": None,
            "date": self.created_at,
            "terms": None,
            "partial_payment": False,
            **self._amounts_json(),
            "currency": self.currency,
            "currency_symbol": CURRENCY_SYMBOLS.get(self.currency, self.currency),
            "description": None,
            "notes": [],
            "comment": None,
            "short_url": self.short_url,
            "view_less": True,
            "billing_start": self.billing_start,
            "billing_end": self.billing_end,
            "type": "invoice",
            "group_taxes_discounts": False,
            "created_at": self.created_at,
            "idempotency_key": None,
        }

    def _amounts_json(self) -> dict[str, int]:
        paid = self.amount if self.status == "paid" else 0
        return {
            "gross_amount": self.amount,
            "tax_amount": 0,
            "taxable_amount": self.amount,
            "amount": self.amount,
            "amount_paid": paid,
            "amount_due": self.amount - paid,
        }

    def _customer_json(self) -> dict[str, Any]:
        return {
            "id": self.customer_id,
            "name": None,
            "email": self.email,
            "contact": self.contact,
            "gstin": None,
            "billing_address": None,
            "shipping_address": None,
            "customer_name": None,
            "customer_email": self.email,
            "customer_contact": self.contact,
        }

    def _line_item_json(self) -> dict[str, Any]:
        return {
            "id": self.line_item_id,
            "item_id": None,
            "ref_id": None,
            "ref_type": None,
            "name": self.plan_name,
            "description": None,
            "amount": self.unit_amount,
            "unit_amount": self.unit_amount,
            "gross_amount": self.amount,
            "tax_amount": 0,
            "taxable_amount": self.amount,
            "net_amount": self.amount,
            "currency": self.currency,
            "type": "plan",
            "tax_inclusive": False,
            "hsn_code": None,
            "sac_code": None,
            "tax_rate": None,
            "unit": None,
            "quantity": self.quantity,
            "taxes": [],
        }
