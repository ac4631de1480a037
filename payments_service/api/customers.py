"""GET /v1/customers/{email}/transactions: one customer's money trail across all sites."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from marshmallow import Schema, ValidationError, fields

from ..money_trail import customer_trail
from .security import current_caller, database_for

bp = Blueprint("customers", __name__, url_prefix="/v1/customers")


class TrailEntrySchema(Schema):
    at = fields.DateTime()
    kind = fields.String()
    site_id = fields.String(allow_none=True)
    order_id = fields.String(allow_none=True)
    payment_id = fields.String(allow_none=True)
    refund_id = fields.String(allow_none=True)
    enrollment_id = fields.String(allow_none=True)
    sku = fields.String(allow_none=True)
    amount = fields.Integer(allow_none=True)
    currency = fields.String(allow_none=True)
    details = fields.Dict(allow_none=True)


class TotalsSchema(Schema):
    currency = fields.String()
    paid = fields.Integer()
    refunded = fields.Integer()
    refund_pending = fields.Integer()
    net = fields.Function(lambda t: int(t.paid - t.refunded - t.refund_pending))


class MoneyTrailSchema(Schema):
    customer_email = fields.String()
    entries = fields.List(fields.Nested(TrailEntrySchema))
    totals = fields.List(fields.Nested(TotalsSchema))
    is_truncated = fields.Boolean()


_EMAIL = fields.Email()


# Built once: a marshmallow schema is reusable and building one costs more than loading.
MONEY_TRAIL = MoneyTrailSchema()


@bp.get("/<email>/transactions")
def transactions(email: str) -> dict[str, Any]:
    """The money trail: orders, payments, captures, failures, refunds, grants, revokes
    (for a site: of its own paying customers, without card, fee or admin details)."""
    caller = current_caller()
    try:
        _EMAIL.deserialize(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    result: dict[str, Any] = MONEY_TRAIL.dump(customer_trail(database_for(caller), caller, email))
    return result
