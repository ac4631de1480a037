"""What each Razorpay event type does to our records: one handler per type, each running
in the caller's transaction through the same payment and refund state machines that
verify and reconciliation use."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..db import Cursor, Database, Mode, unavailable_error
from ..db import razorpay_events as sql
from ..db.payments import Payment
from ..errors import NotFound
from ..metrics import Metrics
from ..payments.apply import apply_payment_in
from ..razorpay_gateway import RazorpayGateway
from ..refunds.settle import apply_refund_in
from ..services import Services

log = logging.getLogger(__name__)


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

    @classmethod
    def of(cls, services: Services) -> EventContext:
        """The context of the wired ``services``, as their settings say."""
        settings = services.settings
        return cls(
            db=services.db,
            gateway=services.gateway,
            capture_authorized=settings.capture_authorized_payments,
            account_id=settings.razorpay_account_id,
            webhook_secrets=settings.razorpay_webhook_secrets,
            metrics=services.metrics,
        )


@dataclass(frozen=True)
class Outcome:
    """What applying one event did: applied, unmatched (not ours), ignored, or other_mode
    (about a record of the other Razorpay mode, then ``mode``: it is stored in that mode);
    and an authorized payment to capture once the transaction has committed."""

    status: str
    detail: str | None = None
    order_id: str | None = None
    capture: Payment | None = None
    mode: Mode | None = None


class NotApplied(Exception):
    """A handler failed; its writes are to be rolled back and this outcome recorded."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome


def outcome_of(
    ctx: EventContext,
    cur: Cursor,
    event_id: str,
    event_type: str,
    account_id: str | None,
    payload: dict[str, Any],
) -> Outcome:
    """Run the event's handler in ``cur``'s transaction. Raises NotApplied when it fails,
    so the caller rolls its writes back."""
    if ctx.account_id and account_id and account_id != ctx.account_id:
        return Outcome("ignored", f"event of another Razorpay account {account_id}")
    handler = HANDLERS.get(event_type)
    if handler is None:
        return Outcome("ignored", f"{event_type} is not an event this service applies")
    try:
        other = _of_the_other_mode(cur, payload)
        if other is not None:
            return other
        return handler(ctx, cur, payload)
    except NotFound as exc:
        raise NotApplied(Outcome("unmatched", exc.detail)) from exc
    except MalformedEvent as exc:
        raise NotApplied(Outcome("failed", f"malformed event: {exc}")) from exc
    except Exception as exc:
        if (unavailable := unavailable_error(exc, cur.connection)) is not None:
            # The database went away: nothing is applied or stored, and the delivery is
            # answered 503 so Razorpay sends it again.
            raise unavailable from exc
        # Deliberately broad: a webhook must be answered 2xx once stored, or Razorpay
        # retries and eventually disables it for every site. The row keeps the failure
        # for the worker's retry and an admin's reapply; the traceback goes to the log.
        log.exception("applying event %s (%s) failed", event_id, event_type)
        raise NotApplied(Outcome("failed", f"internal error ({type(exc).__name__})")) from exc


def _of_the_other_mode(cur: Cursor, envelope: dict[str, Any]) -> Outcome | None:
    """The outcome of an event about a record we hold only in the other Razorpay mode (a
    test payment's event reaching the service once it runs on live keys, or the reverse):
    applied to nothing, stored in the record's mode. None when the event is about a record
    of the cursor's mode, or about none of ours (its handler then says what it is)."""
    ids = _razorpay_ids(envelope)
    records = sql.modes_of_records(
        cur, razorpay_order_ids=ids["order"], payment_ids=ids["payment"], refund_ids=ids["refund"]
    )
    if not records or any(record.mode == cur.mode for record in records):
        return None
    record = records[0]
    return Outcome(
        "other_mode",
        f"about order {record.order_id} of {record.mode} mode; the keys in use are {cur.mode}",
        record.order_id,
        mode=record.mode,
    )


def _razorpay_ids(envelope: dict[str, Any]) -> dict[str, list[str]]:
    """The Razorpay ids of the order, payment and refund an event names, by kind."""
    ids: dict[str, list[str]] = {"order": [], "payment": [], "refund": []}
    payload = envelope.get("payload")
    for name, fields in (
        ("order", (("id", "order"),)),
        ("payment", (("id", "payment"), ("order_id", "order"))),
        ("refund", (("id", "refund"), ("payment_id", "payment"))),
    ):
        section = payload.get(name) if isinstance(payload, dict) else None
        entity = section.get("entity") if isinstance(section, dict) else None
        for field, kind in fields:
            value = entity.get(field) if isinstance(entity, dict) else None
            if isinstance(value, str):
                ids[kind].append(value)
    return ids


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
    payment = outcome.payment
    duplicate = (
        f" (duplicate of {payment.duplicate_of})"
        if payment.duplicate_of
        else f" (duplicate purchase of {payment.duplicate_of_enrollment})"
        if payment.duplicate_of_enrollment
        else ""
    )
    return Outcome("applied", f"payment {payment.status}{duplicate}", outcome.order.id)


def _on_payment_authorized(ctx: EventContext, cur: Cursor, envelope: dict[str, Any]) -> Outcome:
    outcome = apply_payment_in(cur, _entity(envelope, "payment"), actor="webhook")
    order, payment = outcome.order, outcome.payment
    # Never capture a second payment of an order already paid: uncaptured, Razorpay
    # releases it to the buyer by itself (and keeps no fee).
    capture = (
        ctx.capture_authorized
        and payment.status == "authorized"
        and (payment.amount, payment.currency) == (order.amount, order.currency)
        and order.amount_paid == 0
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
