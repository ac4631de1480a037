"""/v1/enrollments: does this person own this course, on any site."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from marshmallow import Schema, fields, validate

from ..enrollments import list_enrollments
from .fields import load_query, services, sku_field
from .security import current_caller

bp = Blueprint("enrollments", __name__, url_prefix="/v1/enrollments")


class EnrollmentSchema(Schema):
    id = fields.String()
    customer_email = fields.String()
    sku = fields.String()
    status = fields.String()
    source = fields.String()
    order_id = fields.String(allow_none=True)
    granted_by = fields.String()
    grant_reason = fields.String(allow_none=True)
    granted_at = fields.DateTime()
    revoked_by = fields.String(allow_none=True)
    revoke_reason = fields.String(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class EnrollmentQuerySchema(Schema):
    customer_email = fields.Email(load_default=None)
    sku = sku_field(load_default=None)
    status = fields.String(load_default="active", validate=validate.OneOf(["active", "revoked"]))


@bp.get("")
def index() -> dict[str, Any]:
    """List enrollments by customer email and/or SKU, across all sites."""
    current_caller()
    query = load_query(EnrollmentQuerySchema())
    found = list_enrollments(services().db, **query)
    return {"items": EnrollmentSchema(many=True).dump(found)}
