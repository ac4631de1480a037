"""Domain exceptions. Each carries a stable machine-readable ``code``; api/problems.py
is the one place that turns them into HTTP statuses and problem+json bodies."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of every error the service reports to its callers."""

    code = "error"
    title = "Request failed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ValidationFailed(ServiceError):
    """The request is well-formed but breaks a rule the schema cannot express."""

    code = "validation_error"
    title = "Invalid request"


class NotFound(ServiceError):
    """The named resource does not exist, or is not visible to the caller."""

    code = "not_found"
    title = "Not found"


class Conflict(ServiceError):
    """The request contradicts the current state of the resource."""

    code = "conflict"
    title = "Conflict"


class AlreadyOwned(Conflict):
    """The customer already has an active enrollment in the product being sold."""

    code = "already_owned"
    title = "Already owned"


class MalformedWebhook(ServiceError):
    """A correctly signed webhook whose body is not a Razorpay event."""

    code = "malformed_webhook"
    title = "Malformed webhook"


class IdempotencyKeyReused(ServiceError):
    """The Idempotency-Key was already used with a different request body."""

    code = "idempotency_key_reused"
    title = "Idempotency-Key reused with a different body"


class IdempotencyKeyInUse(Conflict):
    """Another request with this Idempotency-Key is still being served (or its outcome at
    Razorpay is not yet known); ``retry_after`` is the number of seconds to wait."""

    code = "idempotency_key_in_use"
    title = "Idempotency-Key in use"

    def __init__(self, detail: str, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class NotRefundable(ServiceError):
    """The payment cannot be refunded as asked: not captured, or not that much left."""

    code = "not_refundable"
    title = "Not refundable"


class InvalidSignature(ServiceError):
    """A Razorpay signature (Checkout's, or a webhook's) is missing or does not match what
    our secret produces: the caller's proof is refused, whatever else the request says."""

    code = "invalid_signature"
    title = "Invalid signature"


class PaymentMismatch(ServiceError):
    """A payment does not belong to the order, or its amount or currency differ."""

    code = "payment_mismatch"
    title = "Payment does not match the order"


class PaymentNotSuccessful(ServiceError):
    """The payment exists but was not authorized or captured (failed, or still created)."""

    code = "payment_not_successful"
    title = "Payment not successful"


class Unauthorized(ServiceError):
    """No valid credentials: missing, malformed, expired or wrongly signed token."""

    code = "unauthorized"
    title = "Unauthorized"


class Forbidden(ServiceError):
    """Valid credentials that do not allow this action."""

    code = "forbidden"
    title = "Forbidden"


class GatewayError(ServiceError):
    """Razorpay refused or failed a call in a way the client cannot fix by changing input."""

    code = "gateway_error"
    title = "Payment gateway error"


class GatewayUnavailable(GatewayError):
    """Razorpay could not be reached or timed out; the call is safe to retry later."""

    code = "gateway_unavailable"
    title = "Payment gateway unavailable"


class DatabaseUnavailable(ServiceError):
    """PostgreSQL cannot be reached: connection refused or lost, the server shutting down or
    not accepting connections. A transaction it interrupted is rolled back by the server.

    ``reason`` (the driver's first line, for logs and the CLI) is never sent to HTTP callers.
    """

    code = "database_unavailable"
    title = "Database unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(
            "the database cannot be reached right now; retry shortly",
            reason=reason,
        )
        self.reason = reason


class GatewayUnreached(GatewayUnavailable):
    """No connection to Razorpay could be made: the request never left, so it changed
    nothing there."""


class GatewayBusy(GatewayUnavailable):
    """Razorpay is still processing an earlier request with the same idempotency key (its
    409): that request's outcome is not known yet."""


class ConfigurationError(Exception):
    """The environment does not describe a runnable service; raised at start-up."""
