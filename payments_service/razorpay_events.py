"""Incoming Razorpay webhooks: record once, then route each event type to one handler.

Every verified event is stored, keyed by X-Razorpay-Event-Id, in the transaction that
applies it, so a redelivery is a no-op and a crash leaves either both or neither (Razorpay
redelivers what was not answered 2xx). An event whose handler fails is still stored, with
the failure, for the worker's retry. Handlers go through the same payment state machine
that verify and reconcile use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from .db import Cursor, Database
from .db import razorpay_events as sql
from .db.payments import Payment
from .db.razorpay_events import EventSummary, RazorpayEvent
from .errors import GatewayError, InvalidSignature, MalformedWebhook, NotFound
from .metrics import Metrics
from .pagination import Page, decode_cursor, page_of
from .payments import apply_payment, apply_payment_in
from .razorpay_gateway import RazorpayGateway
from .refund_settlement import apply_refund_in
from .signatures import is_valid_webhook_signature

log = logging.getLogger(__name__)
_EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


class MalformedEvent(Exception):
    """A signed event that lacks what its type must carry (e.g. payload.payment.entity)."""


@dataclass(frozen=True)
class EventContext:
    """What handlers may use."""

    db: Database
    gateway: RazorpayGateway
    capture_authorized: bool
    account_id: str | None
    webhook_secrets: tuple[str, ...]
    metrics: Metrics | None = None


@dataclass(frozen=True)
class Outcome:
    """What applying one event did: applied, unmatched (not ours) or ignored; and an
    authorized payment to capture once the transaction has committed."""

    status: str
    detail: str | None = None
    order_id: str | None = None
    capture: Payment | None = None


class NotApplied(Exception):
    """A handler failed; its writes are to be rolled back and this outcome recorded."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome


@dataclass(frozen=True)
class Receipt:
    """The stored event's id, type and outcome, and whether this delivery repeated it."""

    event: EventSummary
    is_duplicate: bool

    @classmethod
    def first(cls, event: RazorpayEvent) -> Receipt:
        return cls(EventSummary(event.id, event.event_type, event.status), is_duplicate=False)


def receive_webhook(
    ctx: EventContext, raw_body: bytes, signature: str, event_id: str | None
) -> Receipt:
    """Verify a delivery's signature over its raw bytes, then store and apply it.

    Raises InvalidSignature (nothing stored) or MalformedWebhook (signed, but not an event).
    """
    if not is_valid_webhook_signature(ctx.webhook_secrets, raw_body, signature):
        log.warning("rejected a webhook with a missing or invalid signature")
        _count(ctx, "unknown", "rejected")
        raise InvalidSignature(
            "X-Razorpay-Signature does not match the body", field="X-Razorpay-Signature"
        )
    try:
        envelope = json.loads(raw_body)
    except ValueError:
        raise MalformedWebhook("the body is not JSON") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("event"), str):
        raise MalformedWebhook("the body is not a Razorpay event (no `event` name)")
    if b"\\u0000" in raw_body:  # PostgreSQL text and jsonb cannot hold NUL characters
        raise MalformedWebhook("the body contains NUL characters")
    if not event_id or not _EVENT_ID.match(event_id):
        # Razorpay always sends one; without it, the body's digest still dedupes retries.
        event_id = "sha256:" + hashlib.sha256(raw_body).hexdigest()
    receipt = receive_event(ctx, event_id, envelope)
    outcome = "duplicate" if receipt.is_duplicate else receipt.event.status
    _count(ctx, receipt.event.event_type, outcome)
    return receipt


def _count(ctx: EventContext, event_type: str, outcome: str) -> None:
    if ctx.metrics is not None:
        ctx.metrics.webhooks.labels(event_type, outcome).inc()


