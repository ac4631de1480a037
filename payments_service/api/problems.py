"""The one place that knows HTTP statuses: domain errors -> application/problem+json."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from .. import errors

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

_STATUS: dict[type[errors.ServiceError], int] = {
    errors.ValidationFailed: 422,
    errors.IdempotencyKeyReused: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.NotRefundable: 409,
    errors.InvalidSignature: 403,  # a proof refused; not 401: no WWW-Authenticate scheme fits
    errors.MalformedWebhook: 400,
    errors.PaymentMismatch: 400,
    errors.PaymentNotSuccessful: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.GatewayUnavailable: 503,
    errors.DatabaseUnavailable: 503,
    errors.GatewayError: 502,
}

_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> Response:
    """Build an RFC 9457 problem response carrying our stable ``code`` and the request id."""
    body = {
        "type": f"urn:payments-service:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": g.get("request_id"),
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


def status_of(error: errors.ServiceError) -> int:
    """The HTTP status for a domain error (its nearest registered class decides)."""
    for cls in type(error).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 400


def _service_error(error: errors.ServiceError) -> Response:
    extra = {k: v for k, v in error.extra.items() if k != "reason"}
    response = problem(status_of(error), error.code, error.title, error.detail, **extra)
    if isinstance(error, errors.IdempotencyKeyInUse):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _database_unavailable(error: errors.DatabaseUnavailable) -> Response:
    # One line, no traceback: an outage is not a bug, and it would log one per request.
    log.warning("database unavailable: %s", error.reason)
    return _service_error(error)


def _validation_error(error: ValidationError) -> Response:
    fields = error.messages if isinstance(error.messages, dict) else {"_body": error.messages}
    names = ", ".join(sorted(str(name) for name in fields))
    return problem(
        422, "validation_error", "Invalid request", f"invalid fields: {names}", errors=fields
    )


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    code = _HTTP_CODES.get(status, "http_error")
    detail = error.description or error.name
    response = problem(status, code, error.name, detail)
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _unexpected_error(error: Exception) -> Response:
    log.exception("unhandled error", exc_info=error)
    return problem(
        500,
        "internal_error",
        "Internal error",
        "something went wrong on our side; it has been logged",
    )


def register_error_handlers(app: Flask) -> None:
    """Render every error as problem+json; nothing else in the app builds error bodies."""
    app.register_error_handler(errors.ServiceError, _service_error)
    app.register_error_handler(errors.DatabaseUnavailable, _database_unavailable)
    app.register_error_handler(ValidationError, _validation_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
