"""SQL for the customer money trail: one time-ordered query over every table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import Cursor

# Sums of bigint are numeric in PostgreSQL: they are cast back so money stays int.
# Each branch reads one kind of fact for the customer's orders (found by the index on
# orders.customer_email) and shapes it into (at, seq, kind, ids, amount, details); seq
# orders facts stamped in one transaction (same now()) as they happen: authorized before
# captured before granted. A duplicate payment (captured on an order another payment had
# paid, or paying for a product the customer already owned) is a payment.captured entry
# whose details name the payment or enrollment it duplicates; its refund is in `refunded`
# like any other, so the totals hold both captures and the refund.
_TRAIL = """
WITH o AS (
    SELECT id, site_id, product_sku, amount, currency, created_at
      FROM orders WHERE customer_email = %(email)s AND mode = %(mode)s
)
SELECT o.created_at AS at, 1 AS seq, 'order.created' AS kind, o.site_id, o.id AS order_id,
       NULL AS payment_id, NULL AS refund_id, NULL AS enrollment_id, o.product_sku AS sku,
       o.amount, o.currency, NULL::jsonb AS details
  FROM o
UNION ALL
SELECT p.failed_at, 2, 'payment.failed', o.site_id, o.id, p.id, NULL, NULL, o.product_sku,
       p.amount, p.currency,
       jsonb_build_object('error_code', p.error_code, 'error_description',
                          p.error_description, 'error_reason', p.error_reason,
                          'method', p.method)
  FROM o JOIN payments p ON p.order_id = o.id WHERE p.failed_at IS NOT NULL
UNION ALL
SELECT p.authorized_at, 3, 'payment.authorized', o.site_id, o.id, p.id, NULL, NULL,
       o.product_sku, p.amount, p.currency, jsonb_build_object('method', p.method)
  FROM o JOIN payments p ON p.order_id = o.id WHERE p.authorized_at IS NOT NULL
UNION ALL
SELECT p.captured_at, 4, 'payment.captured', o.site_id, o.id, p.id, NULL, NULL, o.product_sku,
       p.amount, p.currency,
       jsonb_strip_nulls(jsonb_build_object(
           'method', p.method, 'card_network', p.card_network, 'card_last4', p.card_last4,
           'vpa', p.vpa, 'bank', p.bank, 'wallet', p.wallet, 'fee', p.fee, 'tax', p.tax,
           'duplicate_of', p.duplicate_of, 'duplicate_of_enrollment', p.duplicate_of_enrollment,
           'needs_attention', p.needs_attention))
  FROM o JOIN payments p ON p.order_id = o.id WHERE p.captured_at IS NOT NULL
UNION ALL
SELECT r.created_at, 6, 'refund.requested', o.site_id, o.id, r.payment_id, r.id, NULL,
       o.product_sku, r.amount, r.currency,
       jsonb_build_object('requested_by', r.requested_by, 'reason', r.reason,
                          'speed', r.speed_requested, 'status', r.status)
  FROM o JOIN refunds r ON r.order_id = o.id
UNION ALL
SELECT r.processed_at, 7, 'refund.processed', o.site_id, o.id, r.payment_id, r.id, NULL,
       o.product_sku, r.amount, r.currency,
       jsonb_build_object('razorpay_refund_id', r.razorpay_refund_id,
                          'speed', r.speed_processed)
  FROM o JOIN refunds r ON r.order_id = o.id WHERE r.processed_at IS NOT NULL
UNION ALL
SELECT r.failed_at, 7, 'refund.failed', o.site_id, o.id, r.payment_id, r.id, NULL,
       o.product_sku, r.amount, r.currency,
       jsonb_strip_nulls(jsonb_build_object('razorpay_refund_id', r.razorpay_refund_id,
                                            'needs_attention', r.needs_attention))
  FROM o JOIN refunds r ON r.order_id = o.id WHERE r.failed_at IS NOT NULL
UNION ALL
SELECT e.granted_at, 5, 'enrollment.granted', NULL, e.order_id, NULL, NULL, e.id, e.sku,
       NULL, NULL,
       jsonb_strip_nulls(jsonb_build_object('source', e.source, 'by', e.granted_by,
                                            'reason', e.grant_reason))
  FROM enrollments e WHERE e.customer_email = %(email)s AND e.mode = %(mode)s
UNION ALL
SELECT e.revoked_at, 8, 'enrollment.revoked', NULL, e.order_id, NULL, NULL, e.id, e.sku,
       NULL, NULL,
       jsonb_strip_nulls(jsonb_build_object('by', e.revoked_by, 'reason', e.revoke_reason))
  FROM enrollments e
 WHERE e.customer_email = %(email)s AND e.mode = %(mode)s AND e.revoked_at IS NOT NULL
ORDER BY at, seq, order_id
LIMIT %(limit)s
"""

_TOTALS = """
SELECT p.currency,
       coalesce(sum(p.amount) FILTER (WHERE p.status IN ('captured', 'refunded')),
                0)::bigint AS paid,
       coalesce((SELECT sum(r.amount) FROM refunds r JOIN orders o2 ON o2.id = r.order_id
                  WHERE o2.customer_email = %(email)s AND o2.mode = %(mode)s
                    AND r.currency = p.currency
                    AND r.status = 'processed'), 0)::bigint AS refunded,
       coalesce((SELECT sum(r.amount) FROM refunds r JOIN orders o2 ON o2.id = r.order_id
                  WHERE o2.customer_email = %(email)s AND o2.mode = %(mode)s
                    AND r.currency = p.currency
                    AND r.status IN ('requested', 'pending')), 0)::bigint AS refund_pending
  FROM orders o JOIN payments p ON p.order_id = o.id
 WHERE o.customer_email = %(email)s AND o.mode = %(mode)s
 GROUP BY p.currency
 ORDER BY p.currency
"""


# May a site read this customer's trail: did they pay one of its orders?
_SOLD_TO = """
SELECT EXISTS (SELECT 1 FROM orders
                WHERE customer_email = %(email)s AND mode = %(mode)s AND site_id = %(site)s
                  AND amount_paid > 0)
"""


@dataclass(frozen=True)
class TrailEntry:
    """One dated fact about a customer's money or access."""

    at: datetime
    seq: int
    kind: str
    site_id: str | None
    order_id: str | None
    payment_id: str | None
    refund_id: str | None
    enrollment_id: str | None
    sku: str | None
    amount: int | None
    currency: str | None
    details: dict[str, Any] | None


@dataclass(frozen=True)
class CurrencyTotals:
    """Paid, refunded and still-pending refunds in one currency, in minor units."""

    currency: str
    paid: int
    refunded: int
    refund_pending: int


def entries(cur: Cursor, customer_email: str, limit: int) -> list[TrailEntry]:
    """The customer's trail in the cursor's mode, oldest first, at most ``limit`` entries."""
    cur.execute(_TRAIL, {"email": customer_email, "mode": cur.mode, "limit": limit})
    return [TrailEntry(**row) for row in cur.fetchall()]


def totals(cur: Cursor, customer_email: str) -> list[CurrencyTotals]:
    """Per-currency totals over the customer's payments and refunds."""
    cur.execute(_TOTALS, {"email": customer_email, "mode": cur.mode})
    return [CurrencyTotals(**row) for row in cur.fetchall()]


def site_sold_to(cur: Cursor, site_id: str, customer_email: str) -> bool:
    """Tell whether the customer paid at least one of this site's orders (in the cursor's
    mode)."""
    cur.execute(_SOLD_TO, {"email": customer_email, "mode": cur.mode, "site": site_id})
    return bool(cur.fetchone()["exists"])
