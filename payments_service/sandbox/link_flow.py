"""The payment-link state machine: create, update, cancel, expire by the sandbox clock,
open (which makes the link's order) and pay on the hosted page.

created -> partially_paid -> paid, and created or partially_paid -> expired when the clock
passes ``expire_by``; only a created link can be cancelled. Each payment is an ordinary
captured payment on the link's order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .checkout import format_amount
from .entities import Order, Payment, gateway_fee, new_id
from .errors import invalid_request
from .link_rules import (
    DUPLICATE_REFERENCE,
    MAX_EXPIRY_SECONDS,
    check_edit_fields,
    parse_create,
    parse_expire_by,
    parse_flag,
    parse_link_notes,
    parse_reference,
)
from .links import LINK_PREFIX, LinkPayment, PaymentLink, internal_order_json, new_short_code
from .payments import Attempt, payment_instrument
from .state import SandboxState, Transaction
from .webhooks import sign

UPDATE_REFUSED = "update can only be made in created or partially paid state"
CANCEL_PAID = "cannot cancel or expire an already paid/partially paid link"
CANCEL_ENDED = "cannot cancel or expire an expired link"
SHORT_PATH = "/i/"


def create_link(transaction: Transaction, body: Mapping[str, Any], base_url: str) -> PaymentLink:
    """Validate a create body and store the new link; its short URL is ``base_url/i/<code>``."""
    state = transaction.state
    now = state.now()
    request = parse_create(body, now, transaction.config.key_id.startswith("rzp_test_"))
    if request.reference_id:
        _check_reference_unused(state, request.reference_id, None)
    code = new_short_code()
    link = PaymentLink(
        id=new_id(LINK_PREFIX),
        short_code=code,
        short_url=f"{base_url.rstrip('/')}{SHORT_PATH}{code}",
        created_at=now,
        updated_at=now,
        **vars(request),
    )
    state.payment_links[link.id] = link
    return link


def find_links(state: SandboxState, filters: Mapping[str, str]) -> list[PaymentLink]:
    """Links (oldest first) with the ``reference_id`` or the captured ``payment_id`` asked."""
    links = list(state.payment_links.values())
    if "reference_id" in filters:
        links = [link for link in links if link.reference_id == filters["reference_id"]]
    if "payment_id" in filters:
        wanted = filters["payment_id"]
        links = [link for link in links if any(p.payment_id == wanted for p in link.payments)]
    return links


def link_by_code(state: SandboxState, code: str) -> PaymentLink | None:
    """The link whose short URL ends in ``code``."""
    return next((link for link in state.payment_links.values() if link.short_code == code), None)


def edit_link(transaction: Transaction, link: PaymentLink, body: Mapping[str, Any]) -> None:
    """Change the editable fields of a created or partially paid link."""
    check_edit_fields(body)
    if not link.is_payable:
        raise invalid_request(UPDATE_REFUSED)
    now = transaction.state.now()
    if "reference_id" in body:
        reference = parse_reference(body)
        if reference and reference != link.reference_id:
            _check_reference_unused(transaction.state, reference, link.id)
        link.reference_id = reference
    if "expire_by" in body:
        link.expire_by = parse_expire_by(body["expire_by"], now)
    if "notes" in body:
        link.notes = parse_link_notes(body["notes"])
    if "accept_partial" in body:
        link.accept_partial = parse_flag(body, "accept_partial")
    if "reminder_enable" in body:
        link.reminder_enable = parse_flag(body, "reminder_enable")
    link.updated_at = now


def cancel_link(transaction: Transaction, link: PaymentLink) -> None:
    """Cancel a link nobody has paid yet; emits ``payment_link.cancelled``."""
    if link.status in ("paid", "partially_paid"):
        raise invalid_request(CANCEL_PAID)
    if link.status != "created":
        raise invalid_request(CANCEL_ENDED)
    now = transaction.state.now()
    link.status = "cancelled"
    link.cancelled_at = link.updated_at = now
    transaction.emit("payment_link.cancelled", payment_link=link.to_json(with_payments=False))


def expires_at(link: PaymentLink) -> int:
    """When the link expires: its ``expire_by``, else six months after its creation."""
    return link.expire_by or link.created_at + MAX_EXPIRY_SECONDS


def has_due_links(state: SandboxState) -> bool:
    """Whether some payable link's time has passed by the sandbox clock."""
    now = state.now()
    return any(link.is_payable and now >= expires_at(link) for link in state.payment_links.values())


def expire_due_links(transaction: Transaction) -> None:
    """Expire every unpaid link whose time has passed by the sandbox clock, emitting
    ``payment_link.expired`` for each (in creation order)."""
    now = transaction.state.now()
    for link in transaction.state.payment_links.values():
        if link.is_payable and now >= expires_at(link):
            link.status = "expired"
            link.expired_at = link.updated_at = now
            transaction.emit("payment_link.expired", payment_link=link.to_json(with_payments=False))


