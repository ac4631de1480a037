"""The Checkout stand-in: a checkout.js for merchant pages and the test-payment page it opens."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, render_template, request

from .errors import RazorpayError
from .extension import current_sandbox
from .payments import METHODS, payment_refusal

CURRENCY_SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£"}
ORIGIN_PATTERN = re.compile(r"^https?://[^/?#\s]+$")

checkout = Blueprint("sandbox_checkout", __name__)


@dataclass(frozen=True)
class PaymentPage:
    """What the test-payment page shows for one order."""

    order_id: str
    merchant_name: str
    description: str
    amount_text: str
    customer_name: str
    email: str
    contact: str
    method: str
    notes_json: str
    target_origin: str


def format_amount(amount: int, currency: str) -> str:
    """Format subunits for people, with integer arithmetic: 49900 INR -> "₹499.00"."""
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    return f"{symbol}{amount // 100:,}.{amount % 100:02d}"


@checkout.get("/checkout.js")
@checkout.get("/v1/checkout.js")
def checkout_script() -> Response:
    """Serve the script that defines ``window.Razorpay`` for merchant pages."""
    response = current_app.send_static_file("checkout.js")
    response.mimetype = "application/javascript"
    return response


@checkout.get("/checkout/pay")
def payment_page() -> tuple[str, int]:
    """Show the test-payment page for an order, or why it cannot be paid."""
    sandbox = current_sandbox()
    args = request.args
    if args.get("key_id") != sandbox.config.key_id:
        return render_template("pay.html", error="The api key provided is invalid"), 400
    try:
        with sandbox.state.reading() as state:
            order = state.order(args.get("order_id", ""))
            amount, currency = order.amount, order.currency
            refusal = payment_refusal(state, order)
    except RazorpayError as exc:
        return render_template("pay.html", error=exc.description), 400
    if refusal is not None:
        return render_template("pay.html", error=refusal), 400
    method = args.get("prefill_method", "card")
    page = PaymentPage(
        order_id=order.id,
        merchant_name=args.get("name", ""),
        description=args.get("description", ""),
        amount_text=format_amount(amount, currency),
        customer_name=args.get("prefill_name", ""),
        email=args.get("prefill_email", ""),
        contact=args.get("prefill_contact", ""),
        method=method if method in METHODS else "card",
        notes_json=_notes_json(args.get("notes")),
        target_origin=_target_origin(args.get("origin")),
    )
    return render_template("pay.html", page=page, methods=METHODS), 200


def _notes_json(text: str | None) -> str:
    """Checkout's ``notes`` option as passed on by checkout.js, or "" if absent or not JSON."""
    if not text:
        return ""
    try:
        notes = json.loads(text)
    except ValueError:
        return ""
    return json.dumps(notes) if isinstance(notes, dict) else ""


def _target_origin(origin: str | None) -> str:
    """The merchant page's origin to post results to; "" (none) unless it looks like one."""
    if origin and (origin == "null" or ORIGIN_PATTERN.match(origin)):
        return origin
    return ""
