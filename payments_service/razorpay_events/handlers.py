"""What each Razorpay event type does to our records: one handler per type, each running
in the caller's transaction through the same payment and refund state machines that
verify and reconciliation use."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ..db import Cursor, Database, Mode, payment_reads, unavailable_error
from ..db import payment_links as links_sql
from ..db.orders import Order
from ..db.payment_links import PaymentLink
from ..db.payments import Payment
from ..errors import NotFound, PaymentMismatch
from ..metrics import Metrics
from ..payment_links import end_link_in, link_for_payment, pay_link_in
from ..payments.apply import PaymentOutcome, apply_payment_in
from ..razorpay_gateway import RazorpayGateway
from ..refunds.settle import apply_refund_in
from ..services import Services, utc_now
from .modes import other_mode_record
from .subscription_handlers import (
    SUBSCRIPTION_EVENTS,
    charge_order_payment,
    charge_payment,
    on_invoice_paid,
    on_subscription_event,
    section,
)

log = logging.getLogger(__name__)
# A payment's order of the cursor's mode, if we hold it, and its payment link.
Found = tuple[Order | None, PaymentLink | None]


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
    subscription_access_during_pending: bool = True
    clock: Callable[[], datetime] = utc_now

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
            subscription_access_during_pending=settings.subscription_access_during_pending,
            clock=services.clock,
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
        found = _payment_order(cur, event_type, payload)
        if found is None or found[0] is None:  # else the event is about a record of our mode
            other = other_mode_record(cur, payload)
            if other is not None:  # applied to nothing, stored in the record's mode
                return Outcome(
                    "other_mode",
                    f"about order {other.order_id} of {other.mode} mode; the keys in use are "
                    f"{cur.mode}",
                    other.order_id,
                    mode=other.mode,
                )
        if found is not None:
            return PAYMENT_HANDLERS[event_type](ctx, cur, payload, found)
        return handler(ctx, cur, payload)
    except (NotFound, PaymentMismatch) as exc:  # not ours, or not what our record says
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


def _payment_order(cur: Cursor, event_type: str, envelope: dict[str, Any]) -> Found | None:
    """For a payment event: the payment's order in the cursor's mode (None if we hold none
    there) and its payment link, read first, in one query: an event about an order of our
    mode needs no look-up of the other mode's records. None for any other event, or one
    whose payment names no order (its handler then says what is wrong)."""
    entity = section(envelope, "payment") if event_type in PAYMENT_HANDLERS else None
    order_id = entity.get("order_id") if entity is not None else None
    if not isinstance(order_id, str):
        return None
    return payment_reads.order_with_link(cur, order_id)


def _entity(envelope: dict[str, Any], name: str) -> dict[str, Any]:
    try:
        entity = envelope["payload"][name]["entity"]
    except (KeyError, TypeError):
        raise MalformedEvent(f"payload.{name}.entity is missing") from None
    if not isinstance(entity, dict) or not isinstance(entity.get("id"), str):
        raise MalformedEvent(f"payload.{name}.entity has no id")
    return entity


def _apply_payment(cur: Cursor, entity: dict[str, Any], found: Found | None) -> PaymentOutcome:
    """A payment through the state machine; one made on a payment link of ours (whose
    Razorpay order we may not know yet) through the link, which learns it; a subscription
    charge's through its subscription. The order and its link are read in one query, unless
    ``found`` is what it returned already."""
    if found is None:
        found = payment_reads.order_with_link(cur, str(entity.get("order_id")))
    order, link = found
    if order is None:  # a link's payment whose order we do not know yet, or none of ours
        link = link_for_payment(cur, entity)
    if link is not None:
        return pay_link_in(cur, link, entity, None, actor="webhook")
    if order is None:
        charged = charge_payment(cur, entity, "webhook")
    else:
        charged = charge_order_payment(cur, order, entity, "webhook")
    if charged is not None:
        return charged
    return apply_payment_in(cur, entity, actor="webhook")


def _apply_payment_event(
    ctx: EventContext, cur: Cursor, envelope: dict[str, Any], found: Found | None = None
) -> Outcome:
    outcome = _apply_payment(cur, _entity(envelope, "payment"), found)
    payment = outcome.payment
    duplicate = (
        f" (duplicate of {payment.duplicate_of})"
        if payment.duplicate_of
        else f" (duplicate purchase of {payment.duplicate_of_enrollment})"
        if payment.duplicate_of_enrollment
        else ""
    )
    return Outcome("applied", f"payment {payment.status}{duplicate}", outcome.order.id)


def _on_payment_authorized(
    ctx: EventContext, cur: Cursor, envelope: dict[str, Any], found: Found | None = None
) -> Outcome:
    outcome = _apply_payment(cur, _entity(envelope, "payment"), found)
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


def _our_link(
    cur: Cursor, envelope: dict[str, Any]
) -> tuple[links_sql.PaymentLink, dict[str, Any]]:
    entity = _entity(envelope, "payment_link")
    link = links_sql.get_by_razorpay_id(cur, entity["id"])
    if link is None:
        raise NotFound(f"payment link {entity['id']} is not one this service made")
    return link, entity


def _on_link_paid(ctx: EventContext, cur: Cursor, envelope: dict[str, Any]) -> Outcome:
    link, entity = _our_link(cur, envelope)
    outcome = pay_link_in(cur, link, _entity(envelope, "payment"), entity, actor="webhook")
    return Outcome(
        "applied",
        f"payment link {entity.get('status')}: payment {outcome.payment.status}",
        link.order_id,
    )


def _on_link_ended(ctx: EventContext, cur: Cursor, envelope: dict[str, Any]) -> Outcome:
    link, entity = _our_link(cur, envelope)
    try:
        ended = end_link_in(cur, link, entity)
    except ValueError as exc:
        raise MalformedEvent(str(exc)) from None
    return Outcome("applied", f"payment link {ended.status}", link.order_id)


def _on_subscription(ctx: EventContext, cur: Cursor, envelope: dict[str, Any]) -> Outcome:
    try:
        detail, order_id = on_subscription_event(
            cur, envelope, ctx.subscription_access_during_pending, ctx.clock()
        )
    except ValueError as exc:
        raise MalformedEvent(str(exc)) from None
    return Outcome("applied", detail, order_id)


def _on_invoice_paid(ctx: EventContext, cur: Cursor, envelope: dict[str, Any]) -> Outcome:
    try:
        detail, order_id = on_invoice_paid(
            cur, envelope, ctx.subscription_access_during_pending, ctx.clock()
        )
    except ValueError as exc:
        raise MalformedEvent(str(exc)) from None
    return Outcome("applied", detail, order_id)


class _PaymentHandler(Protocol):
    def __call__(
        self, ctx: EventContext, cur: Cursor, envelope: dict[str, Any], found: Found | None = None
    ) -> Outcome: ...


# The payment events, whose handlers may be given the payment's order and link read already.
PAYMENT_HANDLERS: dict[str, _PaymentHandler] = {
    "payment.authorized": _on_payment_authorized,
    "payment.captured": _apply_payment_event,
    "payment.failed": _apply_payment_event,
    "order.paid": _apply_payment_event,
}
HANDLERS: dict[str, Callable[[EventContext, Cursor, dict[str, Any]], Outcome]] = {
    **PAYMENT_HANDLERS,
    "payment_link.paid": _on_link_paid,
    "payment_link.partially_paid": _on_link_paid,
    "payment_link.expired": _on_link_ended,
    "payment_link.cancelled": _on_link_ended,
    "refund.created": _apply_refund_event,
    "refund.processed": _apply_refund_event,
    "refund.failed": _apply_refund_event,
    "invoice.paid": _on_invoice_paid,
    **dict.fromkeys(SUBSCRIPTION_EVENTS, _on_subscription),
}
