"""Creating a subscription: reserved (committed) first under the site's Idempotency-Key,
then made at Razorpay with our id in its notes, then recorded. A request whose Razorpay
answer was lost, or its retry, finds what Razorpay made by that id instead of making a
second one."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..auth import Caller
from ..db import Database
from ..db import enrollments as enrollments_sql
from ..db import plans as plans_sql
from ..db import sites as sites_sql
from ..db import subscriptions as sql
from ..db.plans import Plan
from ..db.subscriptions import NewSubscription, Subscription
from ..errors import (
    AlreadyOwned,
    Forbidden,
    GatewayError,
    GatewayUnavailable,
    GatewayUnreached,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    NotFound,
    ValidationFailed,
)
from ..ids import new_id
from ..razorpay_gateway import RazorpayGateway

REFERENCE_NOTE = "subscription_ref"
# Razorpay wants a future start_at; a minute keeps clocks that differ out of the way.
MIN_START_DELAY = timedelta(minutes=1)
# Razorpay ends every subscription by this date; periods at their longest.
RAZORPAY_LATEST = datetime(2121, 1, 1, tzinfo=UTC)
DAYS_PER_PERIOD = {"daily": 1, "weekly": 7, "monthly": 31, "yearly": 366}
# A reservation this young may still be in the hands of the request that made it.
IN_FLIGHT = timedelta(seconds=30)


@dataclass(frozen=True)
class SubscriptionRequest:
    """A validated request to subscribe a customer to a plan."""

    site_id: str | None
    plan_id: str
    currency: str | None
    customer_email: str
    site_user_id: str | None
    total_count: int
    start_at: datetime | None
    notes: dict[str, str]

    def fingerprint(self) -> str:
        """A digest of the request, to tell a retry from a different request."""
        canonical = json.dumps(self.__dict__, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class CreateContext:
    """What creation needs besides the request."""

    db: Database
    gateway: RazorpayGateway
    clock: Callable[[], datetime]


def create_subscription(
    ctx: CreateContext, caller: Caller, request: SubscriptionRequest, key: str | None
) -> tuple[Subscription, bool]:
    """Create the subscription at Razorpay and here; return it and whether it is new.

    A site subscribes for itself, an admin for the site it names. The same Idempotency-Key
    and body return the first subscription; another body raises IdempotencyKeyReused.
    Raises AlreadyOwned (the customer already has the plan's SKU), NotFound (not a plan of
    ours), ValidationFailed (unknown site, another currency
    than the plan's, a start in the past, an end beyond Razorpay's), Forbidden,
    GatewayError, GatewayUnavailable (the reservation is kept: a retry with the key
    finishes it) and IdempotencyKeyInUse.
    """
    site_id = _site_of(ctx.db, caller, request.site_id)
    plan = _plan_for(ctx.db, request)
    _check_schedule(plan, request, ctx.clock())
    fingerprint = request.fingerprint()
    if key is not None:
        with ctx.db.read() as cur:
            earlier = sql.get_by_idempotency_key(cur, site_id, key)
        if earlier is not None:
            earlier = _same_request(earlier, fingerprint)
            return _resume(ctx, plan, earlier, retry=True), earlier.status == "creating"
    _refuse_if_owned(ctx.db, plan, request.customer_email.lower())
    reserved = NewSubscription(
        id=new_id("msb"),
        site_id=site_id,
        plan_id=plan.id,
        customer_email=request.customer_email.lower(),
        site_user_id=request.site_user_id,
        total_count=request.total_count,
        start_at=request.start_at,
        notes=request.notes,
        idempotency_key=key,
        request_fingerprint=fingerprint,
        created_by=caller.actor,
    )
    with ctx.db.transaction() as cur:
        stored = sql.insert(cur, reserved)
    if stored is None:  # a concurrent request with the key reserved first
        with ctx.db.read() as cur:
            earlier = sql.get_by_idempotency_key(cur, site_id, str(key))
        if earlier is None:
            raise RuntimeError("subscription insert skipped but none holds its key")
        return _resume(ctx, plan, _same_request(earlier, fingerprint), retry=True), False
    return _resume(ctx, plan, stored, retry=False), True


def _check_schedule(plan: Plan, request: SubscriptionRequest, now: datetime) -> None:
    """A start in the future, and a last cycle that starts before Razorpay's last date."""
    if request.start_at is not None and request.start_at < now + MIN_START_DELAY:
        raise ValidationFailed("start_at must be in the future", field="start_at")
    start = request.start_at or now
    cycle = timedelta(days=plan.interval * DAYS_PER_PERIOD[plan.period])
    if start + cycle * request.total_count > RAZORPAY_LATEST:
        raise ValidationFailed(
            "the last cycle would start after 2121-01-01, Razorpay's limit",
            field="total_count",
        )


