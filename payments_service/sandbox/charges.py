"""The money side of a subscription: the order, invoice and payment of each charge.

Every charge of a subscription is an order (``order_...``) with an invoice (``inv_...``)
and a payment (``pay_...``) linked to both and to the customer; subscription payments are
captured automatically. A future-start subscription is authenticated with a token payment
of 5.00 that is refunded at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from .entities import Card, Order, Payment, Refund, gateway_fee, new_id, random_digits
from .payments import KNOWN_FAILURES
from .plans import Plan
from .state import Transaction
from .subscription_book import SubscriptionBook
from .subscription_entities import Invoice, Subscription

RECURRING_DESCRIPTION = "Recurring Payment via Subscription"
AUTHENTICATION_DESCRIPTION = "Subscription authentication"
TOKEN_AMOUNT = 500
DECLINED = KNOWN_FAILURES["card_declined"]


@dataclass(frozen=True)
class Payer:
    """Who pays on Checkout and with what: the mandate every later charge uses."""

    succeeds: bool
    method: str = "card"
    email: str = "void@razorpay.com"
    contact: str = "+919999999999"
    name: str = ""


def cycle_start(sub: Subscription, plan: Plan, cycle: int) -> int:
    """When billing cycle ``cycle`` (0 the first) of the subscription starts."""
    if sub.anchor is None:
        raise ValueError(f"subscription {sub.id} has no billing schedule yet")
    return plan.cycle_boundary(sub.anchor, cycle - sub.anchor_index)


def raise_invoice(
    transaction: Transaction, book: SubscriptionBook, sub: Subscription, at: int
) -> Invoice:
    """Issue the invoice (and its order) of the next cycle and make it the current one."""
    plan = book.plan(sub.plan_id)
    cycle = sub.cycle_index
    order = Order(
        id=new_id("order_"),
        amount=plan.amount * sub.quantity,
        currency=plan.currency,
        receipt=None,
        notes={},
        auto_capture=True,
        created_at=at,
    )
    transaction.state.orders[order.id] = order
    invoice = Invoice(
        id=new_id("inv_"),
        subscription_id=sub.id,
        order_id=order.id,
        customer_id=sub.customer_id,
        email=sub.email,
        contact=sub.contact,
        line_item_id=new_id("li_"),
        plan_name=plan.item_name,
        unit_amount=plan.amount,
        quantity=sub.quantity,
        currency=plan.currency,
        billing_start=cycle_start(sub, plan, cycle),
        billing_end=cycle_start(sub, plan, cycle + 1),
        short_url=sub.short_url,
        created_at=at,
    )
    book.invoices[invoice.id] = invoice
    sub.cycle_index += 1
    sub.remaining_count -= 1
    sub.current_start, sub.current_end = invoice.billing_start, invoice.billing_end
    sub.open_invoice_id = invoice.id
    return invoice


def charge_invoice(
    transaction: Transaction, sub: Subscription, invoice: Invoice, at: int, succeeds: bool
) -> Payment:
    """Charge the saved mandate for the invoice: a captured payment that pays the invoice
    and its order, or a failed one that leaves both open."""
    order = transaction.state.order(invoice.order_id)
    payment = _payment(sub, order, at, RECURRING_DESCRIPTION, succeeds)
    payment.invoice_id = invoice.id
    transaction.state.add_payment(payment)
    order.attempts += 1
    if not succeeds:
        order.status = "attempted"
        return payment
    order.status, order.amount_paid = "paid", order.amount
    invoice.status, invoice.payment_id, invoice.paid_at = "paid", payment.id, at
    sub.open_invoice_id = None
    return payment


def authentication_payment(
    transaction: Transaction, sub: Subscription, amount: int, currency: str, at: int, ok: bool
) -> tuple[Order, Payment]:
    """The payment of the Checkout authentication itself, on an order of its own."""
    order = Order(
        id=new_id("order_"), amount=amount, currency=currency, receipt=None, notes={},
        auto_capture=True, status="attempted", attempts=1, created_at=at,
    )  # fmt: skip
    transaction.state.orders[order.id] = order
    payment = _payment(sub, order, at, AUTHENTICATION_DESCRIPTION, ok)
    transaction.state.add_payment(payment)
    return order, payment


def refund_token(transaction: Transaction, order: Order, payment: Payment, at: int) -> None:
    """Pay the token order and refund its payment in full, as Razorpay does at once."""
    order.status, order.amount_paid = "paid", order.amount
    payment.status, payment.amount_refunded = "refunded", payment.amount
    transaction.state.add_refund(
        Refund(
            id=new_id("rfnd_"), payment_id=payment.id, amount=payment.amount,
            currency=payment.currency, notes={}, receipt=None, speed_requested="normal",
            status="processed", arn=random_digits(23), created_at=at,
        )
    )  # fmt: skip


def _payment(sub: Subscription, order: Order, at: int, description: str, ok: bool) -> Payment:
    """A payment of the order with the subscription's mandate: captured, or failed."""
    payment = Payment(
        id=new_id("pay_"),
        order_id=order.id,
        amount=order.amount,
        currency=order.currency,
        method=sub.payment_method or "card",
        email=sub.email,
        contact=sub.contact,
        description=description,
        notes={},
        customer_id=sub.customer_id,
        created_at=at,
    )
    if payment.method == "card":
        payment.card = Card(sub.card_id or new_id("card_"), sub.payer_name)
        payment.acquirer_data = {"auth_code": random_digits(6) if ok else None}
    else:
        payment.vpa = "success@razorpay" if ok else "failure@razorpay"
        payment.acquirer_data = {"rrn": random_digits(12) if ok else None}
    if ok:
        payment.status = "captured"
        payment.fee, payment.tax = gateway_fee(payment.amount)
    else:
        payment.status, payment.error = "failed", DECLINED
    return payment
