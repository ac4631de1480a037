"""The payment state machine: attempt (authorise or fail), then capture."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .entities import Card, Notes, Order, Payment, PaymentError, gateway_fee, new_id, random_digits
from .errors import BAD_REQUEST_ERROR, RazorpayError, invalid_request
from .state import SandboxState, Transaction
from .validation import parse_amount, reject_unknown, required

METHODS = ("card", "upi", "netbanking", "wallet")
ORDER_ALREADY_PAID = "Order has already been paid"
PAYMENT_AUTHORIZED = "A payment on this order is already authorized"
LINK_ORDER = "This order belongs to a payment link: pay it on the link's page"
GATEWAY_ERROR = "GATEWAY_ERROR"
GENERIC_FAILURE = PaymentError(
    BAD_REQUEST_ERROR, "Payment failed", "customer", "payment_authorization", "payment_failed"
)
KNOWN_FAILURES = {
    failure.reason: failure
    for failure in (
        GENERIC_FAILURE,
        PaymentError(
            BAD_REQUEST_ERROR,
            "Your payment has been cancelled. Try again or complete the payment later.",
            "customer",
            "payment_authentication",
            "payment_cancelled",
        ),
        PaymentError(
            BAD_REQUEST_ERROR,
            "Your payment could not be completed due to insufficient account balance.",
            "customer",
            "payment_authorization",
            "insufficient_funds",
        ),
        PaymentError(
            BAD_REQUEST_ERROR,
            "Your payment was declined by the bank. Try another payment method.",
            "bank",
            "payment_authorization",
            "card_declined",
        ),
        PaymentError(
            BAD_REQUEST_ERROR,
            "Your payment could not be completed on time. Try again later.",
            "customer",
            "payment_authentication",
            "payment_timed_out",
        ),
        PaymentError(
            GATEWAY_ERROR,
            "Payment processing failed due to error at bank or wallet gateway",
            "gateway",
            "payment_authorization",
            "gateway_technical_error",
        ),
    )
}


@dataclass(frozen=True)
class Attempt:
    """What a customer does on Checkout: pay with a method, and whether the bank agrees."""

    succeeds: bool
    method: str = "card"
    email: str = "void@razorpay.com"
    contact: str = "+919999999999"
    customer_name: str = ""
    description: str | None = None
    notes: Notes | None = None
    error_reason: str = "payment_failed"
    # A tampered or misconfigured Checkout page may pay another amount or currency than
    # the order's; None means the order's own.
    amount: int | None = None
    currency: str | None = None

    @property
    def failure(self) -> PaymentError:
        """The error a failed attempt reports, looked up by its reason."""
        known = KNOWN_FAILURES.get(self.error_reason)
        if known is not None:
            return known
        return PaymentError(
            BAD_REQUEST_ERROR,
            GENERIC_FAILURE.description,
            GENERIC_FAILURE.source,
            GENERIC_FAILURE.step,
            self.error_reason,
        )


def attempt_payment(transaction: Transaction, order: Order, attempt: Attempt) -> Payment:
    """Record a payment attempt on an order and move both through their state machines.

    Emits ``payment.failed``, or ``payment.authorized`` followed (with automatic capture) by
    ``payment.captured`` and ``order.paid``. Raises RazorpayError if the order is paid or has
    a payment awaiting capture.
    """
    _check_payable(transaction, order)
    payment = Payment(
        id=new_id("pay_"),
        order_id=order.id,
        amount=order.amount if attempt.amount is None else attempt.amount,
        currency=order.currency if attempt.currency is None else attempt.currency,
        method=attempt.method,
        email=attempt.email,
        contact=attempt.contact,
        description=attempt.description,
        notes=dict(order.notes) if attempt.notes is None else attempt.notes,
        **payment_instrument(attempt),
    )
    transaction.state.add_payment(payment)
    order.attempts += 1
    order.status = "attempted"
    if not attempt.succeeds:
        payment.status = "failed"
        payment.error = attempt.failure
        transaction.emit("payment.failed", payment=payment.to_json())
        return payment
    payment.status = "authorized"
    transaction.emit("payment.authorized", payment=payment.to_json())
    if _captures_automatically(transaction, order):
        capture(transaction, payment)
    return payment


def capture_payment(transaction: Transaction, payment: Payment, body: Mapping[str, Any]) -> None:
    """Capture an authorised payment through the API (``amount`` and ``currency`` in the body).

    Raises RazorpayError unless the payment is authorised and the amount equals its amount.
    """
    reject_unknown(body, ("amount", "currency"))
    amount = parse_amount(required(body, "amount"), payment.currency)
    if required(body, "currency") != payment.currency:
        raise invalid_request("Currency should be same as the payment currency", field="currency")
    if payment.is_captured:
        raise invalid_request("This payment has already been captured")
    if payment.status != "authorized":
        raise invalid_request(
            "Only payments which have been authorized and not yet captured can be captured"
        )
    if amount != payment.amount:
        raise invalid_request(
            "Capture amount must be equal to the amount authorized", field="amount"
        )
    capture(transaction, payment)


def capture(transaction: Transaction, payment: Payment) -> None:
    """Capture an authorised payment: charge the fee, mark its order paid, emit both events.

    A payment of another amount or currency than its order's (one a tampered Checkout
    made) is captured, but pays nothing: its order stays as it was and no ``order.paid``
    is emitted.
    """
    payment.status = "captured"
    payment.fee, payment.tax = gateway_fee(payment.amount)
    order = transaction.state.order(payment.order_id)
    pays_the_order = (payment.amount, payment.currency) == (order.amount, order.currency)
    if pays_the_order:
        order.amount_paid = order.amount
        order.status = "paid"
    transaction.emit("payment.captured", payment=payment.to_json())
    if pays_the_order:
        transaction.emit("order.paid", payment=payment.to_json(), order=order.to_json())


def _captures_automatically(transaction: Transaction, order: Order) -> bool:
    """The order's own capture setting if it has one, else the sandbox's."""
    if order.auto_capture is not None:
        return order.auto_capture
    return transaction.config.auto_capture


def payment_refusal(state: SandboxState, order: Order) -> str | None:
    """Why Razorpay refuses a new payment on the order, or None when it accepts one.

    A paid order takes no further payment, and neither does one whose payment is
    authorized and awaits capture, nor a payment link's order (its payments are made on the
    link's page, which keeps the link up to date).
    """
    if order.status == "paid":
        return ORDER_ALREADY_PAID
    if any(link.order_id == order.id for link in state.payment_links.values()):
        return LINK_ORDER
    if any(payment.status == "authorized" for payment in state.payments_of(order.id)):
        return PAYMENT_AUTHORIZED
    return None


def _check_payable(transaction: Transaction, order: Order) -> None:
    """Refuse a new attempt on a paid order or one whose payment awaits capture."""
    refusal = payment_refusal(transaction.state, order)
    if refusal is not None:
        raise RazorpayError(refusal, metadata={"order_id": order.id})


def authorize_late(transaction: Transaction, payment: Payment) -> None:
    """Late authorisation: the bank authorises a payment Razorpay had already marked failed.

    Razorpay cannot refuse this one, so it happens even when another payment has paid the
    order since: a second captured payment on one order. Emits ``payment.authorized`` and,
    with automatic capture, ``payment.captured`` and ``order.paid`` (the sandbox's choice:
    whether Razorpay repeats ``order.paid`` for an order already paid is not documented).
    Raises RazorpayError unless the payment failed.
    """
    if payment.status != "failed":
        raise invalid_request("Only a failed payment can be authorized late")
    payment.status = "authorized"
    payment.error = None
    payment.acquirer_data = payment_instrument(Attempt(succeeds=True, method=payment.method))[
        "acquirer_data"
    ]
    if payment.vpa is not None:
        payment.vpa = "success@razorpay"
    transaction.emit("payment.authorized", payment=payment.to_json())
    if _captures_automatically(transaction, transaction.state.order(payment.order_id)):
        capture(transaction, payment)


def payment_instrument(attempt: Attempt) -> dict[str, Any]:
    """The method-specific payment fields: card, bank, wallet or VPA, and acquirer data."""
    succeeded = attempt.succeeds
    if attempt.method == "card":
        card = Card(new_id("card_"), attempt.customer_name)
        auth_code = random_digits(6) if succeeded else None
        return {"card": card, "acquirer_data": {"auth_code": auth_code}}
    if attempt.method == "upi":
        vpa = "success@razorpay" if succeeded else "failure@razorpay"
        rrn = random_digits(12) if succeeded else None
        return {"vpa": vpa, "acquirer_data": {"rrn": rrn}}
    if attempt.method == "netbanking":
        transaction_id = random_digits(7) if succeeded else None
        return {"bank": "HDFC", "acquirer_data": {"bank_transaction_id": transaction_id}}
    return {"wallet": "paytm", "acquirer_data": {"transaction_id": None}}
