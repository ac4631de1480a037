"""Webhook events: the signed envelope, a record of every event, and delivery with retries.

Deliveries follow the chaos knobs (duplicates, shuffle, delay, drops; see SandboxConfig).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

import requests

from .chaos import Chaos
from .config import SandboxConfig
from .entities import new_id, now

logger = logging.getLogger(__name__)

DELIVERY_TIMEOUT_SECONDS = 5.0
MAX_ATTEMPTS = 4
FIRST_RETRY_DELAY_SECONDS = 0.25


def sign(secret: str, message: bytes) -> str:
    """Return the lowercase hex HMAC-SHA256 Razorpay uses for every signature."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Event:
    """One webhook event: the exact body bytes sent on every attempt, and their signature."""

    id: str
    name: str
    created_at: int
    body: bytes
    signature: str

    def headers(self) -> dict[str, str]:
        """Headers of a delivery, identical on every retry."""
        return {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": self.signature,
            "X-Razorpay-Event-Id": self.id,
        }

    def to_json(self) -> dict[str, Any]:
        """Describe the event for the control API, body included as sent."""
        return {
            "id": self.id,
            "event": self.name,
            "created_at": self.created_at,
            "body": self.body.decode(),
            "signature": self.signature,
        }


def build_event(config: SandboxConfig, name: str, entities: dict[str, dict[str, Any]]) -> Event:
    """Wrap entity snapshots in Razorpay's event envelope, serialise it once and sign it.

    ``entities`` maps payload keys (``payment``, ``order``, ``refund``) to entity JSON, in the
    order Razorpay lists them in ``contains``.
    """
    created_at = now()
    envelope = {
        "entity": "event",
        "account_id": config.account_id,
        "event": name,
        "contains": list(entities),
        "payload": {key: {"entity": entity} for key, entity in entities.items()},
        "created_at": created_at,
    }
    body = json.dumps(envelope, separators=(",", ":")).encode()
    return Event(new_id(), name, created_at, body, sign(config.webhook_secret, body))


@dataclass
class Delivery:
    """The sending of one copy of an event to one URL (or the decision not to send it)."""

    event: Event
    url: str
    copy: int = 1
    is_dropped: bool = False
    is_redelivery: bool = False
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    delivered: bool = False

    def to_json(self) -> dict[str, Any]:
        """Describe the delivery for the control API."""
        return {
            "event_id": self.event.id,
            "event": self.event.name,
            "url": self.url,
            "copy": self.copy,
            "dropped": self.is_dropped,
            "redelivery": self.is_redelivery,
            "attempts": self.attempts,
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "delivered": self.delivered,
        }


class WebhookDispatcher:
    """Records events and sends them to the configured URLs, synchronously or from a thread."""

    def __init__(self, config: SandboxConfig, chaos: Chaos) -> None:
        self._config = config
        self._chaos = chaos
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._deliveries: list[Delivery] = []
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None

    def publish(self, events: list[Event]) -> None:
        """Record ``events`` and deliver them according to ``webhook_delivery``.

        Events are recorded in the order they happened; deliveries are shuffled, copied and
        dropped as the chaos knobs say. In ``sync`` mode this returns only when every delivery
        succeeded or gave up.
        """
        with self._lock:
            self._events.extend(events)
        mode = self._config.webhook_delivery
        if mode == "off":
            return
        deliveries: list[Delivery] = []
        for event in self._chaos.delivery_order(events):
            deliveries.extend(self._plan(event))
        with self._lock:
            self._deliveries.extend(deliveries)
        for delivery in deliveries:
            if delivery.is_dropped:
                logger.info("dropping webhook %s %s", delivery.event.name, delivery.event.id)
            elif mode == "sync":
                self._deliver(delivery)
            else:
                self._ensure_worker()
                self._queue.put(delivery)

    def event(self, event_id: str) -> Event | None:
        """The recorded event with this id, if any."""
        with self._lock:
            return next((event for event in self._events if event.id == event_id), None)

    def redeliver(self, event: Event) -> list[dict[str, Any]]:
        """Send ``event`` once more to every configured URL and return how each went.

        Always synchronous and exactly once per URL, whatever the delivery mode and the chaos
        knobs say: a replay is an explicit request.
        """
        deliveries = [Delivery(event, url, is_redelivery=True) for url in self._config.webhook_urls]
        with self._lock:
            self._deliveries.extend(deliveries)
        for delivery in deliveries:
            self._deliver(delivery)
        with self._lock:
            return [delivery.to_json() for delivery in deliveries]

    def events(self) -> list[dict[str, Any]]:
        """Every event emitted so far, oldest first."""
        with self._lock:
            return [event.to_json() for event in self._events]

    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery so far (finished or not), oldest first."""
        with self._lock:
            return [delivery.to_json() for delivery in self._deliveries]

    def clear(self) -> None:
        """Forget recorded events and deliveries (queued deliveries still go out)."""
        with self._lock:
            self._events.clear()
            self._deliveries.clear()

    def close(self) -> None:
        """Stop the delivery thread; deliveries still queued are dropped."""
        self._stopping.set()
        with self._lock:
            worker = self._worker
        if worker is not None:
            self._queue.put(None)
            worker.join(timeout=DELIVERY_TIMEOUT_SECONDS + 1)

    def _plan(self, event: Event) -> list[Delivery]:
        """The deliveries of one event: every copy to every URL, all dropped if it is."""
        is_dropped = self._chaos.is_dropped()
        copies = range(1, self._config.webhook_duplicates + 1)
        return [
            Delivery(event, url, copy=copy, is_dropped=is_dropped)
            for url in self._config.webhook_urls
            for copy in copies
        ]

    def _ensure_worker(self) -> None:
        """Start the delivery thread on first use."""
        with self._lock:
            if self._worker is None and not self._stopping.is_set():
                self._worker = threading.Thread(
                    target=self._run, name="sandbox-webhooks", daemon=True
                )
                self._worker.start()

    def _run(self) -> None:
        """Deliver queued events in order, each after ``webhook_delay_ms``, until closed."""
        while not self._stopping.is_set():
            delivery = self._queue.get()
            if delivery is None:
                return
            delay_ms = self._config.webhook_delay_ms
            if delay_ms and self._stopping.wait(delay_ms / 1000):
                return
            self._deliver(delivery)

    def _deliver(self, delivery: Delivery) -> None:
        """POST the event, retrying failures with exponential back-off."""
        delay = FIRST_RETRY_DELAY_SECONDS
        for attempt in range(MAX_ATTEMPTS):
            if attempt and self._stopping.wait(delay):
                return
            delay *= 2
            if self._attempt(delivery):
                return
        logger.warning(
            "giving up on %s event %s for %s after %d attempts",
            delivery.event.name,
            delivery.event.id,
            delivery.url,
            delivery.attempts,
        )

    def _attempt(self, delivery: Delivery) -> bool:
        """Make one delivery attempt; True when the receiver answered 2xx."""
        event = delivery.event
        status_code: int | None = None
        error: str | None = None
        try:
            response = requests.post(
                delivery.url,
                data=event.body,
                headers=event.headers(),
                timeout=DELIVERY_TIMEOUT_SECONDS,
            )
            status_code = response.status_code
            response.close()
        except requests.RequestException as exc:
            error = type(exc).__name__
        delivered = status_code is not None and 200 <= status_code < 300
        with self._lock:
            delivery.attempts += 1
            delivery.last_status_code = status_code
            delivery.last_error = error
            delivery.delivered = delivered
        logger.info(
            "webhook %s %s -> %s: %s", event.name, event.id, delivery.url, status_code or error
        )
        return delivered
