"""What a payment settles, in one statement: the payment as now known, the orders it moves
on, the grants it makes, and who is to be told (the sites that take callbacks, with their
user id for the customer), instead of a round trip for each.

The statement is a call of the database function settle_payments (migration 0017), which
holds the SQL: PostgreSQL keeps its plan for the session, where a statement sent as text is
parsed and planned on every call. This module passes each part as one array per column and
takes the rows it returns apart.

The orders are locked by the caller's transaction, so updating them waits for nobody; a
grant may wait for a concurrent one of the same customer and SKU (the unique index on
active enrollments), exactly as on its own, and the caller's next statement sees the one
that won. The recipients are read from the statement's snapshot: what they depend on (the
sites, and the customer's orders' site user ids) is not what this statement changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import Cursor
from .enrollments import COLUMNS as ENROLLMENT_COLUMNS
from .enrollments import Enrollment, NewEnrollment
from .notifications import Recipient
from .orders import COLUMNS as ORDER_COLUMNS
from .orders import Order, StatusChange
from .payments import COLUMNS as PAYMENT_COLUMNS
from .payments import Payment, PaymentRecord, upsert_params

_WIDTHS = {
    "stored": len(PAYMENT_COLUMNS.split(",")),
    "moved": len(ORDER_COLUMNS.split(",")),
    "granted": len(ENROLLMENT_COLUMNS.split(",")),
    "told": 2,
}


def _fields(composite: str, columns: str) -> str:
    """``columns`` of the row-typed column ``composite``, each on its own column."""
    return ", ".join(f"({composite}).{column.strip()}" for column in columns.split(","))


# The function's rows carry each part whole (a row of its table); they are taken apart here,
# into the columns of the row classes, in their order. The recipients come in site order,
# as recipients() lists them (the other parts' rows after them).
_SETTLE = f"""
    SELECT {_fields("s.stored_payment", PAYMENT_COLUMNS)},
           {_fields("s.moved_order", ORDER_COLUMNS)},
           {_fields("s.granted_enrollment", ENROLLMENT_COLUMNS)},
           s.told_site_id, s.told_site_user_id
      FROM settle_payments(
               %(mode)s,
               %(p_id)s::text[], %(p_order_id)s::text[], %(p_status)s::text[],
               %(p_amount)s::bigint[], %(p_currency)s::text[], %(p_amount_refunded)s::bigint[],
               %(p_method)s::text[], %(p_card_network)s::text[], %(p_card_last4)s::text[],
               %(p_bank)s::text[], %(p_wallet)s::text[], %(p_vpa)s::text[],
               %(p_fee)s::bigint[], %(p_tax)s::bigint[], %(p_error_code)s::text[],
               %(p_error_description)s::text[], %(p_error_reason)s::text[],
               %(p_razorpay_created_at)s::timestamptz[],
               %(order_ids)s::text[], %(statuses)s::text[], %(amounts_paid)s::bigint[],
               %(grant_ids)s::text[], %(emails)s::text[], %(skus)s::text[],
               %(sources)s::text[], %(grant_orders)s::text[], %(granted_by)s::text[],
               %(reasons)s::text[],
               %(email)s) AS s
     ORDER BY s.told_site_id
"""  # noqa: S608 - only the fixed column lists are formatted in


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
    if not (payments or changes or grants or recipients_of is not None):
        return Settled([], [], [], None)
    cur.execute(
        _SETTLE,
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
            "email": recipients_of,
        },
    )
    return _split(cur.fetch_tuples(), told=recipients_of is not None)


def _split(rows: list[tuple[Any, ...]], *, told: bool) -> Settled:
    """Each row's part: the one whose first column (an id, never NULL) is set."""
    found: dict[str, list[tuple[Any, ...]]] = {name: [] for name in _WIDTHS}
    for row in rows:
        start = 0
        for name, width in _WIDTHS.items():
            part = row[start : start + width]
            start += width
            if part[0] is not None:
                found[name].append(part)
    return Settled(
        [Payment(*part) for part in found["stored"]],
        [Order(*part) for part in found["moved"]],
        [Enrollment(*part) for part in found["granted"]],
        [Recipient(*part) for part in found["told"]] if told else None,
    )
