"""Seeding straight into PostgreSQL: a year of purchase history, and orders to reconcile.

Rows respect every constraint of sql/*.sql, so the service reads them as its own. Seeded
ids are fixed-width and recognisable (``ord_T0000000000042``); seeded orders belong to sites
of their own, so they never mix with orders the benchmark makes through the API.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import closing

import psycopg2

from payments_service.db import Database
from payments_service.sites import create_site

# The benchmark runs against the sandbox: every seeded row is a test-mode row.
MODE = "test"

# Order n (0-based) belongs to customer n mod customers, whose k-th order it is (k = n div
# customers); its SKU course-((c + 7k) mod 997) differs between one customer's orders, so
# every purchase grants an enrollment of its own. By n mod 100: 0-4 unpaid, 5-9 a failed
# payment, 10-13 refunded in full (access revoked), 14-15 refunded in half, the rest paid.
_HISTORY_ORDERS = """
INSERT INTO orders (id, razorpay_order_id, site_id, status, amount, currency, amount_paid,
                    amount_refunded, product_sku, product_name, customer_email, notes,
                    created_at, updated_at, paid_at, mode)
SELECT 'ord_T' || lpad(n::text, 13, '0'), 'order_T' || lpad(n::text, 13, '0'), %(site)s,
       CASE WHEN kind < 5 THEN 'created' WHEN kind < 10 THEN 'attempted'
            WHEN kind < 14 THEN 'refunded' WHEN kind < 16 THEN 'partially_refunded'
            ELSE 'paid' END,
       amount, 'INR',
       CASE WHEN kind < 10 THEN 0 ELSE amount END,
       CASE WHEN kind < 10 THEN 0 WHEN kind < 14 THEN amount
            WHEN kind < 16 THEN amount / 2 ELSE 0 END,
       'course-' || sku, 'Course ' || sku, 'customer' || customer || '@example.com',
       '{}'::jsonb, at, at + interval '1 day',
       CASE WHEN kind >= 10 THEN at + interval '2 minutes' END, %(mode)s
  FROM (SELECT n, mod(n, 100) AS kind, mod(n, %(customers)s) AS customer,
               mod(mod(n, %(customers)s) + 7 * (n / %(customers)s), 997) AS sku,
               49900 + mod(n, 7) * 10000 AS amount,
               now() - interval '366 days' + n * (interval '365 days' / %(orders)s) AS at
          FROM generate_series(0, %(orders)s - 1) AS n) AS history
"""

# One payment per order that was attempted: failed, captured, or (all refunded) refunded.
# Fee and tax as the sandbox charges them: 2% plus 18% GST on the fee, rounded half up.
_HISTORY_PAYMENTS = """
INSERT INTO payments (id, order_id, status, amount, currency, amount_refunded, method,
                      card_network, card_last4, vpa, fee, tax, error_code, error_description,
                      error_reason, razorpay_created_at, authorized_at, captured_at, failed_at,
                      created_at, updated_at, mode)
SELECT 'pay_' || substr(o.id, 5), o.id,
       CASE o.status WHEN 'attempted' THEN 'failed' WHEN 'refunded' THEN 'refunded'
                     ELSE 'captured' END,
       o.amount, o.currency, o.amount_refunded,
       CASE WHEN is_card THEN 'card' ELSE 'upi' END,
       CASE WHEN is_card THEN 'Visa' END, CASE WHEN is_card THEN '1007' END,
       CASE WHEN NOT is_card THEN 'success@razorpay' END,
       CASE WHEN paid THEN fee + (fee * 18 + 50) / 100 END,
       CASE WHEN paid THEN (fee * 18 + 50) / 100 END,
       CASE WHEN NOT paid THEN 'BAD_REQUEST_ERROR' END,
       CASE WHEN NOT paid THEN 'Payment failed' END,
       CASE WHEN NOT paid THEN 'payment_failed' END,
       o.created_at + interval '1 minute',
       CASE WHEN paid THEN o.created_at + interval '1 minute' END,
       o.paid_at,
       CASE WHEN NOT paid THEN o.created_at + interval '1 minute' END,
       o.created_at + interval '1 minute', o.updated_at, o.mode
  FROM (SELECT *, status <> 'attempted' AS paid, (amount * 2 + 50) / 100 AS fee,
               right(id, 1) < '5' AS is_card
          FROM orders WHERE site_id = %(site)s AND status <> 'created') AS o
