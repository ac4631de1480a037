"""What a payment settles, in one statement: the payment as now known, the orders it moves
on, the grants it makes, and who is to be told (the sites that take callbacks, with their
user id for the customer), instead of a round trip for each.

The orders are locked by the caller's transaction, so updating them waits for nobody; a
grant may wait for a concurrent one of the same customer and SKU (the unique index on
active enrollments), exactly as on its own, and the caller's next statement sees the one
that won. The recipients are read from the statement's snapshot: what they depend on (the
sites, and the customer's orders' site user ids) is not what this statement changes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from . import Cursor
from .enrollments import COLUMNS as ENROLLMENT_COLUMNS
from .enrollments import Enrollment, NewEnrollment
from .notifications import RECIPIENTS, Recipient
from .orders import COLUMNS as ORDER_COLUMNS
from .orders import Order, StatusChange
from .payments import COLUMNS as PAYMENT_COLUMNS
from .payments import UPSERT, Payment, PaymentRecord, upsert_params

_WIDTHS = {
    "stored": len(PAYMENT_COLUMNS.split(",")),
    "moved": len(ORDER_COLUMNS.split(",")),
    "granted": len(ENROLLMENT_COLUMNS.split(",")),
    "told": 2,
}


def _qualified(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{column.strip()}" for column in columns.split(","))


# Each order to its new status and paid amount, stamping paid_at the first time it is paid.
_MOVE = f"""
    moved AS (
        UPDATE orders o
           SET status = v.status, amount_paid = v.amount_paid, updated_at = now(),
               paid_at = CASE WHEN v.amount_paid > 0 THEN coalesce(o.paid_at, now()) END
          FROM unnest(%(order_ids)s::text[], %(statuses)s::text[], %(amounts_paid)s::bigint[])
               AS v (id, status, amount_paid)
         -- = ANY: the orders are found by their key (the planner cannot tell how many rows
         -- unnest gives, and would otherwise scan every order of the mode)
         WHERE o.id = ANY(%(order_ids)s::text[]) AND o.id = v.id AND o.mode = %(mode)s
        RETURNING {_qualified("o", ORDER_COLUMNS)})"""  # noqa: S608 - fixed column list

# As enrollments.insert_many_if_absent, in the order given (the first of two grants for
# one customer and SKU wins; transactions take the unique index's locks in one order).
_GRANT = f"""
    granted AS (
        INSERT INTO enrollments (id, customer_email, sku, source, order_id, granted_by,
                                 grant_reason, mode)
        SELECT g.id, g.customer_email, g.sku, g.source, g.order_id, g.granted_by,
               g.grant_reason, %(mode)s
          FROM unnest(%(grant_ids)s::text[], %(emails)s::text[], %(skus)s::text[],
                      %(sources)s::text[], %(grant_orders)s::text[], %(granted_by)s::text[],
                      %(reasons)s::text[])
               WITH ORDINALITY AS g (id, customer_email, sku, source, order_id, granted_by,
                                     grant_reason, n)
         ORDER BY g.n
        ON CONFLICT (mode, customer_email, sku) WHERE status = 'active' DO NOTHING
        RETURNING {ENROLLMENT_COLUMNS})"""  # noqa: S608 - fixed column list

_STORE = f"""
    stored AS ({UPSERT})"""

_TOLD = f"""
    told AS ({RECIPIENTS})"""


@dataclass(frozen=True)
class Settled:
    """The payments, the orders as they now are and the grants stored (each in no
    particular order), and the recipients of ``recipients_of``'s events when asked (else
    None)."""

    payments: list[Payment]
    orders: list[Order]
    enrollments: list[Enrollment]
    recipients: list[Recipient] | None


def settle(
    cur: Cursor,
    payments: list[PaymentRecord],
    changes: list[StatusChange],
    grants: list[NewEnrollment],
    recipients_of: str | None,
) -> Settled:
    """payments.upsert_many(``payments``), move each order to its new status (``changes``),
    enrollments.insert_many_if_absent(``grants``) and, with
    ``recipients_of`` (a customer's email), notifications.recipients(None, it), in one
    statement (none when there is nothing to do). Order ids must differ."""
    wanted = (bool(payments), bool(changes), bool(grants), recipients_of is not None)
    if not any(wanted):
        return Settled([], [], [], None)
    query, names = _query(*wanted)
    cur.execute(
        query,
        {
            **upsert_params(payments),
            "mode": cur.mode,
            "order_ids": [c.order_id for c in changes],
            "statuses": [c.status for c in changes],
            "amounts_paid": [c.amount_paid for c in changes],
            "grant_ids": [g.id for g in grants],
            "emails": [g.customer_email for g in grants],
            "skus": [g.sku for g in grants],
            "sources": [g.source for g in grants],
            "grant_orders": [g.order_id for g in grants],
            "granted_by": [g.granted_by for g in grants],
            "reasons": [g.grant_reason for g in grants],
            "site_id": None,
            "email": recipients_of,
        },
    )
    return _split(cur.fetch_tuples(), names)


@functools.cache
def _query(
    payments: bool, changes: bool, grants: bool, recipients: bool
) -> tuple[str, tuple[str, ...]]:
    """The statement for the parts wanted, and the parts' names in the order of its
    columns; built once per combination (there are sixteen)."""
    parts = [
        (name, sql, alias, columns)
        for name, sql, alias, columns, wanted in (
            ("stored", _STORE, "p", PAYMENT_COLUMNS, payments),
            ("moved", _MOVE, "m", ORDER_COLUMNS, changes),
            ("granted", _GRANT, "g", ENROLLMENT_COLUMNS, grants),
            ("told", _TOLD, "t", "site_id, site_user_id", recipients),
        )
        if wanted
    ]
    # Each part's rows come out on rows of their own (FULL JOIN ON false): the other parts'
    # columns are NULL there.
    joined = " FULL JOIN ".join(
        f"{name} {alias}" + (" ON false" if i else "")
        for i, (name, _, alias, _) in enumerate(parts)
    )
    columns = ", ".join(_qualified(alias, cols) for _, _, alias, cols in parts)
    # The recipients in site order, as recipients() lists them (the other rows after them).
    order = " ORDER BY t.site_id" if recipients else ""
    ctes = ",".join(sql for _, sql, _, _ in parts)
    query = f"WITH {ctes} SELECT {columns} FROM {joined}{order}"  # noqa: S608 - fixed SQL only
    return query, tuple(name for name, _, _, _ in parts)


def _split(rows: list[tuple[Any, ...]], names: tuple[str, ...]) -> Settled:
    """Each row's part: the one whose first column (an id, never NULL) is set."""
    found: dict[str, list[tuple[Any, ...]]] = {name: [] for name in names}
    for row in rows:
        start = 0
        for name in names:
            part = row[start : start + _WIDTHS[name]]
            start += _WIDTHS[name]
            if part[0] is not None:
                found[name].append(part)
    return Settled(
        [Payment(*part) for part in found.get("stored", [])],
        [Order(*part) for part in found.get("moved", [])],
        [Enrollment(*part) for part in found.get("granted", [])],
        [Recipient(*part) for part in found["told"]] if "told" in found else None,
    )
