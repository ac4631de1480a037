from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from payments_service.migrations import apply_migrations, load_migrations
from tests.test_cli import UNREACHABLE_DATABASE, assert_one_line_error, flask_cli


@pytest.fixture
def empty_dsn(postgresql_proc: Any) -> Any:
    """A database with nothing in it (not cloned from the migrated template)."""
    name = "empty_migrations_test"
    admin = psycopg.connect(
        host=postgresql_proc.host,
        port=postgresql_proc.port,
        user=postgresql_proc.user,
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    yield (
        f"host={postgresql_proc.host} port={postgresql_proc.port} "
        f"user={postgresql_proc.user} dbname={name}"
    )
    admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


def test_all_migrations_apply_to_an_empty_database_and_rerun_is_a_no_op(empty_dsn: str) -> None:
    versions = [m.version for m in load_migrations()]
    assert versions and versions == sorted(versions)
    assert apply_migrations(empty_dsn, mode="test") == versions
    assert apply_migrations(empty_dsn, mode="test") == []
    with psycopg.connect(empty_dsn) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == versions


def test_db_upgrade_migrates_over_migration_database_url_when_it_is_set(
    empty_dsn: str, tmp_path: Path
) -> None:
    """Neon: the api runs on the pooled DATABASE_URL, migrations on the direct URL."""
    without = flask_cli(tmp_path, "db", "upgrade", DATABASE_URL=UNREACHABLE_DATABASE)
    assert_one_line_error(without.returncode, without.stderr, "database")

    result = flask_cli(
        tmp_path,
        "db",
        "upgrade",
        DATABASE_URL=UNREACHABLE_DATABASE,
        MIGRATION_DATABASE_URL=empty_dsn,
    )

    assert result.returncode == 0, result.stderr
    versions = [m.version for m in load_migrations()]
    assert json.loads(result.stdout) == {"applied": versions}
    with psycopg.connect(empty_dsn) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == versions


def test_two_processes_migrating_at_once_apply_each_file_once(empty_dsn: str) -> None:
    results: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda: results.append(apply_migrations(empty_dsn, mode="test")))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    applied = sorted(v for result in results for v in result)
    assert applied == [m.version for m in load_migrations()]


def test_schema_refuses_float_like_and_non_positive_money(dsn: str, db_rows: Any) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO sites (id, name, callback_secret, jwt_secret) "
            "VALUES ('s1', 'S', repeat('x', 32), repeat('y', 32))"
        )
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO orders (id, razorpay_order_id, site_id, amount, currency, "
                "product_sku, product_name, customer_email, mode) "
                "VALUES ('o1', 'order_1', 's1', 99, 'INR', 'sku', 'n', 'a@b.c', 'test')"
            )
    column_types = db_rows(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND (column_name LIKE 'amount%%' OR column_name IN "
        "('fee', 'tax')) AND data_type <> 'bigint'"
    )
    assert column_types == []


_BEFORE_MODES = """
INSERT INTO sites (id, name, callback_secret, jwt_secret)
     VALUES ('s1', 'S', repeat('x', 32), repeat('y', 32));
INSERT INTO orders (id, razorpay_order_id, site_id, status, amount, currency, amount_paid,
                    product_sku, product_name, customer_email, idempotency_key,
                    request_fingerprint)
     VALUES ('ord_1', 'order_1', 's1', 'paid', 49900, 'INR', 49900, 'python-101', 'Python',
             'a@b.c', 'key-1', 'f');
INSERT INTO payments (id, order_id, status, amount, currency, razorpay_created_at)
     VALUES ('pay_1', 'ord_1', 'captured', 49900, 'INR', now());
INSERT INTO refunds (id, razorpay_refund_id, payment_id, order_id, status, amount, currency,
                     requested_by)
     VALUES ('rfd_1', 'rfnd_1', 'pay_1', 'ord_1', 'processed', 100, 'INR', 'admin:a');
INSERT INTO enrollments (id, customer_email, sku, source, order_id, granted_by)
     VALUES ('enr_1', 'a@b.c', 'python-101', 'purchase', 'ord_1', 'webhook');
INSERT INTO razorpay_events (id, event_type, payload, status, order_id)
     VALUES ('evt_1', 'order.paid', '{}', 'applied', 'ord_1');
INSERT INTO notifications (id, site_id, event_type, subject, body)
     VALUES ('evt_n1', 's1', 'order.paid', 'ord_1', '{}');
INSERT INTO order_reservations (site_id, idempotency_key, order_id, request_fingerprint,
                                holder, leased_until)
     VALUES ('s1', 'key-2', 'ord_2', 'f', 'h', now());
"""
_MODED_TABLES = (
    "orders",
    "payments",
    "refunds",
    "enrollments",
    "razorpay_events",
    "notifications",
    "order_reservations",
)


def test_the_modes_migration_gives_existing_rows_the_mode_of_the_keys_and_keeps_no_default(
    empty_dsn: str, tmp_path: Path
) -> None:
    for migration in load_migrations():
        if migration.version < "0011":
            (tmp_path / f"{migration.version}.sql").write_text(migration.sql)
    apply_migrations(empty_dsn, tmp_path, mode="test")
    with psycopg.connect(empty_dsn) as conn:
        conn.execute(_BEFORE_MODES)

    assert apply_migrations(empty_dsn, mode="live")[0] == "0011_modes"

    with psycopg.connect(empty_dsn) as conn:
        for table in _MODED_TABLES:
            modes = conn.execute(f"SELECT DISTINCT mode FROM {table}").fetchall()  # noqa: S608
            assert modes == [("live",)], table
        # What a customer owns is per mode: a test grant beside the live one is allowed.
        conn.execute(
            "INSERT INTO enrollments (id, customer_email, sku, source, granted_by, mode) "
            "VALUES ('enr_2', 'a@b.c', 'python-101', 'manual', 'admin:a', 'test')"
        )
        with pytest.raises(psycopg.errors.NotNullViolation):
            conn.execute(
                "INSERT INTO enrollments (id, customer_email, sku, source, granted_by) "
                "VALUES ('enr_3', 'z@b.c', 'python-101', 'manual', 'admin:a')"
            )