"""

_HISTORY_REFUNDS = """
INSERT INTO refunds (id, razorpay_refund_id, payment_id, order_id, status, amount, currency,
                     speed_requested, speed_processed, reason, revokes_access, revoked_access,
                     requested_by, created_at, updated_at, processed_at, mode)
SELECT 'rfd_' || substr(id, 5), 'rfnd_' || substr(id, 5), 'pay_' || substr(id, 5), id,
       'processed', amount_refunded, currency, 'normal', 'normal', 'changed their mind',
       status = 'refunded', status = 'refunded', 'admin:bench',
       paid_at + interval '1 day', updated_at, paid_at + interval '1 day 5 minutes', mode
  FROM orders WHERE site_id = %(site)s AND amount_refunded > 0
"""

_HISTORY_ENROLLMENTS = """
INSERT INTO enrollments (id, customer_email, sku, status, source, order_id, granted_by,
                         granted_at, revoked_by, revoke_reason, revoked_at, mode)
SELECT 'enr_' || substr(id, 5), customer_email, product_sku,
       CASE WHEN revoked THEN 'revoked' ELSE 'active' END, 'purchase', id, 'webhook', paid_at,
       CASE WHEN revoked THEN 'admin:bench' END, CASE WHEN revoked THEN 'refunded' END,
       CASE WHEN revoked THEN paid_at + interval '1 day 5 minutes' END, mode
  FROM (SELECT *, status = 'refunded' AS revoked FROM orders
         WHERE site_id = %(site)s AND amount_paid > 0) AS paid
"""

_RECONCILE_ORDERS = """
INSERT INTO orders (id, razorpay_order_id, site_id, amount, currency, product_sku,
                    product_name, customer_email, receipt, mode)
SELECT 'ord_R' || lpad(n::text, 13, '0'), razorpay_order_id, %(site)s, %(amount)s,
       %(currency)s, 'course-reconcile', 'Reconcile course',
       'reconcile' || n || '@example.com', 'bench-rc-' || n, %(mode)s
  FROM bench_reconcile_ids
"""


def create_sites(dsn: str, site_ids: Sequence[str]) -> None:
    """Register the sites seeded orders belong to."""
    db = Database(dsn, 1, 60_000, mode=MODE)
    try:
        for site_id in site_ids:
            create_site(db, site_id=site_id, name=site_id, callback_url=None, allowed_origins=[])
    finally:
        db.close()


def seed_history(dsn: str, site_id: str, orders: int, customers: int) -> dict[str, int]:
    """Insert ``orders`` orders of ``customers`` customers over the past year, with their
    payments, refunds and enrollments; returns the rows inserted per table."""
    if customers < 1 or orders < customers:
        raise ValueError("need at least one order per customer")
    params = {"site": site_id, "orders": orders, "customers": customers, "mode": MODE}
    counts: dict[str, int] = {}
    with closing(psycopg2.connect(dsn)) as conn, conn, conn.cursor() as cur:
        # Seeding only: nothing here needs to survive a crash.
        cur.execute("SET synchronous_commit = off")
        for table, statement in (
            ("orders", _HISTORY_ORDERS),
            ("payments", _HISTORY_PAYMENTS),
            ("refunds", _HISTORY_REFUNDS),
            ("enrollments", _HISTORY_ENROLLMENTS),
        ):
            cur.execute(statement, params)
            counts[table] = cur.rowcount
    analyze(dsn)
    return counts


def insert_reconcile_orders(
    dsn: str, site_id: str, razorpay_order_ids: Sequence[str], amount: int, currency: str
) -> None:
    """Store orders matching sandbox orders (same id, amount, currency), still unpaid here."""
    rows = "".join(f"{n}\t{order_id}\n" for n, order_id in enumerate(razorpay_order_ids))
    with closing(psycopg2.connect(dsn)) as conn, conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute(
            "CREATE TEMP TABLE bench_reconcile_ids (n integer, razorpay_order_id text)"
            " ON COMMIT DROP"
        )
        cur.copy_expert("COPY bench_reconcile_ids FROM STDIN", io.StringIO(rows))
        cur.execute(
            _RECONCILE_ORDERS,
            {"site": site_id, "amount": amount, "currency": currency, "mode": MODE},
        )
    analyze(dsn)


def analyze(dsn: str) -> None:
    """Refresh planner statistics after a bulk load (autovacuum would, some time later)."""
    with closing(psycopg2.connect(dsn)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("ANALYZE")
