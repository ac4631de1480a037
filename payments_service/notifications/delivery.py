"""Telling sites what happened: an outbox of signed callbacks, delivered at least once.

State changes queue them with their own cursor (outbox.py), so a notification
is written in the same transaction as the change it reports. The worker delivers them:
POST the exact stored body with X-Payments-Event-Id and X-Payments-Signature, 2xx means
delivered, anything else is retried with exponential backoff and jitter for at least
24 hours, then the notification is dead until an admin redelivers it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests

from ..auth import Caller, require_admin
from ..db import Database
from ..db import notifications as sql
from ..db.notifications import Delivery, Notification
from ..errors import NotFound
from ..pagination import Page, decode_cursor, page_of
from ..signatures import callback_signature_header

log = logging.getLogger(__name__)

RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
LEASE = timedelta(seconds=60)
DELIVERY_TIMEOUT = (3.05, 10.0)
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery pass did."""

    delivered: int
    failed: int
    dead: int


def retry_delay(attempts: int, rng: random.Random) -> timedelta:
    """Backoff after ``attempts`` failures: doubling from 30 s, capped at 1 h, with jitter."""
    doublings = min(max(attempts - 1, 0), 10)  # 30 s * 2**7 already passes the cap
    base: timedelta = min(FIRST_RETRY * 2**doublings, LONGEST_RETRY)
    return base * (0.5 + rng.random() / 2)


def deliver_due(
    db: Database,
    session: requests.Session,
    clock: Clock = lambda: datetime.now(UTC),
    rng: random.Random | None = None,
    limit: int = 50,
    timeout: tuple[float, float] = DELIVERY_TIMEOUT,
) -> DeliveryReport:
    """Lease due notifications, POST each outside any transaction, record the outcome."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not crypto
    now = clock()
    with db.transaction() as cur:
        sql.cancel_for_inactive_sites(cur)
        claimed = sql.claim_due(cur, now, now + LEASE, limit)
    delivered = failed = dead = 0
    for delivery in claimed:
        status_code, error = _post(session, delivery, clock(), timeout)
        finished = clock()
        with db.transaction() as cur:
            if error is None and status_code is not None:
                sql.record_delivered(cur, delivery.notification.id, status_code, finished)
                delivered += 1
                continue
            retry_at = _retry_at(delivery.notification, finished, rng)
            sql.record_failure(
                cur,
                delivery.notification.id,
                status_code=status_code,
                error=error or "failed",
                retry_at=retry_at,
            )
            failed += 1
            dead += retry_at is None
    return DeliveryReport(delivered, failed, dead)


def list_notifications(
    db: Database,
    caller: Caller,
    *,
    site_id: str | None,
    status: str | None,
    event_type: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Notification]:
    """Notifications newest first (admin)."""
    require_admin(caller)
    with db.transaction() as cur:
        rows = sql.list_page(
            cur,
            site_id=site_id,
            status=status,
            event_type=event_type,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
    return page_of(rows, limit, lambda row: (row.created_at, row.id))


def redeliver(db: Database, caller: Caller, notification_id: str) -> Notification:
    """Make a notification due now (the same body and id, so its signature still holds)."""
    require_admin(caller)
    with db.transaction() as cur:
        found = sql.requeue(cur, notification_id, datetime.now(UTC))
    if found is None:
        raise NotFound(f"no notification {notification_id!r}")
    log.info("notification %s requeued by %s", notification_id, caller.actor)
    return found


def _post(
    session: requests.Session, delivery: Delivery, now: datetime, timeout: tuple[float, float]
) -> tuple[int | None, str | None]:
    body = delivery.notification.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "payments_service-notifications/1",
        "X-Payments-Event-Id": delivery.notification.id,
        "X-Payments-Signature": callback_signature_header(
            delivery.callback_secrets, int(now.timestamp()), body
        ),
    }
    try:
        answer = session.post(
            delivery.callback_url,
            data=body,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return None, f"unreachable: {type(exc).__name__}"
    if 200 <= answer.status_code < 300:
        return answer.status_code, None
    return answer.status_code, f"answered HTTP {answer.status_code}"


def _retry_at(notification: Notification, now: datetime, rng: random.Random) -> datetime | None:
    if now - notification.window_started_at >= RETRY_WINDOW:
        return None
    return now + retry_delay(notification.attempts, rng)
