"""/v1/notifications: admins watch callbacks to sites and redeliver one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from marshmallow import Schema, fields, validate

from ..notifications import list_notifications, redeliver
from .fields import PageQuerySchema, load_query, services
from .security import current_admin, database_for

bp = Blueprint("notifications", __name__, url_prefix="/v1/notifications")

NOTIFICATION_STATUSES = ["pending", "delivered", "dead", "cancelled"]
NOTIFICATION_TYPES = [
    "enrollment.granted",
    "enrollment.revoked",
    "order.paid",
    "payment.failed",
    "refund.processed",
    "refund.failed",
    "subscription.activated",
    "subscription.charged",
    "subscription.halted",
    "subscription.cancelled",
]


class NotificationSchema(Schema):
    id = fields.String()
    site_id = fields.String()
    event_type = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime()
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    body = fields.String()
    mode = fields.String()


class NotificationQuerySchema(PageQuerySchema):
    site_id = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(NOTIFICATION_STATUSES))
    event_type = fields.String(load_default=None, validate=validate.OneOf(NOTIFICATION_TYPES))


# Built once: a marshmallow schema is reusable and building one costs more than loading.
NOTIFICATION = NotificationSchema()
NOTIFICATION_LIST = NotificationSchema(many=True)
NOTIFICATION_QUERY = NotificationQuerySchema()


@bp.get("")
def index() -> dict[str, Any]:
    """List callbacks to sites and their delivery state."""
    caller = current_admin()
    page = list_notifications(database_for(caller), caller, **load_query(NOTIFICATION_QUERY))
    return {
        "items": NOTIFICATION_LIST.dump(page.items),
        "next_cursor": page.next_cursor,
    }


@bp.post("/<notification_id>/redeliver")
def redeliver_one(notification_id: str) -> dict[str, Any]:
    """Queue a notification again now (same id and body)."""
    caller = current_admin()
    result: dict[str, Any] = NOTIFICATION.dump(redeliver(services().db, caller, notification_id))
    return result
