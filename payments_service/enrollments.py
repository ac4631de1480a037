"""Enrollments: who owns which product, answered for any site; purchases granted."""

from __future__ import annotations

import logging
from typing import Final

from .auth import Caller, require_admin
from .db import Cursor, Database
from .db import enrollments as sql
from .db import sites as sites_sql
from .db.enrollments import Enrollment, NewEnrollment
from .db.orders import Order
from .errors import Conflict, Forbidden, NotFound
from .ids import new_id
from .notifications import outbox
from .sites import ENROLLMENTS_LIST_SCOPE

log = logging.getLogger(__name__)

# Tries to grant, or find who holds, a product whose grant lost a race to another one.
GRANT_ATTEMPTS: Final = 3


def list_enrollments(
    db: Database,
    caller: Caller,
    *,
    customer_email: str | None,
    sku: str | None,
    status: str | None,
) -> list[Enrollment]:
    """Enrollments by customer (any case of the email) and/or SKU, across every site.

    Any site may ask what one person owns ("does this person own this SKU", whichever site
    sold it); listing the owners of a SKU, or of every SKU (no filter), is for admins and
    for sites given the ``enrollments:list`` scope. Raises Forbidden when a site without
    the scope names no customer.
    """
    with db.transaction() as cur:
        if not customer_email and not _may_list_owners(cur, caller):
            raise Forbidden(
                "listing owners needs an admin token or a site given the "
                f"{ENROLLMENTS_LIST_SCOPE} scope: name the customer_email to ask about one person"
            )
        return sql.search(
            cur,
            customer_email=customer_email.strip().lower() if customer_email else None,
            sku=sku,
            status=status,
        )


def _may_list_owners(cur: Cursor, caller: Caller) -> bool:
    if caller.is_admin:
        return True
    return caller.site_id is not None and sites_sql.has_scope(
        cur, caller.site_id, ENROLLMENTS_LIST_SCOPE
    )


def grant_enrollment(
    db: Database, caller: Caller, *, customer_email: str, sku: str, reason: str
) -> Enrollment:
    """An admin grants access without a purchase (e.g. a complimentary seat).

    Raises Forbidden for non-admins, Conflict when the customer already has it.
    """
    require_admin(caller)
    with db.transaction() as cur:
        granted = sql.insert_if_absent(
            cur,
            enrollment_id=new_id("enr"),
            customer_email=customer_email.strip().lower(),
            sku=sku,
            source="manual",
            order_id=None,
            granted_by=caller.actor,
            grant_reason=reason,
        )
        if granted is not None:
            outbox.enrollment_changed(cur, granted)
    if granted is None:
        raise Conflict(f"{customer_email} already has an active enrollment in {sku}")
    return granted


def revoke_enrollment(db: Database, caller: Caller, enrollment_id: str, reason: str) -> Enrollment:
    """An admin revokes access. Raises Forbidden, NotFound, or Conflict if not active."""
    require_admin(caller)
    with db.transaction() as cur:
        existing = sql.get(cur, enrollment_id)
        if existing is None:
            raise NotFound(f"no enrollment {enrollment_id!r}")
        revoked = sql.revoke(cur, enrollment_id, revoked_by=caller.actor, reason=reason)
        if revoked is not None:
            outbox.enrollment_changed(cur, revoked)
    if revoked is None:
        raise Conflict(f"enrollment {enrollment_id} is already revoked")
    return revoked


def revoke_order_grant(cur: Cursor, order_id: str, *, revoked_by: str, reason: str) -> bool:
    """Revoke the active enrollment an order granted, in ``cur``'s transaction, and tell
    every site; False when the order holds none (never granted, or revoked already)."""
    enrollment = sql.active_for_order(cur, order_id)
    if enrollment is None:
        return False
    revoked = sql.revoke(cur, enrollment.id, revoked_by=revoked_by, reason=reason)
    if revoked is None:
        return False
    outbox.enrollment_changed(cur, revoked)
    return True


def purchase_grants(paid: list[Order], actor: str, grant_source: str) -> list[NewEnrollment]:
    """The grants of newly paid orders, in the order to insert them (the caller inserts
    them if absent, with the statement that moves the orders on: db/settlements.py), then
    settle_grants."""
    # Sorted, so transactions granting several at once take the unique index's locks in
    # one order (and the first of two orders for one customer and SKU still wins).
    return sorted(
        (_grant_for(order, actor, grant_source) for order in paid),
        key=lambda grant: (grant.customer_email, grant.sku),
    )


def settle_grants(
    cur: Cursor, paid: list[Order], grants: list[NewEnrollment], stored: list[Enrollment]
) -> tuple[dict[str, Enrollment], dict[str, Enrollment]]:
    """Once ``grants`` (of ``paid``) were inserted if absent, of which ``stored`` were:
    (the grants made, the enrollment already held for each order that is not a
    deliberate repeat), both by order id. Each paid order is granted its product unless
    its customer holds it already.

    The unique index on active enrollments decides: of two orders for one customer and
    SKU paid at once, in this transaction or in concurrent ones, exactly one grant is
    stored; the other insert waits for it and skips, and the read after it (READ
    COMMITTED: a fresh snapshot) finds the enrollment that won, in this transaction.
    """
    granted = {str(e.order_id): e for e in stored}
    owned: dict[str, Enrollment] = {}
    repeats = {order.id for order in paid if order.allow_owned}
    for grant in grants:
        order_id = str(grant.order_id)
        if order_id not in granted and order_id not in repeats:
            held, made = _held_or_granted(cur, grant)
            if held is not None:
                owned[order_id] = held
            if made is not None:
                granted[order_id] = made
    return granted, owned


def _held_or_granted(
    cur: Cursor, grant: NewEnrollment
) -> tuple[Enrollment | None, Enrollment | None]:
    """For a grant the unique index turned away: (the active enrollment that did, None), or
    (None, the grant stored after all) when that enrollment was revoked meanwhile."""
    for _ in range(GRANT_ATTEMPTS):
        held = sql.get_active(cur, grant.customer_email, grant.sku)
        if held is not None:
            return held, None
        made = sql.insert_many_if_absent(cur, [grant])
        if made:
            return None, made[0]
    log.error("order %s: could neither grant %s nor find who holds it", grant.order_id, grant.sku)
    return None, None


def _grant_for(order: Order, actor: str, source: str) -> NewEnrollment:
    return NewEnrollment(
        id=new_id("enr"),
        customer_email=order.customer_email,
        sku=order.product_sku,
        source=source,
        order_id=order.id,
        granted_by=actor,
    )
