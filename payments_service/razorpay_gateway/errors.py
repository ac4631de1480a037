"""How a failed Razorpay call is told to the service: no SDK or transport exception passes
the gateway; each becomes GatewayError (refused), GatewayUnavailable (failed, or the answer
was lost) or GatewayUnreached (never sent, so Razorpay cannot have seen it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import razorpay.errors
import requests
import urllib3.exceptions

from ..errors import GatewayError, GatewayUnavailable, GatewayUnreached

# The package's name, as when the gateway was one module: log filters and readers keep it.
log = logging.getLogger(__package__)
T = TypeVar("T")

TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout)


def translated(operation: str, call: Callable[[], T]) -> T:
    """``call()``, its failures raised as the service's gateway errors."""
    try:
        return call()
    except TRANSPORT_ERRORS as exc:
        log.warning("razorpay %s unreachable: %s", operation, type(exc).__name__)
        unavailable = GatewayUnreached if never_sent(exc) else GatewayUnavailable
        raise unavailable("Razorpay could not be reached; try again shortly") from exc
    except razorpay.errors.BadRequestError as exc:
        log.warning("razorpay %s refused: %s", operation, exc)
        reason = exc.args[0] if exc.args else ""
        raise GatewayError("Razorpay refused the request", reason=reason) from exc
    except (razorpay.errors.ServerError, razorpay.errors.GatewayError) as exc:
        log.warning("razorpay %s failed: %s", operation, exc)
        raise GatewayUnavailable("Razorpay failed to answer; try again shortly") from exc
    except ValueError as exc:  # a non-JSON answer, e.g. an HTML error page from a proxy
        log.warning("razorpay %s answered something that is not JSON", operation)
        raise GatewayUnavailable("Razorpay gave an unreadable answer") from exc


def never_sent(error: requests.RequestException) -> bool:
    """Whether the request failed before a connection existed (refused, unresolvable, or
    timed out connecting), so Razorpay cannot have seen it."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    cause = error.args[0] if error.args else None
    return isinstance(getattr(cause, "reason", None), urllib3.exceptions.ConnectTimeoutError)
