"""/v1/orders: sites create orders and read them back."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from marshmallow import Schema, fields, validate

from ..order_reservations import KeyLease
from ..orders import OrderRequest, checkout_options, create_order, get_order, list_orders
from .fields import (
    JsonBoolean,
    PageQuerySchema,
    Paise,
    currency_field,
    idempotency_key,
    load_json,
    load_query,
    notes_field,
    services,
    sku_field,
)
from .security import current_caller, current_site, database_for

bp = Blueprint("orders", __name__, url_prefix="/v1/orders")

ORDER_STATUSES = [
    "created",
    "attempted",
    "paid",
    "partially_refunded",
    "refunded",
    "expired",
    "cancelled",
]


class ProductSchema(Schema):
    sku = sku_field(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class CustomerSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    contact = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\+?[0-9]{8,15}$", error="digits with an optional +, 8-15"),
    )
    site_user_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100))


class CreateOrderSchema(Schema):
    amount = Paise(required=True)
    currency = currency_field()
    product = fields.Nested(ProductSchema, required=True)
    customer = fields.Nested(CustomerSchema, required=True)
    receipt = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    # Razorpay allows 15 notes; the service adds sku, site_id and order_ref.
    notes = notes_field(max_pairs=12)
    allow_owned = JsonBoolean(load_default=False)


class ListOrdersQuerySchema(PageQuerySchema):
    customer_email = fields.Email(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(ORDER_STATUSES))
    site_id = fields.String(load_default=None)


class OrderSchema(Schema):
    id = fields.String()
    razorpay_order_id = fields.String(allow_none=True)
    site_id = fields.String()
    status = fields.String()
    amount = fields.Integer()
    currency = fields.String()
    amount_paid = fields.Integer()
    amount_refunded = fields.Integer()
    product = fields.Function(lambda o: {"sku": o.product_sku, "name": o.product_name})
    customer = fields.Function(
        lambda o: {
            "email": o.customer_email,
            "name": o.customer_name,
            "contact": o.customer_contact,
            "site_user_id": o.site_user_id,
        }
    )
    receipt = fields.String(allow_none=True)
    notes = fields.Dict()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)
    allow_owned = fields.Boolean(allow_none=True)
    mode = fields.String()
    checkout = fields.Method("_checkout")

    def _checkout(self, order: Any) -> dict[str, Any]:
        settings = services().settings
        return checkout_options(order, settings.razorpay_key_id, settings.merchant_name)


# Built once: a marshmallow schema is reusable and building one costs more than loading.
CREATE_ORDER = CreateOrderSchema()
LIST_ORDERS_QUERY = ListOrdersQuerySchema()
ORDER = OrderSchema()
ORDER_LIST = OrderSchema(many=True)


@bp.post("")
def create() -> tuple[dict[str, Any], int]:
    """Create an order and return it with its Checkout options."""
    caller = current_site()
    body = load_json(CREATE_ORDER)
    order, is_new = create_order(
        services().db,
        services().gateway,
        caller,
        _order_request(body),
        idempotency_key(),
        KeyLease.of(services()),
        allow_owned=body["allow_owned"],
    )
    return ORDER.dump(order), 201 if is_new else 200


@bp.get("/<order_id>")
def fetch(order_id: str) -> dict[str, Any]:
    """Fetch one order."""
    caller = current_caller()
    result: dict[str, Any] = ORDER.dump(get_order(database_for(caller), caller, order_id))
    return result


@bp.get("")
def index() -> dict[str, Any]:
    """List orders newest first, with filters and a cursor."""
    caller = current_caller()
    query = load_query(LIST_ORDERS_QUERY)
    page = list_orders(database_for(caller), caller, **query)
    return {"items": ORDER_LIST.dump(page.items), "next_cursor": page.next_cursor}


def _order_request(body: dict[str, Any]) -> OrderRequest:
    customer, product = body["customer"], body["product"]
    return OrderRequest(
        amount=body["amount"],
        currency=body["currency"],
        sku=product["sku"],
        product_name=product["name"],
        customer_email=customer["email"],
        customer_name=customer["name"],
        customer_contact=customer["contact"],
        site_user_id=customer["site_user_id"],
        receipt=body["receipt"],
        notes=body["notes"],
    )
