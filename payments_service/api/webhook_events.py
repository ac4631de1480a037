"""/v1/webhook-events: admins see what Razorpay sent and re-apply an event after a fix."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from marshmallow import Schema, fields, validate

from ..razorpay_events import EventContext, last_webhook_at, list_events, reapply_event
from .fields import PageQuerySchema, load_query, services
from .security import current_admin, database_for

bp = Blueprint("webhook_events", __name__, url_prefix="/v1/webhook-events")

EVENT_STATUSES = ["received", "applied", "unmatched", "ignored", "failed", "other_mode"]


class WebhookEventSchema(Schema):
    id = fields.String()
    event_type = fields.String()
    account_id = fields.String(allow_none=True)
    status = fields.String()
    detail = fields.String(allow_none=True)
    order_id = fields.String(allow_none=True)
    attempts = fields.Integer()
    razorpay_created_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime()
    processed_at = fields.DateTime(allow_none=True)
    payload = fields.Dict()
    mode = fields.String()


class WebhookEventQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(EVENT_STATUSES))
    event_type = fields.String(load_default=None, validate=validate.Length(max=100))


# Built once: a marshmallow schema is reusable and building one costs more than loading.
WEBHOOK_EVENT = WebhookEventSchema()
WEBHOOK_EVENT_LIST = WebhookEventSchema(many=True)
WEBHOOK_EVENT_QUERY = WebhookEventQuerySchema()


@bp.get("")
def index() -> dict[str, Any]:
    """List received Razorpay events: applied, unmatched (not ours), ignored, failed."""
    caller = current_admin()
    query = load_query(WEBHOOK_EVENT_QUERY)
    page = list_events(database_for(caller), **query)
    last = last_webhook_at(services().db)
    return {
        "items": WEBHOOK_EVENT_LIST.dump(page.items),
        "next_cursor": page.next_cursor,
        "last_received_at": last.isoformat() if last else None,
    }


@bp.post("/<event_id>/reapply")
def reapply(event_id: str) -> dict[str, Any]:
    """Apply a stored event again and return its new outcome."""
    current_admin()
    result: dict[str, Any] = WEBHOOK_EVENT.dump(
        reapply_event(EventContext.of(services()), event_id)
    )
    return result
