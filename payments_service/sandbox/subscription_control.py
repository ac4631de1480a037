"""The sandbox's own controls for subscriptions (no auth), and their Checkout page.

* ``POST /_sandbox/subscriptions/<id>/pay``: the customer's authentication payment on
  Checkout; answers what the handler receives (signed ``payment_id|subscription_id``).
* ``POST /_sandbox/subscriptions/<id>/charge``: Razorpay's "Charge this now" with an outcome.
* ``PATCH /_sandbox/subscriptions/<id>``: ``charge_outcome`` of its automatic charges.
* ``GET /checkout/subscription``: the test-payment page Checkout opens for a
  ``subscription_id`` (also the subscription's ``short_url``).

The clock their billing runs on is the sandbox's one clock (clock_control.py: ``GET
/_sandbox/clock`` and ``POST /_sandbox/clock/advance``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template, request

from .billing import authenticate, charge_now, run_due
from .charges import TOKEN_AMOUNT, Payer
from .checkout import ORIGIN_PATTERN, format_amount
from .control import OUTCOMES
from .errors import RazorpayError, invalid_request
from .extension import current_sandbox
from .validation import json_body, parse_choice, reject_unknown, required
from .webhooks import sign

Json = dict[str, Any]

RECURRING_METHODS = ("card", "upi")
# What the test-payment page sends; ``description`` and ``notes`` (Checkout's options) are
# accepted and not kept, since the subscription's payments carry their own.
PAY_FIELDS = frozenset({"outcome", "method", "email", "contact", "name", "description", "notes"})

subscription_control = Blueprint("sandbox_subscriptions", __name__)


@dataclass(frozen=True)
class SubscriptionPage:
    """What pay.html shows for a subscription (the fields it reads of an order's page)."""

    order_id: str
    label: str
    pay_url: str
    merchant_name: str
    description: str
    amount_text: str
    customer_name: str
    email: str
    contact: str
    method: str
    notes_json: str
    target_origin: str


@subscription_control.post("/_sandbox/subscriptions/<sub_id>/pay")
def subscription_pay(sub_id: str) -> Json:
    """Act as the customer authenticating the subscription on Checkout."""
    payer = _payer(json_body())
    with current_sandbox().state.transaction() as transaction:
        book = transaction.state.subscriptions
        sub = book.subscription(sub_id)
        payment = authenticate(transaction, book, sub, payer)
    if payment.error is not None:
        error = payment.error
        metadata = {"subscription_id": sub.id, "payment_id": payment.id}
        return {
            "error": {
                "code": error.code,
                "description": error.description,
                "source": error.source,
                "step": error.step,
                "reason": error.reason,
                "metadata": metadata,
            }
        }
    message = f"{payment.id}|{sub.id}".encode()  # payment id first, unlike orders
    return {
        "razorpay_payment_id": payment.id,
        "razorpay_subscription_id": sub.id,
        "razorpay_signature": sign(current_sandbox().config.key_secret, message),
    }


@subscription_control.post("/_sandbox/subscriptions/<sub_id>/charge")
def subscription_charge(sub_id: str) -> Json:
    """Charge now with the given outcome; answers the subscription, payment and events."""
    body = json_body()
    reject_unknown(body, ("outcome",))
    succeeds = _outcome(body, "outcome") == "success"
    with current_sandbox().state.transaction() as transaction:
        book = transaction.state.subscriptions
        sub = book.subscription(sub_id)
        payment = charge_now(transaction, book, sub, succeeds)
        return {
            "subscription": sub.to_json(),
            "payment": payment.to_json(),
            "events": [event.name for event in transaction.events],
        }


@subscription_control.patch("/_sandbox/subscriptions/<sub_id>")
def subscription_settings(sub_id: str) -> Json:
    """Set how its automatic charges (renewals and retries) go: ``charge_outcome``."""
    body = json_body()
    reject_unknown(body, ("charge_outcome",))
    outcome = _outcome(body, "charge_outcome")
    with current_sandbox().state.transaction() as transaction:
        sub = transaction.state.subscriptions.subscription(sub_id)
        sub.charge_outcome = outcome
        return sub.to_json() | {"charge_outcome": sub.charge_outcome}


@subscription_control.get("/checkout/subscription")
def subscription_page() -> tuple[str, int]:
    """The test-payment page for a subscription's authentication (key optional: the
    ``short_url`` has none)."""
    sandbox = current_sandbox()
    args = request.args
    if args.get("key_id", sandbox.config.key_id) != sandbox.config.key_id:
        return render_template("pay.html", error="The api key provided is invalid"), 400
    try:
        with sandbox.state.transaction() as transaction:
            book = transaction.state.subscriptions
            run_due(transaction, book)
            sub = book.subscription(args.get("subscription_id", ""))
            plan = book.plan(sub.plan_id)
            if sub.status != "created":
                raise invalid_request("Customer payment is not allowed for the Subscription "
                                      "at this stage.")  # fmt: skip
    except RazorpayError as exc:
        return render_template("pay.html", error=exc.description), 400
    amount = plan.amount * sub.quantity if sub.start_at is None else TOKEN_AMOUNT
    method = args.get("prefill_method", "card")
    page = SubscriptionPage(
        order_id=sub.id,
        label="Subscription",
        pay_url=f"/_sandbox/subscriptions/{sub.id}/pay",
        merchant_name=args.get("name", ""),
        description=args.get("description", "") or plan.item_name,
        amount_text=format_amount(amount, plan.currency),
        customer_name=args.get("prefill_name", ""),
        email=args.get("prefill_email", ""),
        contact=args.get("prefill_contact", ""),
        method=method if method in RECURRING_METHODS else "card",
        notes_json="",
        target_origin=_origin(args.get("origin")),
    )
    return render_template("pay.html", page=page, methods=RECURRING_METHODS), 200


def _payer(body: Json) -> Payer:
    """Validate the body of an authentication payment."""
    reject_unknown(body, PAY_FIELDS)
    defaults = Payer(succeeds=True)
    texts = {name: body.get(name) or getattr(defaults, name) for name in ("email", "contact")}
    if not all(isinstance(text, str) for text in texts.values()):
        raise invalid_request("The email and contact must be strings.")
    return Payer(
        succeeds=_outcome(body, "outcome") == "success",
        method=parse_choice(body, "method", RECURRING_METHODS),
        email=texts["email"],
        contact=texts["contact"],
        name=str(body.get("name") or ""),
    )


def _outcome(body: Json, name: str) -> str:
    """``success`` or ``failure``."""
    outcome = required(body, name)
    if outcome not in OUTCOMES:
        raise invalid_request(f"The selected {name} is invalid.", field=name)
    return str(outcome)


def _origin(origin: str | None) -> str:
    """The merchant page's origin to post results to; "" (none) unless it looks like one."""
    if origin and (origin == "null" or ORIGIN_PATTERN.match(origin)):
        return origin
    return ""
