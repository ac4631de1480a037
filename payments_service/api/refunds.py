"/v1/refunds: full or partial refunds of captured payments, and reading them back."

from __future__ import annotations

from typing import Any

from flask import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..refunds import RefundRequest, create_refund, get_refund, list_refunds
from .fields import (
    PageQuerySchema,
    Paise,
    currency_field,
    idempotency_key,
    load_json,
    load_query,
    services,
)
from .security import current_caller, database_for

bp = Blueprint("refunds", __name__, url_prefix="/v1/refunds")

REFUND_STATUSES = ["requested", "pending", "processed", "failed"]


class CreateRefundSchema(Schema):
    payment_id = fields.String(
        load_default=None, validate=validate.Regexp(r"^pay_[A-Za-z0-9_]{1,60}$")
    )
    order_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    amount = Paise(load_default=None)
    currency = currency_field(load_default=None)
    reason = fields.String(load_default=None, validate=validate.Length(min=1, max=500))
    speed = fields.String(load_default="normal", validate=validate.OneOf(["normal", "optimum"]))
    revoke_access = fields.Boolean(load_default=True, truthy={True}, falsy={False})

    @validates_schema
    def _names_a_payment(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("payment_id") and not data.get("order_id"):
            raise ValidationError("name the payment_id, or the order_id", "payment_id")


class RefundQuerySchema(PageQuerySchema):
    payment_id = fields.String(load_default=None)
    order_id = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(REFUND_STATUSES))


class RefundSchema(Schema):
    id = fields.String()
    razorpay_refund_id = fields.String(allow_none=True)
    payment_id = fields.String()
    order_id = fields.String()
    status = fields.String()
    amount = fields.Integer()
    currency = fields.String()
    speed_requested = fields.String()
    speed_processed = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    revokes_access = fields.Boolean()
    revoked_access = fields.Boolean()
    needs_attention = fields.String(allow_none=True)
    requested_by = fields.String()
    created_at = fields.DateTime()
    processed_at = fields.DateTime(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)
    mode = fields.String()


# Built once: a marshmallow schema is reusable and building one costs more than loading.
CREATE_REFUND = CreateRefundSchema()
REFUND = RefundSchema()
REFUND_LIST = RefundSchema(many=True)
REFUND_QUERY = RefundQuerySchema()


@bp.post("")
def create() -> tuple[dict[str, Any], int]:
    """Refund all that is left of a payment, or part of it."""
    caller = current_caller()
    body = load_json(CREATE_REFUND)
    refund, is_new = create_refund(
        services().db, services().gateway, caller, RefundRequest(**body), idempotency_key()
    )
    return REFUND.dump(refund), 201 if is_new else 200


@bp.get("/<refund_id>")
def fetch(refund_id: str) -> dict[str, Any]:
    """Fetch one refund."""
    caller = current_caller()
    result: dict[str, Any] = REFUND.dump(get_refund(database_for(caller), caller, refund_id))
    return result


@bp.get("")
def index() -> dict[str, Any]:
    """List refunds newest first, by payment, order or status."""
    caller = current_caller()
    page = list_refunds(database_for(caller), caller, **load_query(REFUND_QUERY))
    return {"items": REFUND_LIST.dump(page.items), "next_cursor": page.next_cursor}
