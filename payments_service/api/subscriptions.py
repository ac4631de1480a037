"""/v1/subscriptions: a site (or an admin) subscribes a customer to a plan, verifies the
Checkout result, reads, cancels, pauses and resumes its subscriptions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from marshmallow import Schema, fields, validate

from ..auth import Caller
from ..subscriptions import (
    Action,
    CreateContext,
    SubscriptionCheckout,
    SubscriptionRequest,
    SubscriptionView,
    cancel,
    checkout_options,
    create_subscription,
    list_subscriptions,
    pause,
    resume,
    verify_checkout,
    view_of,
    visible,
)
from .fields import (
    JsonBoolean,
    PageQuerySchema,
    idempotency_key,
    load_json,
    load_query,
    notes_field,
    services,
)
from .security import current_caller

bp = Blueprint("subscriptions", __name__, url_prefix="/v1/subscriptions")

STATUSES = [
    "creating",
    "created",
    "authenticated",
    "active",
    "pending",
    "halted",
    "paused",
    "cancelled",
    "completed",
    "expired",
]


MAX_CYCLES = 60


class SubscriberSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    site_user_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100))


class CreateSubscriptionSchema(Schema):
    site_id = fields.String(load_default=None, validate=validate.Length(min=2, max=63))
    plan_id = fields.String(required=True, validate=validate.Regexp(r"^plan_[A-Za-z0-9]{1,40}$"))
    currency = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(["INR"], error="memberships are sold in INR only (the plan's)"),
    )
    customer = fields.Nested(SubscriberSchema, required=True)
    total_count = fields.Integer(strict=True, required=True, validate=validate.Range(1, MAX_CYCLES))
    start_at = fields.AwareDateTime(load_default=None, format="iso")
    # Razorpay allows 15 notes; the service adds subscription_ref, site_id and sku.
    notes = notes_field(max_pairs=12)


class VerifySchema(Schema):
    razorpay_payment_id = fields.String(
        required=True, validate=validate.Regexp(r"^pay_[A-Za-z0-9]{1,40}$")
    )
    razorpay_subscription_id = fields.String(
        load_default="", validate=validate.Regexp(r"^sub_[A-Za-z0-9]{1,40}$")
    )
    razorpay_signature = fields.String(
        required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$", error="64 hex digits")
    )


class CancelSchema(Schema):
    at_cycle_end = JsonBoolean(load_default=False)


class ListSubscriptionsQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    site_id = fields.String(load_default=None)
    customer_email = fields.String(load_default=None, validate=validate.Length(max=254))


class SubscriptionSchema(Schema):
    id = fields.String()
    razorpay_subscription_id = fields.String(allow_none=True)
    site_id = fields.String()
    plan_id = fields.String()
    status = fields.String()
    customer = fields.Function(
        lambda s: {"email": s.customer_email, "site_user_id": s.site_user_id}
    )
    total_count = fields.Integer()
    paid_count = fields.Integer()
    auth_attempts = fields.Integer()
    start_at = fields.DateTime(allow_none=True)
    current_start = fields.DateTime(allow_none=True)
    current_end = fields.DateTime(allow_none=True)
    charge_at = fields.DateTime(allow_none=True)
    cancel_at_cycle_end = fields.Boolean()
    short_url = fields.String(allow_none=True)
    notes = fields.Dict()
    created_by = fields.String()
    changed_by = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)


SUBSCRIPTION = SubscriptionSchema()
SUBSCRIPTION_LIST = SubscriptionSchema(many=True)
CREATE = CreateSubscriptionSchema()
VERIFY = VerifySchema()
CANCEL = CancelSchema()
LIST_QUERY = ListSubscriptionsQuerySchema()


@bp.post("")
def create() -> tuple[dict[str, Any], int]:
    """Subscribe a customer to a plan; answers the Checkout options."""
    caller = current_caller()
    body = load_json(CREATE)
    found = services()
    customer = body["customer"]
    request = SubscriptionRequest(
        site_id=body["site_id"],
        plan_id=body["plan_id"],
        currency=body["currency"],
        customer_email=customer["email"].strip().lower(),
        site_user_id=customer["site_user_id"],
        total_count=body["total_count"],
        start_at=body["start_at"],
        notes=body["notes"],
    )
    context = CreateContext(found.db, found.gateway, found.clock)
    sub, is_new = create_subscription(context, caller, request, idempotency_key())
    return _dump(view_of(found.db, sub)), 201 if is_new else 200


@bp.get("")
def index() -> dict[str, Any]:
    """List subscriptions newest first (a site: its own)."""
    caller = current_caller()
    page = list_subscriptions(services().db, caller, **load_query(LIST_QUERY))
    items = [_as_seen_by(caller, item) for item in SUBSCRIPTION_LIST.dump(page.items)]
    return {"items": items, "next_cursor": page.next_cursor}


@bp.get("/<subscription_id>")
def fetch(subscription_id: str) -> dict[str, Any]:
    """Fetch one subscription with its access and charges."""
    caller = current_caller()
    db = services().db
    return _dump(view_of(db, visible(db, caller, subscription_id)))


@bp.post("/<subscription_id>/verify")
def verify(subscription_id: str) -> dict[str, Any]:
    """Verify the Checkout result of the customer's authentication payment."""
    caller = current_caller()
    body = load_json(VERIFY)
    found = services()
    sub = verify_checkout(
        found.db,
        found.gateway,
        found.settings.razorpay_key_secret,
        caller,
        subscription_id,
        SubscriptionCheckout(**body),
        found.settings.subscription_access_during_pending,
    )
    return _dump(view_of(found.db, sub))


