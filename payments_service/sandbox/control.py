"""The sandbox's own control API (no auth): pay orders, settle refunds, inspect and configure.

These routes stand in for what a customer and Razorpay's back office would do; they are not
part of Razorpay's API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .config import ConfigError
from .errors import NO_SUCH_ID, invalid_request
from .extension import current_sandbox
from .payments import METHODS, Attempt, attempt_payment, authorize_late
from .refunds import settle_refund
from .validation import (
    json_body,
    parse_amount,
    parse_choice,
    parse_currency,
    parse_notes,
    reject_unknown,
    required,
)
from .webhooks import sign

Json = dict[str, Any]

PAY_FIELDS = frozenset(
    {"outcome", "method", "email", "contact", "name", "description", "notes", "error_reason"}
    | {"amount", "currency"}  # what a tampered Checkout page may change
)
OUTCOMES = ("success", "failure")

control = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")


@control.post("/orders/<order_id>/pay")
def order_pay(order_id: str) -> Json:
    """Act as the customer on Checkout: pay the order successfully or fail.

    ``amount`` and ``currency`` (both optional, the order's by default) act as a tampered
    or misconfigured Checkout page paying something other than the order says; such a
    payment is authorised and captured like any other but never marks the order paid.
    Answers what Checkout hands the merchant page: the success fields with their signature,
    or the ``payment.failed`` object.
    """
    attempt = _parse_attempt(json_body())
    sandbox = current_sandbox()
    with sandbox.state.transaction() as transaction:
        order = transaction.state.order(order_id)
        payment = attempt_payment(transaction, order, attempt)
        error = payment.error
    if error is not None:
        return {
            "error": {
                "code": error.code,
                "description": error.description,
                "source": error.source,
                "step": error.step,
                "reason": error.reason,
                "metadata": {"order_id": order.id, "payment_id": payment.id},
            }
        }
    return _checkout_success(order.id, payment.id)


@control.post("/payments/<payment_id>/authorize")
def payment_authorize_late(payment_id: str) -> Json:
    """Act as the bank answering late: authorise a payment that had failed (Razorpay's late
    authorisation), captured at once with automatic capture, even on an order another
    payment has paid since (the one way an order ends up with two captured payments).

    Answers the success fields Checkout would have handed the page had the answer been on
    time, so a test can also report the payment through verify.
    """
    reject_unknown(json_body(), ())
    with current_sandbox().state.transaction() as transaction:
        payment = transaction.state.payment(payment_id)
        authorize_late(transaction, payment)
    return _checkout_success(payment.order_id, payment.id)


@control.post("/refunds/<refund_id>/settle")
def refund_settle(refund_id: str) -> Json:
    """Finish a pending refund as ``processed`` or ``failed``."""
    body = json_body()
    reject_unknown(body, ("status",))
    status = str(required(body, "status"))
    with current_sandbox().state.transaction() as transaction:
        refund = transaction.state.refund(refund_id)
        settle_refund(transaction, refund, status)
        return refund.to_json()


@control.get("/config")
def config_show() -> Json:
    """Show the settings, secrets excepted."""
    return current_sandbox().config.public_view()


@control.patch("/config")
def config_update() -> Json:
    """Change any setting but the secrets; answers the settings after the change."""
    body = json_body()
    sandbox = current_sandbox()
    with sandbox.state.transaction():
        try:
            sandbox.config.update(body)
        except ConfigError as exc:
            detail = f"{exc.field_name}: {exc.message}"
            raise invalid_request(detail, field=exc.field_name) from None
        if "seed" in body:
            sandbox.chaos.reseed()
        return sandbox.config.public_view()


@control.get("/ledger")
def ledger_show() -> dict[str, dict[str, int]]:
    """Money totals per currency: captured, refunded, fees and the resulting balance."""
    return current_sandbox().state.ledger()


@control.get("/webhooks")
def webhook_deliveries() -> list[Json]:
    """Every webhook delivery: event, URL, attempts, last status code, delivered or not."""
    return current_sandbox().webhooks.deliveries()


@control.get("/events")
def events_list() -> list[Json]:
    """Every event emitted, with the exact body and signature a delivery carries."""
    return current_sandbox().webhooks.events()


@control.post("/events/<event_id>/redeliver")
def event_redeliver(event_id: str) -> list[Json]:
    """Send a recorded event again to every webhook URL, same body and signature.

    Delivers before answering, once per URL, whatever the delivery mode and chaos knobs;
    answers the new deliveries.
    """
    webhooks = current_sandbox().webhooks
    event = webhooks.event(event_id)
    if event is None:
        raise invalid_request(NO_SUCH_ID)
    return webhooks.redeliver(event)


@control.post("/reset")
def reset() -> Json:
    """Forget all entities, events and deliveries, restart the random sequence; keep settings."""
    sandbox = current_sandbox()
    sandbox.state.reset()
    sandbox.webhooks.clear()
    sandbox.chaos.reseed()
    return {"reset": True}


def _checkout_success(order_id: str, payment_id: str) -> Json:
    """What Checkout hands the merchant page for a successful payment, signed."""
    message = f"{order_id}|{payment_id}".encode()
    return {
        "razorpay_payment_id": payment_id,
        "razorpay_order_id": order_id,
        "razorpay_signature": sign(current_sandbox().config.key_secret, message),
    }


def _parse_attempt(body: Json) -> Attempt:
    """Validate the body of a pay request."""
    reject_unknown(body, PAY_FIELDS)
    outcome = required(body, "outcome")
    if outcome not in OUTCOMES:
        raise invalid_request("The selected outcome is invalid.", field="outcome")
    defaults = Attempt(succeeds=True)
    currency = parse_currency(body["currency"]) if "currency" in body else None
    amount = parse_amount(body["amount"], currency or "INR") if "amount" in body else None
    return Attempt(
        succeeds=outcome == "success",
        method=parse_choice(body, "method", METHODS),
        email=_text(body, "email") or defaults.email,
        contact=_text(body, "contact") or defaults.contact,
        customer_name=_text(body, "name") or defaults.customer_name,
        description=_text(body, "description"),
        notes=parse_notes(body["notes"]) if "notes" in body else None,
        error_reason=_text(body, "error_reason") or defaults.error_reason,
        amount=amount,
        currency=currency,
    )


def _text(body: Json, name: str) -> str | None:
    """An optional string field; absent or empty gives None."""
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid_request(f"The {name} must be a string.", field=name)
    return value
