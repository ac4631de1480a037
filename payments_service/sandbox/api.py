"""Razorpay API v1 routes: orders, payments and refunds behind HTTP Basic auth (payment
links are in link_api.py, nested here so that the same checks apply)."""

from __future__ import annotations

import hmac
import time
from typing import Any

from flask import Blueprint, Response, after_this_request, g, request

from .chaos import ApiFault
from .config import SandboxConfig
from .entities import Notes
from .errors import (
    NO_SUCH_ID,
    gateway_error,
    idempotency_key_in_progress,
    invalid_request,
    server_error,
    unauthorized,
)
from .extension import Sandbox, current_sandbox
from .link_api import payment_links
from .orders import create_order, find_orders
from .payments import capture_payment
from .refunds import create_refund
from .validation import (
    collection,
    json_body,
    parse_notes,
    parse_page,
    reject_unknown,
    required,
)

Json = dict[str, Any]

api = Blueprint("razorpay_api", __name__, url_prefix="/v1")
api.register_blueprint(payment_links)
REFUND_CREATION = frozenset({"razorpay_api.payment_refund", "razorpay_api.refund_create"})


@api.before_request
def delay_and_authenticate() -> None:
    """Check HTTP Basic credentials, hold a refund's idempotency key, sleep for the
    configured latency, then play any fault."""
    sandbox = current_sandbox()
    config = sandbox.config
    _authenticate(config)
    _hold_refund_key(sandbox)
    if config.latency_ms:
        time.sleep(config.latency_ms / 1000)
    _simulate_fault(sandbox)


@api.teardown_request
def release_refund_key(_: BaseException | None) -> None:
    """The answer is out: a refund request with the same key may be processed now."""
    key = g.pop("refund_key", None)
    if key is not None:
        current_sandbox().state.end_refund_request(key)


def _hold_refund_key(sandbox: Sandbox) -> None:
    """Refuse, with Razorpay's 409, a refund whose X-Refund-Idempotency key a request still
    being processed (delayed, hanging or answering late) carries; else hold the key."""
    key = request.headers.get("X-Refund-Idempotency")
    if key is None or request.endpoint not in REFUND_CREATION:
        return
    if not sandbox.state.begin_refund_request(key):
        raise idempotency_key_in_progress()
    g.refund_key = key


def _authenticate(config: SandboxConfig) -> None:
    """Raise Razorpay's 401 errors unless the request carries the configured key pair."""
    credentials = request.authorization
    if credentials is None or credentials.type != "basic" or not credentials.username:
        raise unauthorized("Please provide your api key for authentication purposes.")
    if credentials.username != config.key_id:
        raise unauthorized("The api key provided is invalid")
    if not hmac.compare_digest((credentials.password or "").encode(), config.key_secret.encode()):
        raise unauthorized("Authentication failed")


def _simulate_fault(sandbox: Sandbox) -> None:
    """Fail, time out or answer late the share of calls the chaos knobs ask for.

    A failed or timed-out call never reaches its handler: a timed-out one hangs for
    ``api_timeout_ms`` and then answers 504, so a client with a shorter read timeout gives
    up first; either way nothing has changed. A late answer is served (it changes what the
    call changes) and then held back for ``api_timeout_ms``.
    """
    fault = sandbox.chaos.api_fault()
    if fault is ApiFault.TIMEOUT:
        sandbox.chaos.hang(sandbox.config.api_timeout_ms)
        raise gateway_error(504)
    if fault is ApiFault.FAILURE:
        status = sandbox.chaos.failure_status()
        raise server_error() if status == 500 else gateway_error(status)
    if fault is ApiFault.LATE_ANSWER:
        delay_ms = sandbox.config.api_timeout_ms

        @after_this_request
        def answer_late(response: Response) -> Response:
            sandbox.chaos.hang(delay_ms)
            return response


def _new_notes(body: Json) -> Notes:
    """Parse an edit body, which may carry nothing but ``notes``."""
    reject_unknown(body, ("notes",))
    return parse_notes(required(body, "notes"))


@api.post("/orders")
def order_create() -> Json:
    """Create an order."""
    body = json_body()
    with current_sandbox().state.transaction() as transaction:
        return create_order(transaction, body).to_json()


@api.get("/orders")
def order_list() -> Json:
    """List orders, newest first, optionally by receipt or authorisation."""
    page = parse_page(request.args, filters=("receipt", "authorized"))
    with current_sandbox().state.reading() as state:
        orders = page.select(find_orders(state, request.args))
        return collection([order.to_json() for order in orders])


