"""Reading payment links, and cancelling one: Razorpay first, then our records."""

from __future__ import annotations

from dataclasses import dataclass

from ..auth import Caller
from ..db import Database
from ..db import orders as orders_sql
from ..db import payment_links as sql
from ..db.orders import Order
from ..db.payment_links import PaymentLink
from ..errors import Conflict, GatewayError, GatewayUnavailable, NotFound
from ..pagination import Page, decode_cursor, page_of
from ..razorpay_gateway import RazorpayGateway
from .apply import end_link_in


@dataclass(frozen=True)
class LinkView:
    """A link with its order, as the API answers it."""

    link: PaymentLink
    order: Order


def view_of(db: Database, link: PaymentLink) -> LinkView:
    """The link with its order as it is now."""
    with db.read() as cur:
        order = orders_sql.get(cur, link.order_id)
    if order is None:
        raise RuntimeError(f"payment link {link.order_id} has no order")
    return LinkView(link, order)


def get_link(db: Database, caller: Caller, razorpay_link_id: str) -> LinkView:
    """One link the caller may see (a site: its own). Raises NotFound otherwise."""
    return view_of(db, _visible(db, caller, razorpay_link_id))


def list_links(
    db: Database,
    caller: Caller,
    *,
    site_id: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> Page[LinkView]:
    """Links newest first; a site sees only its own, an admin may filter by site."""
    if not caller.is_admin:
        site_id = caller.site_id
    with db.transaction() as cur:
        rows = sql.list_page(
            cur,
            site_id=site_id,
            status=status,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
        orders = {o.id: o for o in orders_sql.get_many(cur, [row.order_id for row in rows])}
    page = page_of(rows, limit, lambda row: (row.created_at, row.order_id))
    return Page([LinkView(row, orders[row.order_id]) for row in page.items], page.next_cursor)


def cancel_link(
    db: Database, gateway: RazorpayGateway, caller: Caller, razorpay_link_id: str
) -> LinkView:
    """Cancel an unpaid link at Razorpay, then here; its order ends `cancelled`.

    Cancelling a cancelled link again returns it. Raises NotFound (not the caller's),
    Conflict (paid or expired: Razorpay's own state is recorded first), GatewayError.
    """
    link = _visible(db, caller, razorpay_link_id)
    if link.status == "cancelled":
        return view_of(db, link)
    if link.status not in sql.OPEN_STATUSES:
        raise Conflict(f"the payment link is {link.status}; only an unpaid link can be cancelled")
    try:
        entity = gateway.cancel_payment_link(razorpay_link_id)
    except GatewayUnavailable:
        raise
    except GatewayError:
        entity = gateway.fetch_payment_link(razorpay_link_id)
        if entity.get("status") in ("expired", "cancelled"):
            with db.transaction() as cur:
                end_link_in(cur, link, entity)
        raise Conflict(
            f"Razorpay says the payment link is {entity.get('status')}; "
            "only an unpaid link can be cancelled"
        ) from None
    with db.transaction() as cur:
        ended = end_link_in(cur, link, entity)
    return view_of(db, ended)


def _visible(db: Database, caller: Caller, razorpay_link_id: str) -> PaymentLink:
    with db.read() as cur:
        link = sql.get_by_razorpay_id(cur, razorpay_link_id)
    if link is None or not caller.can_see_site(link.site_id):
        raise NotFound(f"no payment link {razorpay_link_id!r}")
    return link
