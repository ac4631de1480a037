"""Razorpay-shaped API errors: one exception type, rendered once by the app."""

from __future__ import annotations

from typing import Any

BAD_REQUEST_ERROR = "BAD_REQUEST_ERROR"
SERVER_ERROR = "SERVER_ERROR"
GATEWAY_ERROR = "GATEWAY_ERROR"

NO_SUCH_ID = "The id provided does not exist"
URL_NOT_FOUND = "The requested URL was not found on the server."
SERVER_TROUBLE = (
    "We are facing some trouble completing your request at the moment. Please try again shortly."
)
GATEWAY_TROUBLE = "Payment processing failed due to error at bank or wallet gateway"


class RazorpayError(Exception):
    """An error answered with Razorpay's status code and ``{"error": {...}}`` body."""

    def __init__(
        self,
        description: str,
        *,
        status: int = 400,
        code: str = BAD_REQUEST_ERROR,
        field: str | None = None,
        source: str = "business",
        step: str = "payment_initiation",
        reason: str = "input_validation_failed",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.code = code
        self.field = field
        self.source = source
        self.step = step
        self.reason = reason
        self.metadata = metadata or {}

    def to_json(self) -> dict[str, Any]:
        """Return the response body Razorpay sends for this error."""
        return {
            "error": {
                "code": self.code,
                "description": self.description,
                "field": self.field,
                "source": self.source,
                "step": self.step,
                "reason": self.reason,
                "metadata": self.metadata,
            }
        }


def invalid_request(description: str, field: str | None = None) -> RazorpayError:
    """A 400 input-validation error, optionally about one request field."""
    return RazorpayError(description, field=field)


def unauthorized(description: str) -> RazorpayError:
    """A 401 authentication error (Razorpay still labels it BAD_REQUEST_ERROR)."""
    return RazorpayError(description, status=401, source="NA", step="NA", reason="NA")


def route_not_found(status: int = 400) -> RazorpayError:
    """The error for an unknown URL or a method the URL does not support."""
    return RazorpayError(URL_NOT_FOUND, status=status, source="NA", step="NA", reason="NA")


def server_error() -> RazorpayError:
    """The generic 500 answer, which reveals nothing about the cause."""
    return RazorpayError(
        SERVER_TROUBLE, status=500, code=SERVER_ERROR, source="NA", step="NA", reason="NA"
    )


def gateway_error(status: int = 502) -> RazorpayError:
    """A 502 or 504 from the gateway in front of the API; the SDK raises GatewayError."""
    return RazorpayError(
        GATEWAY_TROUBLE, status=status, code=GATEWAY_ERROR, source="NA", step="NA", reason="NA"
    )


def idempotency_key_in_progress() -> RazorpayError:
    """Razorpay's 409 for a refund whose X-Refund-Idempotency key a request still being
    processed carries (its documented status; the wording is the sandbox's)."""
    return RazorpayError(
        "A request with this idempotency key is still being processed; retry after it",
        status=409,
        source="NA",
        step="NA",
        reason="NA",
    )
