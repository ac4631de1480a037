"""GET /v1/payments: the payments on orders, for sites (their own) and admins."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from marshmallow import fields, validate

from ..payments import PAYMENT_STATUS_RANK, list_payments
from .checkout import PaymentSchema
from .fields import PageQuerySchema, load_query
from .security import current_caller, database_for

bp = Blueprint("payments", __name__, url_prefix="/v1/payments")


class PaymentQuerySchema(PageQuerySchema):
    order_id = fields.String(load_default=None)
    customer_email = fields.Email(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(list(PAYMENT_STATUS_RANK)))
    needs_attention = fields.Boolean(load_default=None)


# Built once: a marshmallow schema is reusable and building one costs more than loading.
PAYMENT_LIST = PaymentSchema(many=True)
PAYMENT_QUERY = PaymentQuerySchema()


@bp.get("")
def index() -> dict[str, Any]:
    """List payments newest first, by order, customer or status."""
    caller = current_caller()
    page = list_payments(database_for(caller), caller, **load_query(PAYMENT_QUERY))
    return {"items": PAYMENT_LIST.dump(page.items), "next_cursor": page.next_cursor}
