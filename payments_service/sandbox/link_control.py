"""Control routes (no auth) for payment links and the sandbox clock.

``POST /_sandbox/payment_links/<id>/open`` and ``/pay`` do what a customer does on the
hosted page, for tests without a browser; ``GET|POST /_sandbox/clock`` shows and moves the
clock links expire by.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .errors import invalid_request
from .extension import current_sandbox
from .link_flow import callback_params, expire_due_links, open_link, pay_link
from .link_page import with_query
from .payments import METHODS, Attempt
from .state import SandboxState
from .validation import json_body, parse_amount, parse_choice, reject_unknown, required

Json = dict[str, Any]
PAY_FIELDS = frozenset({"outcome", "amount", "method", "email", "contact", "name", "error_reason"})
OUTCOMES = ("success", "failure")
MAX_ADVANCE_SECONDS = 10 * 366 * 24 * 60 * 60

link_control = Blueprint("sandbox_link_control", __name__, url_prefix="/_sandbox")


@link_control.post("/payment_links/<link_id>/open")
def link_open(link_id: str) -> Json:
    """Open the hosted page: a payable link gets its order. Answers the link."""
    reject_unknown(json_body(), ())
    with current_sandbox().state.transaction() as transaction:
        expire_due_links(transaction)
        link = transaction.state.payment_link(link_id)
        if link.is_payable:
            open_link(transaction, link)
        return link.to_json()


@link_control.post("/payment_links/<link_id>/pay")
def link_pay(link_id: str) -> Json:
    """Pay on the hosted page: ``outcome`` success or failure, ``amount`` (paise; the whole
    amount due by default), ``method``, ``email``, ``contact``, ``name``, ``error_reason``.

    Answers, on success, the five callback parameters and ``redirect_url`` (where the page
    sends the browser; null without a ``callback_url``); on failure, the error object
    Checkout reports.
    """
    body = json_body()
    reject_unknown(body, PAY_FIELDS)
    attempt = _attempt(body)
    sandbox = current_sandbox()
    with sandbox.state.transaction() as transaction:
        expire_due_links(transaction)
        link = transaction.state.payment_link(link_id)
        amount = parse_amount(body["amount"]) if "amount" in body else link.amount_due
        payment = pay_link(transaction, link, attempt, amount)
        params = callback_params(link, payment, sandbox.config.key_secret)
        callback_url = link.callback_url
    error = payment.error
    if error is not None:
        return {
            "error": {
                "code": error.code,
                "description": error.description,
                "source": error.source,
                "step": error.step,
                "reason": error.reason,
                "metadata": {"order_id": payment.order_id, "payment_id": payment.id},
            }
        }
    redirect_url = with_query(callback_url, params) if callback_url else None
    return {**params, "redirect_url": redirect_url}


@link_control.get("/clock")
def clock_show() -> Json:
    """The sandbox clock: ``now`` and how far it is ahead of real time."""
    with current_sandbox().state.reading() as state:
        return _clock(state)


@link_control.post("/clock")
def clock_advance() -> Json:
    """Move the clock forward by ``advance_seconds`` and expire the links it passes
    (``payment_link.expired`` for each). The clock never goes back; a reset rewinds it."""
    body = json_body()
    reject_unknown(body, ("advance_seconds",))
    seconds = required(body, "advance_seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise invalid_request("The advance_seconds must be an integer.", field="advance_seconds")
    if not 0 <= seconds <= MAX_ADVANCE_SECONDS:
        raise invalid_request(
            f"The advance_seconds must be from 0 to {MAX_ADVANCE_SECONDS}.", field="advance_seconds"
        )
    with current_sandbox().state.transaction() as transaction:
        transaction.state.clock_offset += seconds
        expire_due_links(transaction)
        return _clock(transaction.state)


def _clock(state: SandboxState) -> Json:
    """The clock as the control API shows it."""
    return {"now": state.now(), "offset_seconds": state.clock_offset}


def _attempt(body: Json) -> Attempt:
    """The customer's choices in a pay request."""
    outcome = required(body, "outcome")
    if outcome not in OUTCOMES:
        raise invalid_request("The selected outcome is invalid.", field="outcome")
    defaults = Attempt(succeeds=True)
    for name in ("email", "contact", "name", "error_reason"):
        if name in body and not isinstance(body[name], str):
            raise invalid_request(f"The {name} must be a string.", field=name)
    return Attempt(
        succeeds=outcome == "success",
        method=parse_choice(body, "method", METHODS),
        email=body.get("email") or defaults.email,
        contact=body.get("contact") or defaults.contact,
        customer_name=body.get("name") or defaults.customer_name,
        error_reason=body.get("error_reason") or defaults.error_reason,
    )
