"""SQL for plans: an admin's price for a SKU, billed every period x interval. Rows carry
the cursor's Razorpay mode; every read is of that mode only. Plans are never updated (the
table refuses it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import Cursor

_COLUMNS = """id, mode, sku, name, description, period, interval, amount, currency,
              created_by, created_at"""


@dataclass(frozen=True)
class Plan:
    """A Razorpay plan (``id`` is Razorpay's) selling one SKU."""

    id: str
    mode: str
    sku: str
    name: str
    description: str | None
    period: str
    interval: int
    amount: int
    currency: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class NewPlan:
    """A plan Razorpay has made, to store."""

    id: str
    sku: str
    name: str
    description: str | None
    period: str
    interval: int
    amount: int
    currency: str
    created_by: str


def insert(cur: Cursor, plan: NewPlan) -> Plan:
    """Store a plan Razorpay made."""
    cur.execute(
        f"""
        INSERT INTO plans (id, mode, sku, name, description, period, interval, amount,
                           currency, created_by)
        VALUES (%(id)s, %(mode)s, %(sku)s, %(name)s, %(description)s, %(period)s,
                %(interval)s, %(amount)s, %(currency)s, %(created_by)s)
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        {**plan.__dict__, "mode": cur.mode},
    )
    return Plan(**cur.fetchone())


def get(cur: Cursor, plan_id: str) -> Plan | None:
    """The plan with this Razorpay id (in the cursor's mode)."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM plans WHERE id = %s AND mode = %s",  # noqa: S608
        (plan_id, cur.mode),
    )
    row = cur.fetchone()
    return Plan(**row) if row else None


def list_page(
    cur: Cursor, *, sku: str | None, after: tuple[datetime, str] | None, limit: int
) -> list[Plan]:
    """Plans newest first, optionally of one SKU, starting after the cursor."""
    cur.execute(
        f"""
        SELECT {_COLUMNS} FROM plans
         WHERE mode = %(mode)s
           AND (%(sku)s::text IS NULL OR sku = %(sku)s)
           AND (%(after_at)s::timestamptz IS NULL
                OR (created_at, id) < (%(after_at)s::timestamptz, %(after_id)s::text))
         ORDER BY created_at DESC, id DESC
         LIMIT %(limit)s
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "mode": cur.mode,
            "sku": sku,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    )
    return [Plan(**row) for row in cur.fetchall()]
