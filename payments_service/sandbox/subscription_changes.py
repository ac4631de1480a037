"""Creating subscriptions and changing their terms (plan, quantity, remaining cycles).

``PATCH /v1/subscriptions/{id}`` (the SDK's ``subscription.edit``) applies its changes now
or, with ``schedule_change_at: cycle_end``, at the end of the current cycle. The sandbox
changes terms without proration: no difference is invoiced or refunded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .entities import new_id
from .errors import invalid_request
from .plans import Plan
from .subscription_book import SubscriptionBook
from .subscription_entities import Subscription
from .validation import EARLIEST_TIME, LATEST_TIME, parse_notes, reject_unknown, required

CREATE_FIELDS = frozenset(
    {"plan_id", "total_count", "quantity", "start_at", "expire_by", "customer_notify"}
    | {"addons", "offer_id", "notes", "notify_info", "customer_id"}
)
EDIT_FIELDS = frozenset(
    {"plan_id", "offer_id", "quantity", "remaining_count", "start_at", "schedule_change_at"}
    | {"customer_notify"}
)
EXPIRED_LINK = "Link expire by cannot be lesser than the current time."
OFFER_NOT_FOUND = "Offer Not Found"
NOT_UPDATABLE = (
    "Can't update Subscription when Subscription is not in Authenticated or Active state"
)
UPI_NOT_UPDATABLE = "subscriptions cannot be updated when payment mode is UPI"
FLAG_VALUES: dict[bool | int | str, bool] = {True: True, False: False, "1": True, "0": False}


def create_subscription(
    book: SubscriptionBook, body: Mapping[str, Any], at: int, page_url: str
) -> Subscription:
    """Validate a subscription-create body and build the subscription (``created``).

    ``page_url`` is the sandbox's hosted payment page, whose link becomes ``short_url``.
    """
    reject_unknown(body, CREATE_FIELDS)
    plan = book.plan(str(required(body, "plan_id")))
    total_count = positive_int(body, "total_count", required(body, "total_count"))
    if body.get("offer_id") is not None:
        raise invalid_request(OFFER_NOT_FOUND, field="offer_id")
    if body.get("addons"):
        raise invalid_request("Add-ons are not supported by the sandbox", field="addons")
    start_at, expire_by = _times(body, plan, total_count, at)
    if not isinstance(body.get("notify_info", {}), dict):
        raise invalid_request("The notify info must be an array.", field="notify_info")
    sub_id = new_id("sub_")
    sub = Subscription(
        id=sub_id,
        plan_id=plan.id,
        total_count=total_count,
        quantity=positive_int(body, "quantity", body.get("quantity", 1)),
        notes=parse_notes(body.get("notes")),
        customer_notify=flag(body, "customer_notify", True),
        expire_by=expire_by,
        start_at=start_at,
        created_at=at,
        short_url=f"{page_url}?subscription_id={sub_id}",
        remaining_count=total_count,
    )
    if start_at is not None:
        sub.anchor = sub.charge_at = start_at
        sub.end_at = plan.cycle_boundary(start_at, total_count - 1)
    return sub


def parse_edit(book: SubscriptionBook, sub: Subscription, body: Mapping[str, Any]) -> Any:
    """Check an update against Razorpay's rules; returns ``(changes, at_cycle_end)``."""
    reject_unknown(body, EDIT_FIELDS)
    if sub.status not in ("authenticated", "active"):
        raise invalid_request(NOT_UPDATABLE)
    if sub.payment_method != "card":
        raise invalid_request(UPI_NOT_UPDATABLE)
    if body.get("offer_id") is not None:
        raise invalid_request(OFFER_NOT_FOUND, field="offer_id")
    when = body.get("schedule_change_at", "now")
    if when not in ("now", "cycle_end"):
        raise invalid_request("The selected schedule change at is invalid.", "schedule_change_at")
    changes: dict[str, Any] = {}
    if "plan_id" in body:
        plan = book.plan(str(body["plan_id"]))
        if plan.currency != book.plan(sub.plan_id).currency:
            raise invalid_request("The plan's currency differs from the subscription's.")
        changes["plan_id"] = plan.id
    for name in ("quantity", "remaining_count"):
        if name in body:
            changes[name] = positive_int(body, name, body[name])
    if "customer_notify" in body:
        changes["customer_notify"] = flag(body, "customer_notify", True)
    if "start_at" in body:
        if sub.status != "authenticated" or sub.paid_count:
            raise invalid_request("The start_at of a started subscription cannot change.")
        changes["start_at"] = positive_int(body, "start_at", body["start_at"])
    return changes, when == "cycle_end"


