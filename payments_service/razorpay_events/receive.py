"""Incoming Razorpay webhooks: record once, then route each event type to one handler.

Every verified event is stored, keyed by X-Razorpay-Event-Id, in the transaction that
applies it, so a redelivery is a no-op and a crash leaves either both or neither (Razorpay
redelivers what was not answered 2xx). An event whose handler fails is still stored, with
the failure, for the worker's retry. Handlers go through the same payment state machine
that verify and reconcile use.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from .. import bounded_json
from ..db import Cursor, Database
from ..db import razorpay_events as sql
from ..db.payments import Payment
from ..db.razorpay_events import EventSummary, RazorpayEvent
from ..errors import (
    DatabaseUnavailable,
    GatewayError,
    InvalidSignature,
    MalformedWebhook,
    NotFound,
)
from ..pagination import Page, decode_cursor, page_of
from ..payments.apply import apply_payment
from ..signatures import is_valid_webhook_signature
from .handlers import EventContext, NotApplied, Outcome, outcome_of

log = logging.getLogger(__name__)
_EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
T = TypeVar("T")


@dataclass(frozen=True)
class Receipt:
    """The stored event's id, type and outcome, and whether this delivery repeated it."""

    event: EventSummary
    is_duplicate: bool


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
    if not event_id or not _EVENT_ID.match(event_id):
        # Razorpay always sends one; without it, the body's digest still dedupes retries.
        event_id = "sha256:" + hashlib.sha256(raw_body).hexdigest()
    # A redelivery is answered from one read, before its body is parsed again.
    receipt = _earlier(ctx, event_id) or _receive_new(ctx, event_id, _envelope(raw_body))
    outcome = "duplicate" if receipt.is_duplicate else receipt.event.status
    _count(ctx, receipt.event.event_type, outcome)
    return receipt


def _envelope(raw_body: bytes) -> dict[str, Any]:
    """The event a signed body carries; MalformedWebhook if it is none we could store.

    The depth is bounded before parsing (bounded_json): Razorpay's own payloads nest about
    six deep, so a deeper body, correctly signed or not, is not one of theirs.
    """
    try:
        envelope = bounded_json.parse(raw_body)
    except bounded_json.NotJson as exc:
        raise MalformedWebhook(str(exc)) from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("event"), str):
        raise MalformedWebhook("the body is not a Razorpay event (no `event` name)")
    unstorable = bounded_json.find_unstorable(envelope)
    if unstorable:  # the whole payload is stored, and PostgreSQL jsonb could not hold it
        where, why = unstorable
        raise MalformedWebhook(f"{where or 'the body'} {why}")
    return envelope


def _count(ctx: EventContext, event_type: str, outcome: str) -> None:
    if ctx.metrics is not None:
        ctx.metrics.webhooks.labels(event_type, outcome).inc()


def receive_event(ctx: EventContext, event_id: str, envelope: dict[str, Any]) -> Receipt:
    """Apply a verified webhook and store it with its outcome, unless its id was seen before.

    A redelivery is recognised by one read. A new event is applied and then inserted with
    its outcome in one transaction; if a concurrent delivery of it committed first, the
    insert finds it and the transaction is discarded. If applying fails, the transaction is
    rolled back and the event is stored with the failure on its own, for the worker's retry.
    """
    return _earlier(ctx, event_id) or _receive_new(ctx, event_id, envelope)


def _earlier(ctx: EventContext, event_id: str) -> Receipt | None:
    """The receipt of a redelivery (this id is stored), else None."""
    with ctx.db.read() as cur:
        earlier = sql.summary(cur, event_id)
    return None if earlier is None else Receipt(earlier, is_duplicate=True)


def _receive_new(ctx: EventContext, event_id: str, envelope: dict[str, Any]) -> Receipt:
    """Apply and store an event not seen by the read before (receive_event)."""
    event = _Event.of(event_id, envelope)
    stored, applied = _apply_and_record(
        ctx, event, lambda cur, outcome: _insert(cur, event, outcome)
    )
    if stored is None:  # a concurrent delivery stored it first
        with ctx.db.read() as cur:
            return Receipt(_summary(cur, event_id), is_duplicate=True)
    captured = _capture_if_asked(ctx, event_id, applied)
    if captured is not None:
        stored = EventSummary(captured.id, captured.event_type, captured.status)
    return Receipt(stored, is_duplicate=False)


