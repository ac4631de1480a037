"""What the sandbox clock does to subscriptions: authentication, charges, retries, halts,
completion, expiry.

Razorpay's rules as the sandbox plays them (docs/razorpay.md, "Subscriptions"):

* Authentication (the Checkout payment) saves the mandate. With an immediate start it also
  pays the first cycle: ``subscription.authenticated``, ``.activated``, ``.charged``, then
  ``invoice.paid`` and ``payment.captured``. With a future ``start_at`` it takes a refunded
  token payment and the subscription waits, ``authenticated``, until then.
* At each ``charge_at`` the next cycle's invoice is raised (``remaining_count`` drops) and
  charged with the subscription's ``charge_outcome``. A failure makes it ``pending`` and is
  retried a day later, three times; the fourth failure halts it (``charge_at`` then points at
  the next cycle, whose invoice is raised but not charged). A success after failures sends
  ``.charged`` then ``.activated``; the last cycle's success ``.charged`` then ``.completed``.
* ``cancel_at_cycle_end`` cancels at ``current_end``; an unauthenticated subscription expires
  at ``expire_by`` (or at its ``start_at``).
"""

from __future__ import annotations

from .charges import (
    TOKEN_AMOUNT,
    Payer,
    authentication_payment,
    charge_invoice,
    cycle_start,
    raise_invoice,
    refund_token,
)
from .entities import Payment, new_id
from .errors import invalid_request
from .state import Transaction
from .subscription_book import SubscriptionBook
from .subscription_changes import apply_scheduled_changes
from .subscription_entities import Invoice, Subscription

SECONDS_PER_DAY = 86_400
MAX_CHARGE_ATTEMPTS = 4
MAX_STEPS = 100_000
NOT_PAYABLE = "Customer payment is not allowed for the Subscription at this stage."


def authenticate(
    transaction: Transaction, book: SubscriptionBook, sub: Subscription, payer: Payer
) -> Payment:
    """The customer pays on Checkout: a failed payment changes nothing else; a successful
    one saves the mandate and authenticates (and with an immediate start, activates and
    charges) the subscription. Raises RazorpayError unless it awaits authentication."""
    run_due(transaction, book)
    at = book.now()
    if sub.status != "created":
        raise invalid_request(NOT_PAYABLE)
    plan = book.plan(sub.plan_id)
    sub.payment_method, sub.payer_name = payer.method, payer.name
    sub.email, sub.contact = payer.email, payer.contact
    immediate = sub.start_at is None
    amount = plan.amount * sub.quantity if immediate else TOKEN_AMOUNT
    if not payer.succeeds:
        _, payment = authentication_payment(transaction, sub, amount, plan.currency, at, False)
        transaction.emit("payment.failed", payment=payment.to_json())
        return payment
    sub.customer_id = new_id("cust_")
    sub.card_id = new_id("card_") if payer.method == "card" else None
    sub.anchor = sub.start_at = sub.start_at or at
    sub.status = "authenticated"
    reschedule(book, sub)
    if not immediate:
        order, payment = authentication_payment(transaction, sub, amount, plan.currency, at, True)
        refund_token(transaction, order, payment, at)
        transaction.emit("subscription.authenticated", subscription=sub.to_json())
        return payment
    transaction.emit("subscription.authenticated", subscription=sub.to_json())
    invoice = raise_invoice(transaction, book, sub, at)
    return _charge(transaction, book, sub, invoice, at, succeeds=True)


def charge_now(
    transaction: Transaction, book: SubscriptionBook, sub: Subscription, succeeds: bool
) -> Payment:
    """Razorpay's "Charge this now": bill the next cycle early (authenticated or active),
    or retry the open invoice (pending, or halted: the latest one), at the clock's now."""
    run_due(transaction, book)
    at = book.now()
    if sub.status in ("authenticated", "active"):
        invoice = raise_invoice(transaction, book, sub, at)
    elif sub.status in ("pending", "halted") and sub.open_invoice_id is not None:
        invoice = book.invoice(sub.open_invoice_id)
    else:
        raise invalid_request(f"Subscription cannot be charged in {sub.status} status")
    return _charge(transaction, book, sub, invoice, at, succeeds)


def reschedule(book: SubscriptionBook, sub: Subscription) -> None:
    """Point ``charge_at`` at the next cycle to bill and ``end_at`` at the last one."""
    plan = book.plan(sub.plan_id)
    if sub.remaining_count <= 0:
        sub.charge_at = None
        return
    sub.charge_at = cycle_start(sub, plan, sub.cycle_index)
    sub.end_at = cycle_start(sub, plan, sub.cycle_index + sub.remaining_count - 1)


