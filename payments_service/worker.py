"""The worker: the background passes that keep sites informed and the money trail whole.

Each pass delivers due notifications to sites, retries webhooks that were stored but not
applied, settles refunds whose Razorpay answer was lost, refunds duplicate payments or
leaves them flagged (REFUND_DUPLICATE_PAYMENTS; refunds/duplicates.py), and asks Razorpay
about orders still unpaid after a while (a closed tab whose webhooks were lost). Several
workers may run at once: claims use SKIP LOCKED leases or row locks, and every pass is
idempotent. Each pass first records that it started (worker_heartbeats), which is how
`flask --app payments_service check` knows a worker is running.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests

from .db import Database
from .db import worker_heartbeats as heartbeats
from .errors import DatabaseUnavailable
from .notifications import deliver_due
from .razorpay_events import EventContext, retry_stale_events
from .reconcile import heal_open_orders
from .refunds import decide_refunds, refund_reserved, resolve_requested_refunds
from .services import Services

log = logging.getLogger(__name__)
STALE_EVENT_AGE = timedelta(seconds=30)
UNANSWERED_REFUND_AGE = timedelta(minutes=2)


@dataclass(frozen=True)
class PassReport:
    """What one worker pass did."""

    notifications_delivered: int
    notifications_failed: int
    events_retried: int
    refunds_resolved: int
    duplicates_refunded: int
    orders_checked: int
    orders_updated: int


def run_pass(services: Services, session: requests.Session) -> PassReport:
    """One pass of every background duty."""
    record_pass_started(services)
    delivered = deliver_due(services.db, session)
    retried = retry_stale_events(EventContext.of(services), STALE_EVENT_AGE)
    resolved = resolve_requested_refunds(services.db, services.gateway, UNANSWERED_REFUND_AGE)
    # The one place that reads REFUND_DUPLICATE_PAYMENTS: the state machine marks and flags
    # duplicates; here each is refunded, or left flagged, once.
    decide_refunds(services.db, refund=services.settings.refund_duplicate_payments)
    duplicates = refund_reserved(services.db, services.gateway)
    age = timedelta(seconds=services.settings.reconcile_open_orders_after_seconds)
    healed = heal_open_orders(
        services.db,
        services.gateway,
        older_than=age,
        during_pending=services.settings.subscription_access_during_pending,
    )
    return PassReport(
        delivered.delivered,
        delivered.failed,
        retried,
        resolved,
        duplicates,
        healed.seen,
        healed.updated,
    )


def record_pass_started(services: Services) -> None:
    """Record that a worker of this mode starts a pass now (what `check` looks for)."""
    with services.db.transaction() as cur:
        heartbeats.record_pass(cur, services.clock())


def last_pass_at(db: Database) -> datetime | None:
    """When a worker of the database's mode last started a pass; None if none ever did."""
    with db.transaction() as cur:
        return heartbeats.last_pass_at(cur)


def run_forever(services: Services, stop: threading.Event) -> None:
    """Run passes every WORKER_INTERVAL_SECONDS until ``stop`` is set (SIGTERM, Ctrl-C)."""
    interval = services.settings.worker_interval_seconds
    log.info("worker started; a pass every %.1f s", interval)
    with requests.Session() as session:
        while not stop.is_set():
            try:
                report = run_pass(services, session)
                if any(vars(report).values()):
                    log.info("worker pass: %s", report)
            except DatabaseUnavailable as exc:  # an outage, not a bug: no traceback
                log.warning("worker pass skipped: database unavailable: %s", exc.reason)
            except Exception:
                # A pass that fails (database restarting, Razorpay down) is retried next time.
                log.exception("worker pass failed")
            stop.wait(interval)
    log.info("worker stopped")
