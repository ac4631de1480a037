"""The reads of the payment paths (verify, webhooks, the state machine), each one round
trip: an order with the payment being applied, or with its payment link, read together
instead of one after another. Rows are read as tuples and split by the column lists of
their dataclasses (faster to build than dicts, and the two tables share column names)."""

from __future__ import annotations

from typing import Any

from . import Cursor
from .orders import COLUMNS as ORDER_COLUMNS
from .orders import Order
from .payment_links import COLUMNS as LINK_COLUMNS
from .payment_links import PaymentLink
from .payments import COLUMNS as PAYMENT_COLUMNS
from .payments import Payment


def _qualified(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{column.strip()}" for column in columns.split(","))


_ORDER_WIDTH = len(ORDER_COLUMNS.split(","))

_ORDER_WITH_PAYMENT = f"""
    SELECT {_qualified("o", ORDER_COLUMNS)}, {_qualified("p", PAYMENT_COLUMNS)}
      FROM orders o
      LEFT JOIN payments p ON p.id = %(payment_id)s AND p.mode = %(mode)s
     WHERE o.razorpay_order_id = %(razorpay_order_id)s AND o.mode = %(mode)s
"""  # noqa: S608 - only the fixed column lists are formatted in

# The lock is taken by a statement of its own, so the read after it (in the same round
# trip) has a snapshot taken once the lock is held: it sees what the transaction that held
# the lock before committed, in the payment as in the order. (One statement joining the
# payment would lock the order's latest row but keep the payment of the snapshot it
# started with.) Locks are taken in our id order, as lock_by_razorpay_ids takes them.
_LOCK_ORDER = """
    SELECT 1 FROM orders WHERE razorpay_order_id = %(razorpay_order_id)s AND mode = %(mode)s
     ORDER BY id FOR UPDATE;
"""


def order_with_payment(
    cur: Cursor, razorpay_order_id: str, payment_id: str
) -> tuple[Order | None, Payment | None]:
    """The order Razorpay knows as ``razorpay_order_id`` and our record of the payment
    ``payment_id`` (whatever order it is of), unlocked; (None, None) without the order."""
    cur.execute(
        _ORDER_WITH_PAYMENT,
        {"razorpay_order_id": razorpay_order_id, "payment_id": payment_id, "mode": cur.mode},
    )
    return _order_and_payment(cur.fetch_tuples())


def lock_with_payment(
    cur: Cursor, razorpay_order_id: str, payment_id: str
) -> tuple[Order | None, Payment | None]:
    """order_with_payment, with the order's row lock held until the transaction ends, and
    both read after the lock was taken."""
    cur.execute(
        _LOCK_ORDER + _ORDER_WITH_PAYMENT,
        {"razorpay_order_id": razorpay_order_id, "payment_id": payment_id, "mode": cur.mode},
    )
    return _order_and_payment(cur.fetch_tuples())


def _order_and_payment(rows: list[tuple[Any, ...]]) -> tuple[Order | None, Payment | None]:
    if not rows:
        return None, None
    (row,) = rows
    payment = row[_ORDER_WIDTH:]
    return Order(*row[:_ORDER_WIDTH]), Payment(*payment) if payment[0] is not None else None


_ORDER_WITH_LINK = f"""
    SELECT {_qualified("o", ORDER_COLUMNS)}, {_qualified("l", LINK_COLUMNS)}
      FROM orders o
      LEFT JOIN payment_links l ON l.order_id = o.id AND l.mode = %(mode)s
     WHERE o.razorpay_order_id = %(razorpay_order_id)s AND o.mode = %(mode)s
"""  # noqa: S608 - only the fixed column lists are formatted in


def order_with_link(cur: Cursor, razorpay_order_id: str) -> tuple[Order | None, PaymentLink | None]:
    """The order Razorpay knows as ``razorpay_order_id`` (unlocked) and its payment link,
    if it has one; (None, None) without the order."""
    cur.execute(_ORDER_WITH_LINK, {"razorpay_order_id": razorpay_order_id, "mode": cur.mode})
    rows = cur.fetch_tuples()
    if not rows:
        return None, None
    (row,) = rows
    link = row[_ORDER_WIDTH:]
    return Order(*row[:_ORDER_WIDTH]), PaymentLink(*link) if link[0] is not None else None
