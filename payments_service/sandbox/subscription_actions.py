"""What the Subscriptions API does to a subscription: update, cancel, pause and resume.

Each function runs whatever the sandbox clock has made due first, so that it acts on the
subscription as it stands now, and raises RazorpayError where Razorpay refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .billing import cancel, reschedule, run_due
from .errors import invalid_request
from .state import Transaction
from .subscription_book import SubscriptionBook
from .subscription_changes import apply_changes, flag, parse_edit
from .subscription_entities import Subscription
from .validation import reject_unknown

NO_SCHEDULED_CHANGES = "Subscription does not have any scheduled changes"


def edit(
    transaction: Transaction, book: SubscriptionBook, sub: Subscription, body: Mapping[str, Any]
) -> None:
    """Update now (``subscription.updated``) or schedule the update for the cycle end."""
    run_due(transaction, book)
    changes, at_cycle_end = parse_edit(book, sub, body)
    if at_cycle_end:
        sub.scheduled_changes = changes
        sub.change_scheduled_at = sub.current_end or sub.charge_at
        return
    apply_changes(book, sub, changes)
    reschedule(book, sub)
    transaction.emit("subscription.updated", subscription=sub.to_json())


def drop_scheduled_changes(
    transaction: Transaction, book: SubscriptionBook, sub: Subscription
) -> None:
    """Forget an update waiting for the cycle end."""
    run_due(transaction, book)
    if sub.scheduled_changes is None:
        raise invalid_request(NO_SCHEDULED_CHANGES)
    sub.scheduled_changes, sub.change_scheduled_at = None, None


def cancel_subscription(
    transaction: Transaction, book: SubscriptionBook, sub: Subscription, body: Mapping[str, Any]
) -> None:
    """Cancel now, or (an active subscription, ``cancel_at_cycle_end``) when the cycle ends;
    the status shows ``active`` until then."""
    run_due(transaction, book)
    reject_unknown(body, ("cancel_at_cycle_end",))
    at_cycle_end = flag(body, "cancel_at_cycle_end", False)
    if sub.is_final:
        raise invalid_request(
            f"Subscription is not cancellable in {sub.status} status.", field="status"
        )
    if at_cycle_end and sub.status == "active":
        sub.cancel_at_cycle_end = True
        return
    cancel(transaction, sub, book.now())


def pause(
    transaction: Transaction, book: SubscriptionBook, sub: Subscription, body: Mapping[str, Any]
) -> None:
    """Pause an active subscription (no charges until resumed); pausing an authenticated
    one cancels it, as Razorpay warns."""
    run_due(transaction, book)
    _now_only(body, "pause_at")
    if sub.status == "authenticated":
        cancel(transaction, sub, book.now())
        return
    if sub.status != "active":
        raise invalid_request(f"Subscription cannot be paused in {sub.status} status")
    sub.status, sub.charge_at = "paused", None
    sub.paused_at, sub.pause_initiated_by, sub.was_paused = book.now(), "self", True
    transaction.emit("subscription.paused", subscription=sub.to_json())


def resume(
    transaction: Transaction, book: SubscriptionBook, sub: Subscription, body: Mapping[str, Any]
) -> None:
    """Resume a paused subscription: ``active`` again (``resumed`` is only the event's
    name), cycles that fell in the pause skipped, not billed."""
    run_due(transaction, book)
    _now_only(body, "resume_at")
    if sub.status != "paused":
        raise invalid_request(f"Subscription cannot be resumed in {sub.status} status")
    plan = book.plan(sub.plan_id)
    at = book.now()
    while (
        sub.anchor is not None
        and plan.cycle_boundary(sub.anchor, sub.cycle_index - sub.anchor_index) < at
    ):
        sub.cycle_index += 1
    sub.status, sub.pause_initiated_by = "active", None
    reschedule(book, sub)
    transaction.emit("subscription.resumed", subscription=sub.to_json())


def _now_only(body: Mapping[str, Any], name: str) -> None:
    """``pause_at``/``resume_at``: "now" is the only value (and the default)."""
    reject_unknown(body, (name,))
    if body.get(name, "now") != "now":
        raise invalid_request(f"The selected {name.replace('_', ' ')} is invalid.", field=name)