@api.get("/orders/<order_id>")
def order_fetch(order_id: str) -> Json:
    """Fetch an order."""
    with current_sandbox().state.reading() as state:
        return state.order(order_id).to_json()


@api.patch("/orders/<order_id>")
def order_edit(order_id: str) -> Json:
    """Replace an order's notes."""
    notes = _new_notes(json_body())
    with current_sandbox().state.transaction() as transaction:
        order = transaction.state.order(order_id)
        order.notes = notes
        return order.to_json()


@api.get("/orders/<order_id>/payments")
def order_payments(order_id: str) -> Json:
    """List the payments attempted on an order, oldest first as Razorpay does."""
    with current_sandbox().state.reading() as state:
        payments = state.payments_of(state.order(order_id).id)
        return collection([payment.to_json() for payment in payments])


@api.get("/payments")
def payment_list() -> Json:
    """List payments, newest first."""
    page = parse_page(request.args)
    with current_sandbox().state.reading() as state:
        payments = state.payment_timeline.newest_first(page)
        return collection([payment.to_json() for payment in payments])


@api.get("/payments/<payment_id>")
def payment_fetch(payment_id: str) -> Json:
    """Fetch a payment."""
    with current_sandbox().state.reading() as state:
        return state.payment(payment_id).to_json()


@api.patch("/payments/<payment_id>")
def payment_edit(payment_id: str) -> Json:
    """Replace a payment's notes."""
    notes = _new_notes(json_body())
    with current_sandbox().state.transaction() as transaction:
        payment = transaction.state.payment(payment_id)
        payment.notes = notes
        return payment.to_json()


@api.post("/payments/<payment_id>/capture")
def payment_capture(payment_id: str) -> Json:
    """Capture an authorised payment for its full amount."""
    body = json_body()
    with current_sandbox().state.transaction() as transaction:
        payment = transaction.state.payment(payment_id)
        capture_payment(transaction, payment, body)
        return payment.to_json()


@api.post("/payments/<payment_id>/refund")
def payment_refund(payment_id: str) -> Json:
    """Refund a captured payment (the whole remainder unless ``amount`` is given)."""
    body = json_body()
    idempotency_key = request.headers.get("X-Refund-Idempotency")
    with current_sandbox().state.transaction() as transaction:
        return create_refund(transaction, payment_id, body, idempotency_key).to_json()


@api.get("/payments/<payment_id>/refunds")
def payment_refunds(payment_id: str) -> Json:
    """List a payment's refunds, newest first."""
    page = parse_page(request.args)
    with current_sandbox().state.reading() as state:
        refunds = page.select(state.refunds_of(state.payment(payment_id).id))
        return collection([refund.to_json() for refund in refunds])


@api.get("/payments/<payment_id>/refunds/<refund_id>")
def payment_refund_fetch(payment_id: str, refund_id: str) -> Json:
    """Fetch one refund of a payment."""
    with current_sandbox().state.reading() as state:
        payment = state.payment(payment_id)
        refund = state.refund(refund_id)
        if refund.payment_id != payment.id:
            raise invalid_request(NO_SUCH_ID)
        return refund.to_json()


@api.post("/refunds")
def refund_create() -> Json:
    """Refund a payment named in the body (the SDK's legacy ``refund.create``)."""
    body = json_body()
    payment_id = required(body, "payment_id")
    details = {name: value for name, value in body.items() if name != "payment_id"}
    idempotency_key = request.headers.get("X-Refund-Idempotency")
    with current_sandbox().state.transaction() as transaction:
        return create_refund(transaction, str(payment_id), details, idempotency_key).to_json()


@api.get("/refunds")
def refund_list() -> Json:
    """List refunds, newest first."""
    page = parse_page(request.args)
    with current_sandbox().state.reading() as state:
        refunds = state.refund_timeline.newest_first(page)
        return collection([refund.to_json() for refund in refunds])


@api.get("/refunds/<refund_id>")
def refund_fetch(refund_id: str) -> Json:
    """Fetch a refund."""
    with current_sandbox().state.reading() as state:
        return state.refund(refund_id).to_json()


@api.patch("/refunds/<refund_id>")
def refund_edit(refund_id: str) -> Json:
    """Replace a refund's notes."""
    notes = _new_notes(json_body())
    with current_sandbox().state.transaction() as transaction:
        refund = transaction.state.refund(refund_id)
        refund.notes = notes
        return refund.to_json()
