"""Enrollments: who owns which product, answered for any site."""

from __future__ import annotations

from . import notification_queue
from .auth import Caller, require_admin
from .db import Cursor, Database
from .db import enrollments as sql
from .db import sites as sites_sql
from .db.enrollments import Enrollment
from .errors import Conflict, Forbidden, NotFound
from .ids import new_id
from .sites import ENROLLMENTS_LIST_SCOPE


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
            notification_queue.enrollment_changed(cur, granted)
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
            notification_queue.enrollment_changed(cur, revoked)
    if revoked is None:
        raise Conflict(f"enrollment {enrollment_id} is already revoked")
    return revoked