def run_due(transaction: Transaction, book: SubscriptionBook) -> None:
    """Do, in time order, everything the clock has reached on subscriptions: expiries,
    charges, retries, halted cycles, scheduled changes and cycle-end cancellations (the
    clock's advance also expires links in between: schedule.py)."""
    until = book.now()
    for _ in range(MAX_STEPS):
        due = next_due(book, until)
        if due is None:
            return
        act(transaction, book, due[1], due[0])


def next_due(book: SubscriptionBook, until: int) -> tuple[int, Subscription] | None:
    """The earliest step due on any subscription by ``until``: when, and on which."""
    due = [
        (moment, sub)
        for sub in book.subscriptions.values()
        if (moment := _next_due(sub)) is not None and moment <= until
    ]
    return min(due, key=lambda pair: pair[0], default=None)


def _next_due(sub: Subscription) -> int | None:
    """When the clock next has something to do to the subscription, if ever."""
    if sub.status == "created":
        limits = [limit for limit in (sub.expire_by, sub.start_at) if limit is not None]
        return min(limits, default=None)
    if sub.status == "active" and sub.cancel_at_cycle_end:
        return sub.current_end
    if sub.status in ("authenticated", "active", "pending", "halted"):
        return sub.charge_at
    return None


def act(transaction: Transaction, book: SubscriptionBook, sub: Subscription, at: int) -> None:
    """Do the one thing due on the subscription at ``at``."""
    if sub.status == "created":
        sub.status = "expired"
    elif sub.status == "active" and sub.cancel_at_cycle_end:
        cancel(transaction, sub, at)
    elif sub.status == "halted":
        raise_invoice(transaction, book, sub, at)
        reschedule(book, sub)
    elif sub.status == "pending" and sub.open_invoice_id is not None:
        invoice = book.invoice(sub.open_invoice_id)
        _charge(transaction, book, sub, invoice, at, sub.charge_outcome == "success")
    else:
        if apply_scheduled_changes(book, sub, at):
            reschedule(book, sub)
            transaction.emit("subscription.updated", subscription=sub.to_json())
        invoice = raise_invoice(transaction, book, sub, at)
        _charge(transaction, book, sub, invoice, at, sub.charge_outcome == "success")


def cancel(transaction: Transaction, sub: Subscription, at: int) -> None:
    """End the subscription now and say so."""
    sub.status, sub.ended_at, sub.charge_at = "cancelled", at, None
    sub.cancel_at_cycle_end = False
    transaction.emit("subscription.cancelled", subscription=sub.to_json())


def _charge(
    transaction: Transaction,
    book: SubscriptionBook,
    sub: Subscription,
    invoice: Invoice,
    at: int,
    succeeds: bool,
) -> Payment:
    """Charge the invoice and move the subscription on, with the events Razorpay sends."""
    payment = charge_invoice(transaction, sub, invoice, at, succeeds)
    if succeeds:
        _paid(transaction, book, sub, invoice, payment, at)
    else:
        _failed(transaction, book, sub, payment, at)
    return payment


def _paid(
    transaction: Transaction,
    book: SubscriptionBook,
    sub: Subscription,
    invoice: Invoice,
    payment: Payment,
    at: int,
) -> None:
    """A charge went through: active again, or completed after the last cycle."""
    previous = sub.status
    sub.status, sub.auth_attempts = "active", 0
    sub.paid_count += 1
    reschedule(book, sub)
    if sub.remaining_count <= 0:
        sub.cancel_at_cycle_end = False
    entities = {"subscription": sub.to_json(), "payment": payment.to_json()}
    if previous == "authenticated":
        transaction.emit("subscription.activated", **entities)
    transaction.emit("subscription.charged", **entities)
    if previous in ("pending", "halted"):
        transaction.emit("subscription.activated", **entities)
    if sub.remaining_count <= 0:
        sub.status, sub.ended_at = "completed", at
        transaction.emit(
            "subscription.completed", subscription=sub.to_json(), payment=payment.to_json()
        )
    order = transaction.state.order(invoice.order_id)
    transaction.emit(
        "invoice.paid", payment=payment.to_json(), order=order.to_json(), invoice=invoice.to_json()
    )
    transaction.emit("payment.captured", payment=payment.to_json())


def _failed(
    transaction: Transaction,
    book: SubscriptionBook,
    sub: Subscription,
    payment: Payment,
    at: int,
) -> None:
    """A charge failed: pending with a retry a day later, or halted after the fourth."""
    sub.auth_attempts += 1
    if sub.auth_attempts >= MAX_CHARGE_ATTEMPTS:
        sub.status = "halted"
        reschedule(book, sub)
        transaction.emit("subscription.halted", subscription=sub.to_json())
    else:
        sub.status, sub.charge_at = "pending", at + SECONDS_PER_DAY
        transaction.emit("subscription.pending", subscription=sub.to_json())
    transaction.emit("payment.failed", payment=payment.to_json())