def receive_event(ctx: EventContext, event_id: str, envelope: dict[str, Any]) -> Receipt:
    """Store a verified webhook and apply it, unless its id was seen before.

    A redelivery is recognised by one read. A new event is stored, applied and its outcome
    recorded in one transaction; if applying fails, that transaction is rolled back and the
    event is stored with the failure on its own, for the worker's retry.
    """
    with ctx.db.read() as cur:
        earlier = sql.summary(cur, event_id)
    if earlier is not None:
        return Receipt(earlier, is_duplicate=True)
    account = envelope.get("account_id")
    store = partial(
        sql.insert_if_new,
        event_id=event_id,
        event_type=str(envelope.get("event") or "unknown"),
        account_id=account if isinstance(account, str) else None,
        payload=envelope,
        razorpay_created_at=_event_time(envelope.get("created_at")),
    )
    try:
        with ctx.db.transaction() as cur:
            stored = store(cur)
            if stored is None:  # a concurrent delivery of the same event won
                return Receipt(_summary(cur, event_id), is_duplicate=True)
            event, outcome = _apply_stored(ctx, cur, stored)
    except NotApplied as failure:
        with ctx.db.transaction() as cur:
            stored = store(cur)
            if stored is None:
                return Receipt(_summary(cur, event_id), is_duplicate=True)
            event = _record(cur, stored, failure.outcome)
        return Receipt.first(event)
    return Receipt.first(_follow_up(ctx, event, outcome))


def process_event(ctx: EventContext, event: RazorpayEvent) -> RazorpayEvent:
    """Apply a stored event through its handler and record the outcome on its row, in one
    transaction (a failure rolls the handler's writes back and is recorded on its own)."""
    try:
        with ctx.db.transaction() as cur:
            recorded, outcome = _apply_stored(ctx, cur, event)
    except NotApplied as failure:
        with ctx.db.transaction() as cur:
            return _record(cur, event, failure.outcome)
    return _follow_up(ctx, recorded, outcome)


def _summary(cur: Cursor, event_id: str) -> EventSummary:
    event = sql.summary(cur, event_id)
    if event is None:
        raise RuntimeError(f"event {event_id} conflicted on insert but cannot be read")
    return event


def _apply_stored(
    ctx: EventContext, cur: Cursor, event: RazorpayEvent
) -> tuple[RazorpayEvent, Outcome]:
    outcome = _outcome_of(ctx, cur, event)
    return _record(cur, event, outcome), outcome


def _record(cur: Cursor, event: RazorpayEvent, outcome: Outcome) -> RazorpayEvent:
    return sql.record_outcome(cur, event.id, outcome.status, outcome.detail, outcome.order_id)


def _follow_up(ctx: EventContext, event: RazorpayEvent, outcome: Outcome) -> RazorpayEvent:
    """What an applied event asks for once its transaction has committed: capturing an
    authorized payment (a Razorpay call, so never inside a transaction)."""
    payment = outcome.capture
    if payment is None:
        return event
    try:
        captured = ctx.gateway.capture_payment(payment.id, payment.amount, payment.currency)
        after = apply_payment(ctx.db, captured, actor="webhook")
        final = Outcome("applied", f"payment {after.payment.status}", after.order.id)
    except GatewayError as exc:
        final = Outcome("failed", f"Razorpay unavailable: {exc.detail}")
    except Exception as exc:  # recorded for the worker's retry, as in _outcome_of
        log.exception("capturing payment %s of event %s failed", payment.id, event.id)
        final = Outcome("failed", f"internal error ({type(exc).__name__})")
    with ctx.db.transaction() as cur:
        return sql.record_outcome(cur, event.id, final.status, final.detail, final.order_id)


def reapply_event(ctx: EventContext, event_id: str) -> RazorpayEvent:
    """Process a stored event again (after a fix, or once its order exists). Raises NotFound."""
    with ctx.db.transaction() as cur:
        event = sql.get(cur, event_id)
    if event is None:
        raise NotFound(f"no webhook event {event_id!r}")
    return process_event(ctx, event)


def retry_stale_events(ctx: EventContext, older_than: timedelta, limit: int = 100) -> int:
    """Worker pass: apply events left `received` or `failed`; returns how many it tried."""
    cutoff = datetime.now(UTC) - older_than
    with ctx.db.transaction() as cur:
        stale = sql.list_stale(cur, cutoff, limit)
    for event in stale:
        process_event(ctx, event)
    return len(stale)


