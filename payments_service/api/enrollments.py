"""/v1/enrollments: does this person own this course, on any site."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from marshmallow import Schema, fields, validate

from ..enrollments import grant_enrollment, list_enrollments, revoke_enrollment
from .fields import load_json, load_query, services, sku_field
from .security import current_admin, current_caller, database_for

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
    mode = fields.String()


class EnrollmentQuerySchema(Schema):
    customer_email = fields.Email(load_default=None)
    sku = sku_field(load_default=None)
    status = fields.String(load_default="active", validate=validate.OneOf(["active", "revoked"]))


class GrantSchema(Schema):
    customer_email = fields.Email(required=True, validate=validate.Length(max=254))
    sku = sku_field(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class RevokeSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


# Who granted or revoked access and why (admin names, their free-text reasons) are the
# merchant's own records: admins see them; a site, and the buyer in verify's answer, see the
# enrollment without them (the fields a site's enrollment notification carries).
ADMIN_ONLY_FIELDS = ("granted_by", "grant_reason", "revoked_by", "revoke_reason")

# Built once: a marshmallow schema is reusable and building one costs more than loading.
ENROLLMENT = EnrollmentSchema()
ENROLLMENT_LIST = EnrollmentSchema(many=True)
SITE_ENROLLMENT_LIST = EnrollmentSchema(many=True, exclude=ADMIN_ONLY_FIELDS)
ENROLLMENT_QUERY = EnrollmentQuerySchema()
GRANT = GrantSchema()
REVOKE = RevokeSchema()


@bp.post("")
def grant() -> tuple[dict[str, Any], int]:
    """Grant access without a purchase (admin), with the reason recorded."""
    caller = current_admin()
    body = load_json(GRANT)
    return ENROLLMENT.dump(grant_enrollment(services().db, caller, **body)), 201


@bp.post("/<enrollment_id>/revoke")
def revoke(enrollment_id: str) -> dict[str, Any]:
    """Revoke access (admin), with the reason recorded."""
    caller = current_admin()
    body = load_json(REVOKE)
    revoked = revoke_enrollment(services().db, caller, enrollment_id, body["reason"])
    result: dict[str, Any] = ENROLLMENT.dump(revoked)
    return result


@bp.get("")
def index() -> dict[str, Any]:
    """List enrollments by customer email and/or SKU, across all sites."""
    caller = current_caller()
    query = load_query(ENROLLMENT_QUERY)
    found = list_enrollments(database_for(caller), caller, **query)
    view = ENROLLMENT_LIST if caller.is_admin else SITE_ENROLLMENT_LIST
    return {"items": view.dump(found)}
