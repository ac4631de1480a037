"""The wired services every handler, command and worker pass reaches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .db import Database
from .metrics import Metrics
from .razorpay_gateway import RazorpayGateway
from .settings import Settings

EXTENSION_KEY = "payments_service"


def utc_now() -> datetime:
    """The time now, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """Built once by create_app; found at ``app.extensions[EXTENSION_KEY]``."""

    settings: Settings
    db: Database
    gateway: RazorpayGateway
    metrics: Metrics
    # What time it is for Idempotency-Key leases (tests move it forward instead of waiting).
    clock: Callable[[], datetime] = field(default=utc_now)