def process_event(ctx: EventContext, event: RazorpayEvent) -> RazorpayEvent:
    """Apply a stored event through its handler and record the outcome on its row, in one
    transaction (a failure rolls the handler's writes back and is recorded on its own)."""
    key = _Event(event.id, event.event_type, event.account_id, event.payload)
    recorded, applied = _apply_and_record(ctx, key, lambda cur, o: _record(cur, event.id, o))
    return _capture_if_asked(ctx, event.id, applied) or recorded


@dataclass(frozen=True)
class _Event:
    """What applying an event reads: its id, type, Razorpay account and payload."""

    id: str
    type: str
    account_id: str | None
    payload: dict[str, Any]

    @classmethod
    def of(cls, event_id: str, envelope: dict[str, Any]) -> _Event:
        account = envelope.get("account_id")
        account_id = account if isinstance(account, str) else None
        return cls(event_id, str(envelope.get("event") or "unknown"), account_id, envelope)


def _apply_and_record(
    ctx: EventContext, event: _Event, record: Callable[[Cursor, Outcome], T]
) -> tuple[T, Outcome | None]:
    """Apply ``event`` and ``record`` its outcome in one transaction; return what ``record``
    returned and the outcome, to finish once committed. When ``record`` returns None (the
    row was stored meanwhile) the applied writes are discarded. When applying fails, its
    writes are rolled back and the failure is recorded alone (and nothing is to finish)."""
    try:
        with ctx.db.transaction() as cur:
            outcome = outcome_of(ctx, cur, event.id, event.type, event.account_id, event.payload)
            recorded = record(cur, outcome)
            if recorded is None:
                cur.discard()
    except NotApplied as failure:
        with ctx.db.transaction() as cur:
            return record(cur, failure.outcome), None
    return recorded, outcome


def _insert(cur: Cursor, event: _Event, outcome: Outcome) -> EventSummary | None:
    return sql.insert_processed(
        cur,
        event_id=event.id,
        event_type=event.type,
        account_id=event.account_id,
        payload=event.payload,
        razorpay_created_at=_event_time(event.payload.get("created_at")),
        status=outcome.status,
        detail=outcome.detail,
        order_id=outcome.order_id,
        mode=outcome.mode,
    )


def _summary(cur: Cursor, event_id: str) -> EventSummary:
    event = sql.summary(cur, event_id)
    if event is None:
        raise RuntimeError(f"event {event_id} conflicted on insert but cannot be read")
    return event


def _record(cur: Cursor, event_id: str, outcome: Outcome) -> RazorpayEvent:
    return sql.record_outcome(
        cur, event_id, outcome.status, outcome.detail, outcome.order_id, outcome.mode
    )


def _capture_if_asked(
    ctx: EventContext, event_id: str, applied: Outcome | None
) -> RazorpayEvent | None:
    """What an applied event asks for once its transaction has committed: capturing an
    authorized payment (a Razorpay call, so never inside a transaction). Returns the
    event's row with the outcome after that, or None when nothing was asked."""
    if applied is None or applied.capture is None:
        return None
    outcome = _capture(ctx, event_id, applied.capture)
    with ctx.db.transaction() as cur:
        return _record(cur, event_id, outcome)


def _capture(ctx: EventContext, event_id: str, payment: Payment) -> Outcome:
    try:
        captured = ctx.gateway.capture_payment(payment.id, payment.amount, payment.currency)
        after = apply_payment(ctx.db, captured, actor="webhook")
        return Outcome("applied", f"payment {after.payment.status}", after.order.id)
    except GatewayError as exc:
        return Outcome("failed", f"Razorpay unavailable: {exc.detail}")
    except DatabaseUnavailable:  # recorded if it is back in time, for the worker's retry
        return Outcome("failed", "database unavailable")
    except Exception as exc:  # recorded for the worker's retry, as in outcome_of
        log.exception("capturing payment %s of event %s failed", payment.id, event_id)
        return Outcome("failed", f"internal error ({type(exc).__name__})")


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


def last_webhook_at(db: Database, this_mode_only: bool = False) -> datetime | None:
    """When the newest verified webhook arrived (a disabled webhook shows as silence), in
    either mode or, with ``this_mode_only``, in the database's mode."""
    with db.transaction() as cur:
        return sql.last_received_in_mode_at(cur) if this_mode_only else sql.last_received_at(cur)


def _event_time(created_at: Any) -> datetime | None:
    """Razorpay's unix-seconds creation time, if it is a plausible one."""
    plausible = isinstance(created_at, int) and not isinstance(created_at, bool)
    if not plausible or not 946_684_800 <= created_at <= 4_765_046_400:  # Razorpay's range
        return None
    return datetime.fromtimestamp(created_at, UTC)
