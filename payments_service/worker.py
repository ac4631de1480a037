"""The worker: the background passes that keep the money trail whole.

Each pass retries webhooks that were stored but not applied, and asks Razorpay about
orders still unpaid after a while (a closed tab whose webhooks were lost). Several workers
may run at once: every pass is idempotent and serialises on order row locks.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from .razorpay_events import retry_stale_events
from .reconcile import heal_open_orders
from .services import Services

log = logging.getLogger(__name__)
STALE_EVENT_AGE = timedelta(seconds=30)


@dataclass(frozen=True)
class PassReport:
    """What one worker pass did."""

    events_retried: int
    orders_checked: int
    orders_updated: int


def run_pass(services: Services) -> PassReport:
    """One pass of every background duty."""
    retried = retry_stale_events(services.event_context, STALE_EVENT_AGE)
    age = timedelta(seconds=services.settings.reconcile_open_orders_after_seconds)
    healed = heal_open_orders(services.db, services.gateway, older_than=age)
    return PassReport(retried, healed.seen, healed.updated)


def run_forever(services: Services, stop: threading.Event) -> None:
    """Run passes every WORKER_INTERVAL_SECONDS until ``stop`` is set (SIGTERM, Ctrl-C)."""
    interval = services.settings.worker_interval_seconds
    log.info("worker started; a pass every %.1f s", interval)
    while not stop.is_set():
        try:
            report = run_pass(services)
            if report.events_retried or report.orders_updated:
                log.info("worker pass: %s", report)
        except Exception:
            # A pass that fails (database restarting, Razorpay down) is retried next time.
            log.exception("worker pass failed")
        stop.wait(interval)
    log.info("worker stopped")
