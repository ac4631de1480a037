"""CPU of settling one paid order (db/settlements.py), ours and PostgreSQL's, per call.

On a fresh embedded PostgreSQL with one site that takes callbacks: N orders, then, for each,
the statement a verify or webhook sends once the order is locked: store its captured
payment, move the order to paid, grant its SKU and read who is to be told. Each call is its
own transaction, committed. Prints µs per call: CPU of this thread (time.thread_time),
CPU of the server process serving the connection (/proc, so Linux and a local server only)
and wall time, for the first calls (plans not yet reused) and the rest.

    .venv/bin/python -m bench.settle_call [N]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from payments_service.db import Cursor, Database, settlements
from payments_service.db.enrollments import NewEnrollment
from payments_service.db.orders import NewOrder, StatusChange, insert
from payments_service.db.payments import PaymentRecord
from payments_service.devstack.embedded_db import embedded_postgres
from payments_service.migrations import apply_migrations
from payments_service.sites import create_site

FIRST = 20  # calls counted apart: a session's first calls plan their statements


def main(count: int = 3000) -> None:
    with tempfile.TemporaryDirectory() as data, embedded_postgres(Path(data)) as dsn:
        apply_migrations(dsn, mode="test")
        db = Database(dsn, max_connections=1, statement_timeout_ms=5000, mode="test")
        create_site(  # with a callback URL: a recipient to read
            db,
            site_id="bench",
            name="Bench",
            callback_url="http://127.0.0.1:9/",
            allowed_origins=[],
        )
        with db.transaction() as cur:
            for n in range(count):
                insert(cur, _order(n), f"order_rzp{n}")
            cur.execute("ANALYZE orders")  # statistics, as a live database has them
            cur.execute("SELECT pg_backend_pid()")
            server = int(cur.fetchone()["pg_backend_pid"])
        print(f"settling {count} orders, one transaction each; µs per call")
        print(f"{'calls':>12} {'ours CPU':>9} {'PostgreSQL CPU':>15} {'wall':>7}")
        for name, calls in (("first", range(FIRST)), ("the rest", range(FIRST, count))):
            ours, theirs, wall = _cpu(), _server_cpu(server), time.perf_counter()
            for n in calls:
                with db.transaction() as cur:
                    _settle(cur, n)
            spent = [_cpu() - ours, _server_cpu(server) - theirs, time.perf_counter() - wall]
            cells = " ".join(
                f"{seconds / len(calls) * 1e6:{width}.0f}"
                for seconds, width in zip(spent, (9, 15, 7), strict=True)
            )
            print(f"{name:>12} {cells}")
        db.close()


def _order(n: int) -> NewOrder:
    return NewOrder(
        id=f"ord_{n}", site_id="bench", amount=49900, currency="INR", product_sku=f"sku-{n}",
        product_name="Course", customer_email=f"buyer{n}@example.com", customer_name=None,
        customer_contact=None, site_user_id=f"user-{n}", receipt=None, notes={},
        idempotency_key=None, request_fingerprint=None, allow_owned=None,
    )  # fmt: skip


def _settle(cur: Cursor, n: int) -> None:
    payment = PaymentRecord(
        id=f"pay_{n}", order_id=f"ord_{n}", status="captured", amount=49900, currency="INR",
        amount_refunded=0, method="upi", card_network=None, card_last4=None, bank=None,
        wallet=None, vpa="buyer@upi", fee=None, tax=None, error_code=None,
        error_description=None, error_reason=None, razorpay_created_at=datetime.now(UTC),
    )  # fmt: skip
    grant = NewEnrollment(
        id=f"enr_{n}", customer_email=f"buyer{n}@example.com", sku=f"sku-{n}",
        source="purchase", order_id=f"ord_{n}", granted_by="bench", grant_reason=None,
    )  # fmt: skip
    done = settlements.settle(
        cur, [payment], [StatusChange(f"ord_{n}", "paid", 49900)], [grant], f"buyer{n}@example.com"
    )
    if len(done.payments) != 1 or len(done.enrollments) != 1 or not done.recipients:
        raise SystemExit(f"call {n} settled {done}")


def _cpu() -> float:
    return time.thread_time()


def _server_cpu(pid: int) -> float:
    """User + system CPU seconds of a local process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:2]))