def apply_changes(book: SubscriptionBook, sub: Subscription, changes: Mapping[str, Any]) -> None:
    """Give the subscription its new terms; a new plan or start re-anchors the schedule at
    the next charge (billing then follows the new plan's period from there)."""
    if "plan_id" in changes or "start_at" in changes:
        next_charge = changes.get("start_at", sub.charge_at)
        if next_charge is not None:
            sub.anchor, sub.anchor_index = next_charge, sub.cycle_index
        if "start_at" in changes:
            sub.start_at = changes["start_at"]
    for name in ("plan_id", "quantity", "remaining_count", "customer_notify"):
        if name in changes:
            setattr(sub, name, changes[name])
    if "remaining_count" in changes:
        sub.total_count = sub.cycle_index + sub.remaining_count


def apply_scheduled_changes(book: SubscriptionBook, sub: Subscription, at: int) -> bool:
    """Apply changes waiting for the cycle end once it has come; True if any were."""
    changes = sub.scheduled_changes
    if changes is None or sub.change_scheduled_at is None or sub.change_scheduled_at > at:
        return False
    apply_changes(book, sub, changes)
    sub.scheduled_changes, sub.change_scheduled_at = None, None
    return True


def preview(book: SubscriptionBook, sub: Subscription) -> Subscription:
    """The subscription as it will look once its scheduled changes apply."""
    future = replace(sub, scheduled_changes=None)
    apply_changes(book, future, sub.scheduled_changes or {})
    future.scheduled_changes, future.change_scheduled_at = None, None
    return future


def positive_int(body: Mapping[str, Any], name: str, value: Any) -> int:
    """An integer of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_request(f"The {name} must be an integer.", field=name)
    if value < 1:
        raise invalid_request(f"The {name} must be at least 1.", field=name)
    return value


def flag(body: Mapping[str, Any], name: str, default: bool) -> bool:
    """A boolean that may also come as 1/0 (the Node SDK sends integers; 1 == True)."""
    value = body.get(name, default)
    if isinstance(value, bool | int | str) and value in FLAG_VALUES:
        return FLAG_VALUES[value]
    raise invalid_request(f"The {name} field may have 0 or 1 values.", field=name)


def _times(
    body: Mapping[str, Any], plan: Plan, total_count: int, at: int
) -> tuple[int | None, int | None]:
    """``start_at`` and ``expire_by``, both in the future, and an end within Razorpay's range."""
    start_at = _optional_time(body, "start_at")
    if start_at is not None and start_at <= at:
        raise invalid_request("start_at cannot be lesser than the current time.", "start_at")
    expire_by = _optional_time(body, "expire_by")
    if expire_by is not None and expire_by <= at:
        raise invalid_request(EXPIRED_LINK, field="expire_by")
    if plan.cycle_boundary(start_at or at, total_count - 1) > LATEST_TIME:
        raise invalid_request(
            f"end_time must be between {EARLIEST_TIME} and {LATEST_TIME}", "total_count"
        )
    return start_at, expire_by


def _optional_time(body: Mapping[str, Any], name: str) -> int | None:
    """An optional Unix time in seconds."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_request(f"The {name} must be an integer.", field=name)
    return value
