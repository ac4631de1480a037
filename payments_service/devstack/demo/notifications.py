"""The signed notifications the service POSTs to the site, checked as every site must.

The demo keeps the last few it accepted in memory, for its admin page to show; what a
buyer owns is never taken from them (the store asks the service on every page load), so
a restart, a late or a lost notification changes nothing the buyer sees.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

KEPT = 20


def is_signed(secret: str, raw: bytes, header: str, max_age: int = 300) -> bool:
    """The recipe every site follows: t=<unix>,v1=<HMAC-SHA256(secret, "<t>.<raw body>")>;
    during a secret rotation the header carries several v1 values, and one must match."""
    pairs = [item.split("=", 1) for item in header.split(",") if "=" in item]
    stamps = [value for key, value in pairs if key == "t"]
    signatures = [value for key, value in pairs if key == "v1"]
    if not secret or len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        return False
    if abs(time.time() - int(stamps[0])) > max_age:
        return False
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + raw, hashlib.sha256)
    return any(hmac.compare_digest(expected.hexdigest(), given) for given in signatures)


@dataclass(frozen=True)
class Received:
    """One accepted notification, as the admin page lists it."""

    event_id: str
    type: str
    about: str
    received_at: str


@dataclass
class Inbox:
    """The newest notifications this process accepted, once per event id."""

    items: deque[Received] = field(default_factory=lambda: deque(maxlen=KEPT))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accept(self, event: dict[str, Any]) -> None:
        """Keep one verified event (a redelivery of a kept one is not listed twice)."""
        received = Received(
            event_id=str(event.get("id", "")),
            type=str(event.get("type", "")),
            about=_about(event.get("data")),
            received_at=time.strftime("%H:%M:%S"),
        )
        with self.lock:
            if all(item.event_id != received.event_id for item in self.items):
                self.items.appendleft(received)

    def newest_first(self) -> list[Received]:
        """What the admin page shows."""
        with self.lock:
            return list(self.items)


def _about(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    enrollment = data.get("enrollment")
    if isinstance(enrollment, dict):
        return f"{enrollment.get('sku')} for {enrollment.get('customer_email')}"
    subscription = data.get("subscription")
    if isinstance(subscription, dict):
        return f"subscription {subscription.get('id')} {subscription.get('status')}"
    order = data.get("order")
    if isinstance(order, dict):
        return f"order {order.get('id')}"
    return ""
