"""Prometheus metrics: HTTP traffic, Razorpay calls, webhooks, and outbox health.

Counters and histograms live in a registry owned by the app (no import-time globals).
Outbox and webhook figures are read from the database at scrape time, so every api
process reports the same truth. Under gunicorn with PROMETHEUS_MULTIPROC_DIR set, the
per-process counters are merged by prometheus_client's multiprocess collector.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from .db import Database, DatabaseUnavailable
from .db import health as sql

log = logging.getLogger(__name__)
# Request methods that get a label of their own; any other name a client sends is "other",
# so no request can add series to /metrics.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Metrics:
    """The service's instruments, registered in one registry per app."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "payments_http_requests_total",
            "HTTP requests answered",
            ["endpoint", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "payments_http_request_seconds",
            "HTTP request latency",
            ["endpoint", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.razorpay_calls = Counter(
            "payments_razorpay_calls_total",
            "Calls to Razorpay",
            ["operation", "outcome"],
            registry=r,
        )
        self.razorpay_latency = Histogram(
            "payments_razorpay_call_seconds",
            "Razorpay call latency",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.webhooks = Counter(
            "payments_webhooks_total",
            "Razorpay webhook deliveries",
            ["event_type", "outcome"],
            registry=r,
        )
        self.reconciled = Counter(
            "payments_reconciled_total", "Reconciliation results", ["result"], registry=r
        )

    def record_request(
        self, endpoint: str | None, method: str, status: int, seconds: float | None
    ) -> None:
        """Count one answered request (and its latency, when known) under labels from a
        closed set: the route template or ``unmatched``, a standard method or ``other``,
        and the status code."""
        route = endpoint or "unmatched"
        verb = method if method in METHODS else "other"
        self.requests.labels(route, verb, str(status)).inc()
        if seconds is not None:
            self.latency.labels(route, verb).observe(seconds)

    def record_razorpay_call(self, operation: str, outcome: str, seconds: float) -> None:
        """Count one Razorpay call and its latency."""
        self.razorpay_calls.labels(operation, outcome).inc()
        self.razorpay_latency.labels(operation).observe(seconds)

    def record_reconcile(self, counts: dict[str, int]) -> None:
        """Add a reconciliation report's counts."""
        for result, number in counts.items():
            self.reconciled.labels(result).inc(number)

    def exposition(self, db: Database) -> bytes:
        """The text format for /metrics: our instruments plus database-derived gauges."""
        output = CollectorRegistry()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            MultiProcessCollector(output)  # type: ignore[no-untyped-call]
        else:
            output.register(_Forward(self.registry))
        output.register(_DatabaseGauges(db))
        return generate_latest(output)


class _Forward(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()


class _DatabaseGauges(Collector):
    """Whether the database answers; then outbox sizes, the oldest pending notification,
    and the last verified webhook (left out while the database is away, so a scrape
    still succeeds and says so)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def collect(self) -> Iterator[Metric]:
        try:
            with self._db.transaction() as cur:
                counts = sql.notification_counts(cur)
                oldest = sql.oldest_pending_notification_age(cur)
                last_webhook = sql.last_webhook_epoch(cur)
        except DatabaseUnavailable as exc:
            log.warning("metrics: database unavailable: %s", exc.reason)
            yield _database_up(False)
            return
        yield _database_up(True)
        by_status = GaugeMetricFamily(
            "payments_notifications", "Notifications by status", labels=["status"]
        )
        for status in ("pending", "delivered", "dead", "cancelled"):
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        yield GaugeMetricFamily(
            "payments_notification_oldest_pending_seconds",
            "Age of the oldest undelivered notification",
            value=oldest,
        )
        yield GaugeMetricFamily(
            "payments_last_webhook_received_timestamp_seconds",
            "When the last verified Razorpay webhook arrived (0: never)",
            value=last_webhook,
        )


def _database_up(up: bool) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "payments_database_up", "1 when the database answered this scrape, else 0", value=int(up)
    )
