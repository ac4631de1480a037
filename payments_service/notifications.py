"""Telling sites what happened: an outbox of signed callbacks, delivered at least once.

State changes call the ``queue_*`` functions with their own cursor, so a notification is
written in the same transaction as the change it reports. The worker delivers them:
POST the exact stored body with X-Payments-Event-Id and X-Payments-Signature, 2xx means
delivered, anything else is retried with exponential backoff and jitter for at least
24 hours, then the notification is dead until an admin redelivers it.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from .auth import Caller, require_admin
from .db import Cursor, Database
from .db import notifications as sql
from .db.enrollments import Enrollment
from .db.notifications import Delivery, Notification
from .db.orders import Order
from .db.payments import Payment
from .db.refunds import Refund
from .errors import NotFound
from .ids import new_id
from .pagination import Page, decode_cursor, page_of
from .signatures import callback_signature_header

log = logging.getLogger(__name__)

RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
LEASE = timedelta(seconds=60)
DELIVERY_TIMEOUT = (3.05, 10.0)
ENROLLMENT_EVENTS = ("enrollment.granted", "enrollment.revoked")
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery pass did."""

    delivered: int
    failed: int
    dead: int


def queue_for_order_site(
    cur: Cursor,
    site_id: str,
    customer_email: str,
    event_type: str,
    subject: str,
    data: dict[str, Any],
) -> None:
    """Queue an order/payment/refund event for the site that created the order."""
    _queue(cur, sql.recipients(cur, site_id, customer_email), event_type, subject, data)


def queue_for_every_site(
    cur: Cursor, customer_email: str, event_type: str, subject: str, data: dict[str, Any]
) -> None:
    """Queue an enrollment event for every active site; each hears its own user id."""
    _queue(cur, sql.recipients(cur, None, customer_email), event_type, subject, data)


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


def payment_event(cur: Cursor, event_type: str, order: Order, payment: Payment) -> None:
    """Queue order.paid or payment.failed for the order's site."""
    queue_for_order_site(
        cur,
        order.site_id,
        order.customer_email,
        event_type,
        order.id,
        {"order": _order(order), "payment": _payment(payment)},
    )


def order_paid(cur: Cursor, order: Order, payment: Payment, enrollment: Enrollment | None) -> None:
    """Queue order.paid for the order's site and, with the purchase's grant,
    enrollment.granted for every site: one look-up of the recipients, one insert."""
    everyone = sql.recipients(cur, None, order.customer_email)
    rows = _rows(
        [recipient for recipient in everyone if recipient.site_id == order.site_id],
        "order.paid",
        order.id,
        {"order": _order(order), "payment": _payment(payment)},
    )
    if enrollment is not None:
        rows += _rows(everyone, *_enrollment_event(enrollment))
    if rows:
        sql.insert_many(cur, rows)


def refund_settled(cur: Cursor, order: Order, refund: Refund) -> None:
    """Queue refund.processed or refund.failed for the order's site."""
    queue_for_order_site(
        cur,
        order.site_id,
        order.customer_email,
        f"refund.{refund.status}",
        order.id,
        {
            "order": _order(order),
            "refund": {
                "id": refund.id,
                "razorpay_refund_id": refund.razorpay_refund_id,
                "payment_id": refund.payment_id,
                "amount": refund.amount,
                "currency": refund.currency,
                "status": refund.status,
            },
        },
    )


def enrollment_changed(cur: Cursor, enrollment: Enrollment) -> None:
    """Queue enrollment.granted or enrollment.revoked for every site."""
    event_type, subject, data = _enrollment_event(enrollment)
    queue_for_every_site(cur, enrollment.customer_email, event_type, subject, data)


def _enrollment_event(enrollment: Enrollment) -> tuple[str, str, dict[str, Any]]:
    """(event type, subject, data) of a grant or revoke."""
    event_type = "enrollment.granted" if enrollment.status == "active" else "enrollment.revoked"
    return (
        event_type,
        f"{enrollment.customer_email}|{enrollment.sku}",
        {
            "enrollment": {
                "id": enrollment.id,
                "customer_email": enrollment.customer_email,
                "sku": enrollment.sku,
                "status": enrollment.status,
                "source": enrollment.source,
                "order_id": enrollment.order_id,
                "granted_at": enrollment.granted_at.isoformat(),
                "revoked_at": enrollment.revoked_at.isoformat() if enrollment.revoked_at else None,
            }
        },
    )


def _order(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "razorpay_order_id": order.razorpay_order_id,
        "status": order.status,
        "amount": order.amount,
        "currency": order.currency,
        "sku": order.product_sku,
        "customer_email": order.customer_email,
        "site_user_id": order.site_user_id,
    }


def _payment(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "status": payment.status,
        "amount": payment.amount,
        "currency": payment.currency,
        "method": payment.method,
        "error_code": payment.error_code,
        "error_reason": payment.error_reason,
    }


def _queue(
    cur: Cursor,
    recipients: list[sql.Recipient],
    event_type: str,
    subject: str,
    data: dict[str, Any],
) -> None:
    rows = _rows(recipients, event_type, subject, data)
    if rows:
        sql.insert_many(cur, rows)


def _rows(
    recipients: list[sql.Recipient], event_type: str, subject: str, data: dict[str, Any]
) -> list[tuple[str, str, str, str, str, datetime]]:
    now = datetime.now(UTC)
    rows = []
    for recipient in recipients:
        notification_id = new_id("evt")
        body = {
            "id": notification_id,
            "type": event_type,
            "created_at": now.isoformat(),
            "site_id": recipient.site_id,
            "data": data,
        }
        if event_type in ENROLLMENT_EVENTS:
            body["data"] = {**data, "site_user_id": recipient.site_user_id}
        raw = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
        rows.append((notification_id, recipient.site_id, event_type, subject, raw, now))
    return rows


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
