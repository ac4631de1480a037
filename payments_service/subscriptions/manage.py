"""Reading subscriptions, and the seller's actions on one (cancel now or at the cycle's
end, pause, resume): Razorpay first, then our records through the state machine, with the
actor recorded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..auth import Caller
from ..db import Database
from ..db import plans as plans_sql
from ..db import subscription_charges as charges_sql
from ..db import subscriptions as sql
from ..db.enrollments import Enrollment
from ..db.orders import Order
from ..db.plans import Plan
from ..db.subscriptions import Subscription
from ..errors import Conflict, GatewayError, GatewayUnavailable, NotFound
from ..pagination import Page, decode_cursor, page_of
from ..razorpay_gateway import RazorpayGateway
from .state import FINAL, Change, apply_change_in


@dataclass(frozen=True)
class SubscriptionView:
    """A subscription with its plan, the enrollment it granted and its charges' orders."""

    subscription: Subscription
    plan: Plan
    enrollment: Enrollment | None
    charges: list[Order]
    history: list[dict[str, Any]]


def view_of(db: Database, sub: Subscription) -> SubscriptionView:
    """The subscription as the API answers it, read in one transaction."""
    with db.transaction() as cur:
        now = sql.get(cur, sub.id) or sub
        plan = plans_sql.get(cur, now.plan_id)
        if plan is None:
            raise RuntimeError(f"subscription {sub.id} has no plan")
        return SubscriptionView(
            now,
            plan,
            charges_sql.granted_enrollment(cur, now.id),
            charges_sql.charge_orders(cur, now.id),
            sql.changes(cur, now.id),
        )


def visible(db: Database, caller: Caller, subscription_id: str) -> Subscription:
    """Our subscription (by our id or Razorpay's) if the caller may see it (a site: its
    own). Raises NotFound otherwise."""
    with db.read() as cur:
        sub = (
            sql.get_by_razorpay_id(cur, subscription_id)
            if subscription_id.startswith("sub_")
            else sql.get(cur, subscription_id)
        )
    if sub is None or not caller.can_see_site(sub.site_id):
        raise NotFound(f"no subscription {subscription_id!r}", field="id")
    return sub


def list_subscriptions(
    db: Database,
    caller: Caller,
    *,
    site_id: str | None,
    status: str | None,
    customer_email: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Subscription]:
    """Subscriptions newest first; a site sees only its own, an admin may filter by site."""
    if not caller.is_admin:
        site_id = caller.site_id
    with db.read() as cur:
        rows = sql.list_page(
            cur,
            site_id=site_id,
            status=status,
            customer_email=customer_email.strip().lower() if customer_email else None,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
    return page_of(rows, limit, lambda row: (row.created_at, row.id))


@dataclass(frozen=True)
class Action:
    """What an action needs: the database, Razorpay, and the access setting."""

    db: Database
    gateway: RazorpayGateway
    during_pending: bool


def cancel(ctx: Action, caller: Caller, subscription_id: str, at_cycle_end: bool) -> Subscription:
    """Cancel now (access goes now) or at the end of the paid cycle (access stays until
    Razorpay cancels it then). Cancelling a cancelled subscription returns it. Raises
    NotFound, Conflict (completed, expired, or Razorpay refuses), GatewayError."""
    sub = visible(ctx.db, caller, subscription_id)
    if sub.status == "cancelled" or (at_cycle_end and sub.cancel_at_cycle_end):
        return sub
    _check_status(sub, "cancelled", allowed=None)
    flag = at_cycle_end if sub.status in ("active", "pending", "halted", "paused") else False
    return _act(
        ctx,
        caller,
        sub,
        lambda rid: ctx.gateway.cancel_subscription(rid, flag),
        flag if flag else None,
    )


def pause(ctx: Action, caller: Caller, subscription_id: str) -> Subscription:
    """Pause an active subscription (no charges, no access until resumed)."""
    sub = visible(ctx.db, caller, subscription_id)
    if sub.status == "paused":
        return sub
    _check_status(sub, "paused", allowed=("active",))
    return _act(ctx, caller, sub, ctx.gateway.pause_subscription, None)


def resume(ctx: Action, caller: Caller, subscription_id: str) -> Subscription:
    """Resume a paused subscription (access comes back)."""
    sub = visible(ctx.db, caller, subscription_id)
    _check_status(sub, "resumed", allowed=("paused",))
    return _act(ctx, caller, sub, ctx.gateway.resume_subscription, None)


def _check_status(sub: Subscription, action: str, allowed: tuple[str, ...] | None) -> None:
    blocked = sub.status in FINAL or sub.status == "creating"
    if blocked or (allowed is not None and sub.status not in allowed):
        raise Conflict(f"the subscription is {sub.status}; it cannot be {action}", field="status")


def _act(
    ctx: Action,
    caller: Caller,
    sub: Subscription,
    call: Callable[[str], dict[str, Any]],
    cancel_at_cycle_end: bool | None,
) -> Subscription:
    rid = str(sub.razorpay_subscription_id)
    try:
        entity = call(rid)
    except GatewayUnavailable:
        raise
    except GatewayError as exc:  # Razorpay's state differs from ours: record it, say so
        entity = ctx.gateway.fetch_subscription(rid)
        _apply(ctx, caller, sub, Change(entity, "reconcile"))
        raise Conflict(
            f"Razorpay refused: {exc.extra.get('reason') or exc.detail}; "
            f"the subscription is {entity.get('status')}",
            field="status",
        ) from None
    return _apply(ctx, caller, sub, Change(entity, caller.actor, cancel_at_cycle_end))


def _apply(ctx: Action, caller: Caller, sub: Subscription, change: Change) -> Subscription:
    with ctx.db.transaction() as cur:
        locked = sql.get(cur, sub.id, lock=True)
        if locked is None:
            raise NotFound(f"no subscription {sub.id!r}")
        return apply_change_in(cur, locked, change, ctx.during_pending)