def _refuse_if_owned(db: Database, plan: Plan, email: str) -> None:
    """A customer who already has the plan's SKU (bought, granted, or by a subscription
    that still gives access) is not billed for it a second time."""
    with db.read() as cur:
        owned = enrollments_sql.get_active(cur, email, plan.sku)
    if owned is not None:
        raise AlreadyOwned(
            f"{email} already has {plan.sku} (enrollment {owned.id})", enrollment_id=owned.id
        )


def _site_of(db: Database, caller: Caller, named: str | None) -> str:
    if caller.site_id is not None:
        if named is not None and named != caller.site_id:
            raise Forbidden("a site sells subscriptions for itself only", field="site_id")
        return caller.site_id
    if named is None:
        raise ValidationFailed("an admin names the site that sells it", field="site_id")
    with db.read() as cur:
        site = sites_sql.get(cur, named)
    if site is None or not site.is_active:
        raise ValidationFailed(f"no active site {named!r}", field="site_id")
    return named


def _plan_for(db: Database, request: SubscriptionRequest) -> Plan:
    with db.read() as cur:
        plan = plans_sql.get(cur, request.plan_id)
    if plan is None:
        raise NotFound(f"no plan {request.plan_id!r}", field="plan_id")
    if request.currency is not None and request.currency != plan.currency:
        raise ValidationFailed(
            f"plan {plan.id} bills in {plan.currency}, not {request.currency}", field="currency"
        )
    return plan


def _same_request(earlier: Subscription, fingerprint: str) -> Subscription:
    if earlier.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different subscription request",
            field="Idempotency-Key",
        )
    return earlier


def _resume(ctx: CreateContext, plan: Plan, sub: Subscription, retry: bool) -> Subscription:
    """The subscription, made at Razorpay now if it is still `creating` (after looking for
    one an earlier attempt made, when this is a retry)."""
    if sub.status != "creating":
        return sub
    made = _find_made(ctx.gateway, plan, sub) if retry else None
    if made is None and retry and ctx.clock() - sub.created_at < IN_FLIGHT:
        raise IdempotencyKeyInUse(
            "a request with this Idempotency-Key is still creating the subscription",
            retry_after=5,
        )
    if made is None:
        try:
            made = ctx.gateway.create_subscription(_razorpay_body(plan, sub))
        except GatewayUnreached:
            _forget(ctx.db, sub)
            raise
        except GatewayUnavailable:  # Razorpay may have made it: a retry looks it up
            raise
        except GatewayError:
            _forget(ctx.db, sub)
            raise
    with ctx.db.transaction() as cur:
        stored = sql.record_created(cur, sub.id, str(made["id"]), made.get("short_url"))
        if stored is not None:
            sql.add_change(cur, sub.id, None, "created", sub.created_by)
        current = stored or sql.get(cur, sub.id)
    if current is None:
        raise RuntimeError(f"subscription {sub.id} vanished")
    return current


def _find_made(gateway: RazorpayGateway, plan: Plan, sub: Subscription) -> dict[str, Any] | None:
    for entity in gateway.find_subscriptions_of_plan(plan.id):
        notes = entity.get("notes")
        if isinstance(notes, dict) and notes.get(REFERENCE_NOTE) == sub.id:
            return entity
    return None


def _forget(db: Database, sub: Subscription) -> None:
    with db.transaction() as cur:
        sql.delete_reservation(cur, sub.id)


def _razorpay_body(plan: Plan, sub: Subscription) -> dict[str, Any]:
    body: dict[str, Any] = {
        "plan_id": plan.id,
        "total_count": sub.total_count,
        "quantity": 1,
        "customer_notify": False,  # the selling site talks to its customer
        "notes": {
            **{k: str(v) for k, v in sub.notes.items()},
            REFERENCE_NOTE: sub.id,
            "site_id": sub.site_id,
            "sku": plan.sku,
        },
    }
    if sub.start_at is not None:
        body["start_at"] = int(sub.start_at.timestamp())
    return body


def checkout_options(
    key_id: str, merchant_name: str, plan: Plan, sub: Subscription
) -> dict[str, Any] | None:
    """The options for ``new Razorpay({...})`` while the customer has yet to authenticate
    (no amount: Razorpay takes it from the subscription)."""
    if sub.status != "created" or sub.razorpay_subscription_id is None:
        return None
    return {
        "key": key_id,
        "subscription_id": sub.razorpay_subscription_id,
        "name": merchant_name,
        "description": plan.name,
        "prefill": {"email": sub.customer_email},
        "notes": {REFERENCE_NOTE: sub.id},
    }
