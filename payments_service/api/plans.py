"""/v1/plans: an admin defines what a membership costs and how often it bills; anyone
authenticated reads them (sites sell them). Plans are immutable: no update route."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..auth import Caller, require_admin
from ..db.plans import Plan
from ..subscriptions import PlanRequest, create_plan, get_plan, list_plans
from .fields import PageQuerySchema, Paise, load_json, load_query, services, sku_field
from .security import current_caller

bp = Blueprint("plans", __name__, url_prefix="/v1/plans")

PERIODS = ["daily", "weekly", "monthly", "yearly"]
# Razorpay bills subscriptions in INR unless the account has other currencies enabled; the
# service sells memberships in INR only.
PLAN_CURRENCIES = ["INR"]
MIN_DAILY_INTERVAL = 7  # Razorpay's rule


class CreatePlanSchema(Schema):
    sku = sku_field(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default=None, validate=validate.Length(min=1, max=2000))
    period = fields.String(
        required=True,
        validate=validate.OneOf(PERIODS, error="must be one of daily, weekly, monthly, yearly"),
    )
    interval = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=12))
    amount = Paise(required=True)
    currency = fields.String(
        load_default="INR",
        validate=validate.OneOf(PLAN_CURRENCIES, error="memberships are sold in INR only"),
    )

    @validates_schema
    def _razorpay_intervals(self, data: dict[str, Any], **kwargs: Any) -> None:
        period, interval = data.get("period"), data.get("interval", 1)
        if period == "daily" and interval < MIN_DAILY_INTERVAL:
            raise ValidationError("a daily plan bills at least every 7 days", "interval")
        if period == "yearly" and interval > 1:
            raise ValidationError("a yearly plan bills every year", "interval")


class ListPlansQuerySchema(PageQuerySchema):
    sku = fields.String(load_default=None, validate=validate.Length(min=1, max=64))


class PlanSchema(Schema):
    id = fields.String()
    sku = fields.String()
    name = fields.String()
    description = fields.String(allow_none=True)
    period = fields.String()
    interval = fields.Integer()
    amount = fields.Integer()
    currency = fields.String()
    created_by = fields.String()
    created_at = fields.DateTime()


CREATE_PLAN = CreatePlanSchema()
LIST_PLANS_QUERY = ListPlansQuerySchema()
PLAN = PlanSchema()


@bp.post("")
def create() -> tuple[dict[str, Any], int]:
    """Create a plan at Razorpay and store it (admin only)."""
    caller = current_caller()
    require_admin(caller)
    body = load_json(CREATE_PLAN)
    found = services()
    plan = create_plan(found.db, found.gateway, caller, PlanRequest(**body))
    return _dump(caller, plan), 201


@bp.get("")
def index() -> dict[str, Any]:
    """List plans newest first, with a cursor."""
    caller = current_caller()
    page = list_plans(services().db, **load_query(LIST_PLANS_QUERY))
    return {"items": [_dump(caller, plan) for plan in page.items], "next_cursor": page.next_cursor}


@bp.get("/<plan_id>")
def fetch(plan_id: str) -> dict[str, Any]:
    """Fetch one plan."""
    return _dump(current_caller(), get_plan(services().db, plan_id))


def _dump(caller: Caller, plan: Plan) -> dict[str, Any]:
    """The plan; who made it is the admin's to know."""
    dumped: dict[str, Any] = PLAN.dump(plan)
    if not caller.is_admin:
        del dumped["created_by"]
    return dumped
