"""What sites are told, queued in the transaction of the change it reports: the outbox
rows notifications.py delivers. Order, payment and refund events go to the order's site;
enrollment events to every active site with a callback URL, each with its own user id."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ..db import Cursor
from ..db import notifications as sql
from ..db.enrollments import Enrollment
from ..db.orders import Order
from ..db.payments import Payment
from ..db.refunds import Refund
from ..ids import new_id

ENROLLMENT_EVENTS = ("enrollment.granted", "enrollment.revoked")


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


def payment_failed(
    cur: Cursor, order: Order, payment: Payment, everyone: list[sql.Recipient] | None = None
) -> None:
    """Queue payment.failed for the order's site. ``everyone``: the recipients of the
    customer's events at every site, when the caller has read them already."""
    if everyone is None:
        recipients = sql.recipients(cur, order.site_id, order.customer_email)
    else:
        recipients = [recipient for recipient in everyone if recipient.site_id == order.site_id]
    _queue(
        cur,
        recipients,
        "payment.failed",
        order.id,
        {"order": _order(order), "payment": _payment(payment)},
    )


def order_paid(
    cur: Cursor,
    order: Order,
    payment: Payment,
    enrollment: Enrollment | None,
    everyone: list[sql.Recipient] | None = None,
) -> None:
    """Queue order.paid for the order's site and, with the purchase's grant,
    enrollment.granted for every site: one look-up of the recipients (none when the
    caller read them already: ``everyone``), one insert."""
    if everyone is None:
        everyone = sql.recipients(cur, None, order.customer_email)
    rows = _rows(
        cur.mode,
        [recipient for recipient in everyone if recipient.site_id == order.site_id],
        "order.paid",
        order.id,
        {"order": _order(order), "payment": _payment(payment)},
    )
    if enrollment is not None:
        rows += _rows(cur.mode, everyone, *_enrollment_event(enrollment))
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
    # Only on a duplicate purchase: the order is paid, but the buyer already owned it.
    marked = (
        {"duplicate_of_enrollment": payment.duplicate_of_enrollment}
        if payment.duplicate_of_enrollment
        else {}
    )
    return {
        **marked,
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
    rows = _rows(cur.mode, recipients, event_type, subject, data)
    if rows:
        sql.insert_many(cur, rows)


def _rows(
    mode: str,
    recipients: list[sql.Recipient],
    event_type: str,
    subject: str,
    data: dict[str, Any],
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
            "mode": mode,
            "data": data,
        }
        if event_type in ENROLLMENT_EVENTS:
            body["data"] = {**data, "site_user_id": recipient.site_user_id}
        raw = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
        rows.append((notification_id, recipient.site_id, event_type, subject, raw, now))
    return rows
