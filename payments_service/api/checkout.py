"""POST /v1/payments/verify: the browser (or site) reports a Checkout result.

No token: the Razorpay signature is the proof. CORS is open to registered sites' origins.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from marshmallow import Schema, fields, validate

from ..checkout import CheckoutResult, verify_checkout
from ..errors import DatabaseUnavailable
from ..payments import PaymentOutcome
from ..sites import is_allowed_origin
from .enrollments import ADMIN_ONLY_FIELDS, EnrollmentSchema
from .fields import load_json, services
from .orders import OrderSchema
from .problems import problem

bp = Blueprint("checkout", __name__, url_prefix="/v1/payments")

_RAZORPAY_ID = r"^[A-Za-z0-9_]{1,64}$"


class VerifySchema(Schema):
    razorpay_order_id = fields.String(
        required=True, validate=validate.Regexp("^order_" + _RAZORPAY_ID[1:])
    )
    razorpay_payment_id = fields.String(
        required=True, validate=validate.Regexp("^pay_" + _RAZORPAY_ID[1:])
    )
    razorpay_signature = fields.String(
        required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$", error="64 hex characters")
    )


class PaymentSchema(Schema):
    id = fields.String()
    order_id = fields.String()
    status = fields.String()
    amount = fields.Integer()
    currency = fields.String()
    amount_refunded = fields.Integer()
    method = fields.String(allow_none=True)
    captured_at = fields.DateTime(allow_none=True)
    duplicate_of = fields.String(allow_none=True)
    duplicate_of_enrollment = fields.String(allow_none=True)
    needs_attention = fields.String(allow_none=True)
    mode = fields.String()


class VerifyResultSchema(Schema):
    order = fields.Nested(OrderSchema)
    payment = fields.Nested(PaymentSchema)
    # No token here: the buyer sees their enrollment as a site does, without admin records.
    enrollment = fields.Nested(EnrollmentSchema(exclude=ADMIN_ONLY_FIELDS), allow_none=True)


# Built once: a marshmallow schema is reusable and building one costs more than loading.
VERIFY = VerifySchema()
VERIFY_RESULT = VerifyResultSchema()


@bp.route("/verify", methods=["POST"], provide_automatic_options=False)
def verify() -> dict[str, Any]:
    """Verify a Checkout result, capture, mark the order paid and grant access."""
    body = load_json(VERIFY)
    settings = services().settings
    outcome: PaymentOutcome = verify_checkout(
        services().db, services().gateway, settings.razorpay_key_secret, CheckoutResult(**body)
    )
    result: dict[str, Any] = VERIFY_RESULT.dump(outcome)
    return result


@bp.route("/verify", methods=["OPTIONS"], provide_automatic_options=False)
def verify_preflight() -> Response:
    """Answer a CORS preflight for a registered site's origin only."""
    if not _allowed_origin():
        return problem(403, "forbidden", "Forbidden", "this origin is not a registered site")
    return Response(status=204)


@bp.after_request
def _cors(response: Response) -> Response:
    try:
        origin = _allowed_origin()
    except DatabaseUnavailable:
        return response  # whether the origin is a site's is unknown; the 503 says why
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, X-Request-Id"
        response.headers["Access-Control-Max-Age"] = "600"
        response.vary.add("Origin")
    return response


def _allowed_origin() -> str | None:
    origin = request.headers.get("Origin")
    if origin and is_allowed_origin(services().db, origin):
        return origin
    return None
