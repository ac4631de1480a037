"""The money trail's queries reach a customer's rows through indexes, whatever the table size.

Checked on the plan PostgreSQL chooses for a seeded history (EXPLAIN, no timing): with
tens of thousands of rows a missing index shows up as a sequential scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest

from bench.seed import create_sites, seed_history
from payments_service.db import money_trail

ORDERS, CUSTOMERS = 40_000, 8_000


@pytest.fixture
def seeded(dsn: str) -> str:
    create_sites(dsn, ["history"])
    seed_history(dsn, "history", ORDERS, CUSTOMERS)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("ANALYZE")
    conn.close()
    return dsn


def plan_of(dsn: str, query: str, params: dict[str, Any]) -> dict[str, Any]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + query, params)
        plan: dict[str, Any] = cur.fetchone()[0][0]["Plan"]
    conn.close()
    return plan


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def sequential_scans(plan: dict[str, Any]) -> list[str]:
    return [node["Relation Name"] for node in nodes(plan) if node["Node Type"] == "Seq Scan"]


def indexes_used(plan: dict[str, Any]) -> set[str]:
    return {node["Index Name"] for node in nodes(plan) if "Index Name" in node}


@pytest.mark.parametrize(
    ("query", "params", "indexes"),
    [
        (
            money_trail._TRAIL,
            {"email": "customer4321@example.com", "mode": "test", "limit": 2001},
            {
                "orders_customer_email_idx",
                "payments_order_idx",
                "refunds_order_idx",
                "enrollments_customer_idx",
            },
        ),
        (
            money_trail._TOTALS,
            {"email": "customer4321@example.com", "mode": "test"},
            {"orders_customer_email_idx", "payments_order_idx", "refunds_order_idx"},
        ),
        (
            money_trail._SOLD_TO,
            {"email": "customer4321@example.com", "mode": "test", "site": "history"},
            {"orders_customer_email_idx"},
        ),
    ],
    ids=["entries", "totals", "a site's access"],
)
def test_the_trail_reads_each_table_through_an_index_not_a_scan(
    seeded: str, query: str, params: dict[str, Any], indexes: set[str]
) -> None:
    plan = plan_of(seeded, query, params)

    assert sequential_scans(plan) == []
    assert indexes_used(plan) == indexes


def test_the_trail_of_a_seeded_customer_lists_their_orders(seeded: str) -> None:
    from payments_service.auth import Caller
    from payments_service.db import Database
    from payments_service.money_trail import customer_trail

    db = Database(seeded, 1, 5000, mode="test")
    admin = Caller(is_admin=True, site_id=None, subject="tester")
    try:
        trail = customer_trail(db, admin, "Customer4321@Example.com")
    finally:
        db.close()

    orders = [entry.order_id for entry in trail.entries if entry.kind == "order.created"]
    assert len(orders) == ORDERS // CUSTOMERS
    assert [entry.at for entry in trail.entries] == sorted(entry.at for entry in trail.entries)