@bp.post("/<subscription_id>/cancel")
def cancel_route(subscription_id: str) -> dict[str, Any]:
    """Cancel now, or at the end of the paid cycle."""
    caller = current_caller()
    body = load_json(CANCEL) if request.get_data(cache=True) else {"at_cycle_end": False}
    sub = cancel(_action(), caller, subscription_id, body["at_cycle_end"])
    return _dump(view_of(services().db, sub))


@bp.post("/<subscription_id>/pause")
def pause_route(subscription_id: str) -> dict[str, Any]:
    """Pause an active subscription."""
    caller = current_caller()
    return _dump(view_of(services().db, pause(_action(), caller, subscription_id)))


@bp.post("/<subscription_id>/resume")
def resume_route(subscription_id: str) -> dict[str, Any]:
    """Resume a paused subscription."""
    caller = current_caller()
    return _dump(view_of(services().db, resume(_action(), caller, subscription_id)))


def _action() -> Action:
    found = services()
    return Action(found.db, found.gateway, found.settings.subscription_access_during_pending)


def _as_seen_by(caller: Caller, dumped: dict[str, Any]) -> dict[str, Any]:
    """What a site sees: who at the merchant acted is the admin's to know (`admin`)."""
    if caller.is_admin:
        return dumped
    for key in ("created_by", "changed_by"):
        dumped[key] = _masked(dumped[key])
    for change in dumped.get("history", []):
        change["actor"] = _masked(change["actor"])
    return dumped


def _masked(actor: str) -> str:
    return "admin" if actor.startswith("admin:") else actor


def _dump(view: SubscriptionView) -> dict[str, Any]:
    found = services()
    dumped: dict[str, Any] = SUBSCRIPTION.dump(view.subscription)
    enrollment = view.enrollment
    dumped["plan"] = {
        "id": view.plan.id,
        "sku": view.plan.sku,
        "name": view.plan.name,
        "amount": view.plan.amount,
        "currency": view.plan.currency,
        "period": view.plan.period,
        "interval": view.plan.interval,
    }
    dumped["access"] = {
        "granted": enrollment is not None,
        "enrollment_id": enrollment.id if enrollment else None,
    }
    dumped["charges"] = [
        {
            "order_id": order.id,
            "razorpay_order_id": order.razorpay_order_id,
            "razorpay_invoice_id": order.razorpay_invoice_id,
            "status": order.status,
            "amount": order.amount,
            "amount_paid": order.amount_paid,
            "amount_refunded": order.amount_refunded,
            "currency": order.currency,
            "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        }
        for order in view.charges
    ]
    dumped["history"] = [
        {
            "from_status": change["from_status"],
            "to_status": change["to_status"],
            "actor": change["actor"],
            "detail": change["detail"],
            "at": change["at"].isoformat(),
        }
        for change in view.history
    ]
    dumped["checkout"] = checkout_options(
        found.settings.razorpay_key_id, found.settings.merchant_name, view.plan, view.subscription
    )
    return _as_seen_by(current_caller(), dumped)