def open_link(transaction: Transaction, link: PaymentLink) -> Order:
    """The customer opens the hosted page: the link's order, made on first opening."""
    state = transaction.state
    if link.order_id is not None:
        return state.order(link.order_id)
    order = Order(
        id=new_id("order_"),
        amount=link.amount,
        currency=link.currency,
        receipt=link.reference_id or None,
        notes=dict(link.notes),
        auto_capture=True,
        created_at=state.now(),
    )
    state.orders[order.id] = order
    link.order_id = order.id
    return order


def payment_refusal(link: PaymentLink, amount: int) -> str | None:
    """Why the hosted page refuses to take ``amount`` now, or None."""
    if not link.is_payable:
        return f"This payment link is {link.status.replace('_', ' ')} and takes no payment"
    due = format_amount(link.amount_due, link.currency)
    if amount > link.amount_due:
        return f"The amount must not be greater than the amount due, {due}"
    minimum = link.minimum_payment()
    if amount < minimum:
        if not link.accept_partial:
            return f"The amount must be the amount due, {due}"
        return f"The amount must be at least {format_amount(minimum, link.currency)}"
    return None


def pay_link(transaction: Transaction, link: PaymentLink, attempt: Attempt, amount: int) -> Payment:
    """One payment on the hosted page, failed or captured at once.

    A failure emits ``payment.failed`` and leaves the link as it was. A success emits
    ``payment.authorized``, ``payment.captured``, ``order.paid`` when it completes the
    order, then ``payment_link.partially_paid`` or ``payment_link.paid``. Raises
    RazorpayError when the link takes no such payment (see payment_refusal).
    """
    refusal = payment_refusal(link, amount)
    if refusal is not None:
        raise invalid_request(refusal, field="amount")
    state = transaction.state
    order = open_link(transaction, link)
    payment = _new_payment(state, link, order, attempt, amount)
    order.attempts += 1
    order.status = "paid" if order.status == "paid" else "attempted"
    if not attempt.succeeds:
        payment.status = "failed"
        payment.error = attempt.failure
        transaction.emit("payment.failed", payment=payment.to_json())
        return payment
    payment.status = "authorized"
    transaction.emit("payment.authorized", payment=payment.to_json())
    _capture(transaction, link, order, payment)
    return payment


def _capture(transaction: Transaction, link: PaymentLink, order: Order, payment: Payment) -> None:
    """Capture a link payment and move the order and the link on."""
    now = transaction.state.now()
    payment.status = "captured"
    payment.fee, payment.tax = gateway_fee(payment.amount)
    order.amount_paid += payment.amount
    link.amount_paid += payment.amount
    link.payments.append(LinkPayment(payment.id, payment.amount, payment.method, now))
    link.status = "paid" if link.amount_due <= 0 else "partially_paid"
    link.updated_at = now
    transaction.emit("payment.captured", payment=payment.to_json())
    if order.amount_paid >= order.amount:
        order.status = "paid"
        transaction.emit("order.paid", payment=payment.to_json(), order=order.to_json())
    config = transaction.config
    transaction.emit(
        f"payment_link.{link.status}",
        payment_link=link.to_json(with_payments=False),
        order=internal_order_json(link, order, config.account_id, config.key_id, now),
        payment=payment.to_json(),
    )


def _new_payment(
    state: SandboxState, link: PaymentLink, order: Order, attempt: Attempt, amount: int
) -> Payment:
    """The payment record of one attempt on the link's order."""
    payment = Payment(
        id=new_id("pay_"),
        order_id=order.id,
        amount=amount,
        currency=link.currency,
        method=attempt.method,
        email=attempt.email,
        contact=attempt.contact,
        description=f"#{link.bare_id}",
        notes=dict(link.notes),
        created_at=state.now(),
        **payment_instrument(attempt),
    )
    state.add_payment(payment)
    return payment


def callback_params(link: PaymentLink, payment: Payment, key_secret: str) -> dict[str, str]:
    """The query the hosted page adds to ``callback_url`` after a successful payment,
    signed HMAC-SHA256(key_secret, link id|reference id|status|payment id)."""
    message = f"{link.id}|{link.reference_id}|{link.status}|{payment.id}"
    return {
        "razorpay_payment_id": payment.id,
        "razorpay_payment_link_id": link.id,
        "razorpay_payment_link_reference_id": link.reference_id,
        "razorpay_payment_link_status": link.status,
        "razorpay_signature": sign(key_secret, message.encode()),
    }


def _check_reference_unused(state: SandboxState, reference: str, own_id: str | None) -> None:
    """Refuse a reference id another link of the account has (whatever its status)."""
    for other in state.payment_links.values():
        if other.reference_id == reference and other.id != own_id:
            raise invalid_request(DUPLICATE_REFERENCE, field="reference_id")