def list_events(
    db: Database, *, status: str | None, event_type: str | None, cursor: str | None, limit: int
) -> Page[RazorpayEvent]:
    """Received events newest first, by outcome and type."""
    with db.transaction() as cur:
        rows = sql.list_page(
            cur,
            status=status,
            event_type=event_type,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
    return page_of(rows, limit, lambda row: (row.received_at, row.id))


def last_webhook_at(db: Database) -> datetime | None:
    """When the newest verified webhook arrived (a disabled webhook shows as silence)."""
    with db.transaction() as cur:
        return sql.last_received_at(cur)


def _event_time(created_at: Any) -> datetime | None:
    """Razorpay's unix-seconds creation time, if it is a plausible one."""
    plausible = isinstance(created_at, int) and not isinstance(created_at, bool)
    if not plausible or not 946_684_800 <= created_at <= 4_765_046_400:  # Razorpay's range
        return None
    return datetime.fromtimestamp(created_at, UTC)


def _outcome_of(ctx: EventContext, cur: Cursor, event: RazorpayEvent) -> Outcome:
    """Run the event's handler in ``cur``'s transaction. Raises NotApplied when it fails,
    so the caller rolls its writes back."""
    if ctx.account_id and event.account_id and event.account_id != ctx.account_id:
        return Outcome("ignored", f"event of another Razorpay account {event.account_id}")
    handler = HANDLERS.get(event.event_type)
    if handler is None:
        return Outcome("ignored", f"{event.event_type} is not an event this service applies")
    try:
        return handler(ctx, cur, event.payload)
    except NotFound as exc:
        raise NotApplied(Outcome("unmatched", exc.detail)) from exc
    except MalformedEvent as exc:
        raise NotApplied(Outcome("failed", f"malformed event: {exc}")) from exc
    except Exception as exc:
        # Deliberately broad: a webhook must be answered 2xx once stored, or Razorpay
        # retries and eventually disables it for every site. The row keeps the failure
        # for the worker's retry and an admin's reapply; the traceback goes to the log.
        log.exception("applying event %s (%s) failed", event.id, event.event_type)
        raise NotApplied(Outcome("failed", f"internal error ({type(exc).__name__})")) from exc


def _entity(envelope: dict[str, Any], name: str) -> dict[str, Any]:
    try:
        entity = envelope["payload"][name]["entity"]
    except (KeyError, TypeError):
        raise MalformedEvent(f"payload.{name}.entity is missing") from None
    if not isinstance(entity, dict) or not isinstance(entity.get("id"), str):
        raise MalformedEvent(f"payload.{name}.entity has no id")
    return entity


def _apply_payment_event(ctx: EventContext, cur: Cursor, envelope: dict[str, Any]) -> Outcome:
    outcome = apply_payment_in(cur, _entity(envelope, "payment"), actor="webhook")
    return Outcome("applied", f"payment {outcome.payment.status}", outcome.order.id)


def _on_payment_authorized(ctx: EventContext, cur: Cursor, envelope: dict[str, Any]) -> Outcome:
    outcome = apply_payment_in(cur, _entity(envelope, "payment"), actor="webhook")
    order, payment = outcome.order, outcome.payment
    capture = (
        ctx.capture_authorized
        and payment.status == "authorized"
        and (payment.amount, payment.currency) == (order.amount, order.currency)
    )
    return Outcome(
        "applied", f"payment {payment.status}", order.id, capture=payment if capture else None
    )


def _apply_refund_event(ctx: EventContext, cur: Cursor, envelope: dict[str, Any]) -> Outcome:
    refund = apply_refund_in(cur, _entity(envelope, "refund"), actor="webhook")
    return Outcome("applied", f"refund {refund.status}", refund.order_id)


HANDLERS: dict[str, Callable[[EventContext, Cursor, dict[str, Any]], Outcome]] = {
    "payment.authorized": _on_payment_authorized,
    "payment.captured": _apply_payment_event,
    "payment.failed": _apply_payment_event,
    "order.paid": _apply_payment_event,
    "refund.created": _apply_refund_event,
    "refund.processed": _apply_refund_event,
    "refund.failed": _apply_refund_event,
}
