"""/v1/payment-links: sites (or admins) make Razorpay payment links; buyers come back
through the callback."""

from __future__ import annotations

import html
from typing import Any

from flask import Blueprint, Response, redirect, request
from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response as BaseResponse

from ..errors import DatabaseUnavailable, ServiceError, ValidationFailed
from ..payment_links import (
    LinkCallback,
    LinkRequest,
    LinkView,
    cancel_link,
    complete_callback,
    create_link,
    get_link,
    list_links,
)
from ..payment_links.create import LinkContext
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
)
from .orders import ProductSchema
from .problems import status_of
from .security import current_caller

bp = Blueprint("payment_links", __name__, url_prefix="/v1/payment-links")

LINK_STATUSES = ["creating", "created", "partially_paid", "paid", "expired", "cancelled"]
CALLBACK_PATH = "/v1/payment-links/callback"


class LinkCustomerSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    contact = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\+?[0-9]{8,15}$", error="digits with an optional +, 8-15"),
    )


class NotifySchema(Schema):
    email = JsonBoolean(load_default=False)
    sms = JsonBoolean(load_default=False)


class CreatePaymentLinkSchema(Schema):
    site_id = fields.String(load_default=None, validate=validate.Length(min=2, max=63))
    amount = Paise(required=True)
    currency = currency_field()
    product = fields.Nested(ProductSchema, required=True)
    customer = fields.Nested(LinkCustomerSchema, required=True)
    expire_by = fields.AwareDateTime(load_default=None, format="iso")
    notify = fields.Nested(NotifySchema, load_default=lambda: {"email": False, "sms": False})
    return_url = fields.Url(
        required=True,
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=2000),
    )
    # Razorpay allows 15 notes; the service adds sku, site_id and order_ref.
    notes = notes_field(max_pairs=12)


class ListPaymentLinksQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(LINK_STATUSES))
    site_id = fields.String(load_default=None)


class PaymentLinkSchema(Schema):
    id = fields.String(attribute="link.razorpay_link_id", allow_none=True)
    short_url = fields.String(attribute="link.short_url", allow_none=True)
    status = fields.String(attribute="link.status")
    order_id = fields.String(attribute="link.order_id")
    site_id = fields.String(attribute="link.site_id")
    amount = fields.Integer(attribute="order.amount")
    currency = fields.String(attribute="order.currency")
    amount_paid = fields.Integer(attribute="order.amount_paid")
    order_status = fields.String(attribute="order.status")
    razorpay_order_id = fields.String(attribute="order.razorpay_order_id", allow_none=True)
    product = fields.Function(lambda v: {"sku": v.order.product_sku, "name": v.order.product_name})
    customer = fields.Function(
        lambda v: {
            "email": v.order.customer_email,
            "name": v.order.customer_name,
            "contact": v.order.customer_contact,
        }
    )
    notify = fields.Function(lambda v: {"email": v.link.notify_email, "sms": v.link.notify_sms})
    notes = fields.Dict(attribute="order.notes")
    return_url = fields.String(attribute="link.return_url")
    expire_by = fields.DateTime(attribute="link.expire_by")
    created_at = fields.DateTime(attribute="link.created_at")
    updated_at = fields.DateTime(attribute="link.updated_at")
    paid_at = fields.DateTime(attribute="order.paid_at", allow_none=True)
    expired_at = fields.DateTime(attribute="link.expired_at", allow_none=True)
    cancelled_at = fields.DateTime(attribute="link.cancelled_at", allow_none=True)


CREATE_LINK = CreatePaymentLinkSchema()
LIST_LINKS_QUERY = ListPaymentLinksQuerySchema()
LINK = PaymentLinkSchema()
LINK_LIST = PaymentLinkSchema(many=True)


@bp.post("")
def create() -> tuple[dict[str, Any], int]:
    """Create a payment link (and its order) and return it."""
    caller = current_caller()
    body = load_json(CREATE_LINK)
    found = services()
    context = LinkContext(
        found.db, found.gateway, found.clock, found.settings.public_base_url + CALLBACK_PATH
    )
    view, is_new = create_link(context, caller, _link_request(body), idempotency_key())
    return _dump(view), 201 if is_new else 200


@bp.get("")
def index() -> dict[str, Any]:
    """List payment links newest first, with a cursor."""
    caller = current_caller()
    page = list_links(services().db, caller, **load_query(LIST_LINKS_QUERY))
    return {"items": LINK_LIST.dump(page.items), "next_cursor": page.next_cursor}


@bp.get("/callback")
def callback() -> BaseResponse:
    """Where Razorpay's hosted page sends the buyer: 303 to the site, or an error page."""
    args = request.args
    given = LinkCallback(*(args.get(name, "") for name in LinkCallback.__dataclass_fields__))
    found = services()
    try:
        result = complete_callback(
            found.db, found.gateway, found.settings.razorpay_key_secret, given
        )
    except DatabaseUnavailable:  # answered like every other outage, with Retry-After
        raise
    except ValidationFailed as exc:  # a redirect missing a parameter is a bad request
        return _error_page(400, exc.detail)
    except ServiceError as exc:
        return _error_page(status_of(exc), exc.detail)
    return redirect(result.redirect_to, code=303)


@bp.get("/<link_id>")
def fetch(link_id: str) -> dict[str, Any]:
    """Fetch one payment link by its Razorpay id."""
    caller = current_caller()
    return _dump(get_link(services().db, caller, link_id))


@bp.post("/<link_id>/cancel")
def cancel(link_id: str) -> dict[str, Any]:
    """Cancel an unpaid payment link (the site that made it, or an admin)."""
    caller = current_caller()
    return _dump(cancel_link(services().db, services().gateway, caller, link_id))


def _dump(view: LinkView) -> dict[str, Any]:
    dumped: dict[str, Any] = LINK.dump(view)
    return dumped


def _error_page(status: int, detail: str) -> Response:
    """A plain page for the buyer's browser (never a redirect that could say paid)."""
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Payment not confirmed</title>"
        "<h1>We could not confirm this payment</h1>"
        f"<p>{html.escape(detail)}</p>"
        "<p>If money left your account, the seller will still see the payment; "
        "contact them with this page's address.</p></html>"
    )
    response = Response(body, status=status, mimetype="text/html")
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


def _link_request(body: dict[str, Any]) -> LinkRequest:
    customer, product, notify = body["customer"], body["product"], body["notify"]
    return LinkRequest(
        site_id=body["site_id"],
        amount=body["amount"],
        currency=body["currency"],
        sku=product["sku"],
        product_name=product["name"],
        customer_email=customer["email"],
        customer_name=customer["name"],
        customer_contact=customer["contact"],
        expire_by=body["expire_by"],
        notify_email=notify["email"],
        notify_sms=notify["sms"],
        return_url=body["return_url"],
        notes=body["notes"],
    )
