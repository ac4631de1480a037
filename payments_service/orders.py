"""Orders: create one at Razorpay and here (one Idempotency-Key, one Razorpay order), read
them, list them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from . import order_reservations as reservations
from .auth import Caller
from .db import Database
from .db import enrollments as enrollments_sql
from .db import orders as sql
from .db.orders import NewOrder, Order
from .errors import AlreadyOwned, Forbidden, NotFound
from .ids import new_id
from .order_reservations import KeyLease
from .pagination import Page, decode_cursor, page_of
from .razorpay_gateway import RazorpayGateway


@dataclass(frozen=True)
class OrderRequest:
    """A validated request to sell one product to one customer."""

    amount: int
    currency: str
    sku: str
    product_name: str
    customer_email: str
    customer_name: str | None
    customer_contact: str | None
    site_user_id: str | None
    receipt: str | None
    notes: dict[str, str]

    def fingerprint(self) -> str:
        """A digest of the request, to tell a retry from a different request."""
        canonical = json.dumps(self.__dict__, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def create_order(
    db: Database,
    gateway: RazorpayGateway,
    caller: Caller,
    request: OrderRequest,
    idempotency_key: str | None,
    lease: KeyLease,
    allow_owned: bool = False,
) -> tuple[Order, bool]:
    """Create the order at Razorpay, then store it; return it and whether it is new.

    The same Idempotency-Key and body return the first order (even once paid); another
    body raises IdempotencyKeyReused. One key makes one Razorpay order, ever: the key is
    reserved first, and while a request holds it others get IdempotencyKeyInUse
    (order_reservations.py). A new order for a product the customer already owns (an
    active enrollment) raises AlreadyOwned unless ``allow_owned`` says it is a deliberate
    repeat; the flag is not part of the body a key compares, and is stored on the order
    (paid while its customer owns the product, a deliberate repeat grants nothing and is
    kept, any other order is a duplicate purchase: payments/duplicates.py). GatewayError or
    GatewayUnavailable: Razorpay refused or failed; no order is stored.
    """
    if caller.site_id is None:
        raise Forbidden("orders are created by a site: use a site token")
    fingerprint = request.fingerprint()
    if idempotency_key is not None:
        earlier = _replay(db, caller.site_id, idempotency_key, fingerprint)
        if earlier is not None:
            return earlier, False
    if not allow_owned:
        _refuse_if_owned(db, request)
    new = _new_order(caller.site_id, request, idempotency_key, fingerprint, allow_owned)
    if idempotency_key is None:
        created = reservations.ask_razorpay(gateway, new)
        with db.one_statement() as cur:
            order = sql.insert(cur, new, created["id"])
        if order is None:
            raise RuntimeError("an order without an Idempotency-Key cannot conflict on it")
        return order, True
    return reservations.create_with_key(db, gateway, new, idempotency_key, lease)


def get_order(db: Database, caller: Caller, order_id: str) -> Order:
    """One order the caller may see. Raises NotFound otherwise."""
    with db.read() as cur:
        order = sql.get(cur, order_id)
    if order is None or not caller.can_see_site(order.site_id):
        raise NotFound(f"no order {order_id!r}")
    return order


def list_orders(
    db: Database,
    caller: Caller,
    *,
    customer_email: str | None,
    status: str | None,
    site_id: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Order]:
    """Orders newest first; a site sees only its own, an admin may filter by site."""
    if not caller.is_admin:
        site_id = caller.site_id
    with db.transaction() as cur:
        rows = sql.list_page(
            cur,
            site_id=site_id,
            customer_email=customer_email.lower() if customer_email else None,
            status=status,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
    return page_of(rows, limit, lambda row: (row.created_at, row.id))


def checkout_options(order: Order, key_id: str, merchant_name: str) -> dict[str, Any]:
    """The options a browser passes to ``new Razorpay(options)`` for this order."""
    prefill = {
        "name": order.customer_name,
        "email": order.customer_email,
        "contact": order.customer_contact,
    }
    return {
        "key": key_id,
        "amount": order.amount,
        "currency": order.currency,
        "order_id": order.razorpay_order_id,
        "name": merchant_name,
        "description": order.product_name,
        "prefill": {k: v for k, v in prefill.items() if v},
        "notes": {"order_ref": order.id, "sku": order.product_sku},
    }


def _replay(db: Database, site_id: str, key: str, fingerprint: str) -> Order | None:
    with db.read() as cur:
        earlier = sql.get_by_idempotency_key(cur, site_id, key)
    return reservations.same_request(earlier, fingerprint) if earlier is not None else None


def _refuse_if_owned(db: Database, request: OrderRequest) -> None:
    email = request.customer_email.lower()
    with db.read() as cur:
        owned = enrollments_sql.get_active(cur, email, request.sku)
    if owned is not None:
        raise AlreadyOwned(
            f"{email} already owns {request.sku} (enrollment {owned.id}); "
            "send allow_owned: true to sell it again",
            enrollment_id=owned.id,
        )


def _new_order(
    site_id: str,
    request: OrderRequest,
    idempotency_key: str | None,
    fingerprint: str,
    allow_owned: bool,
) -> NewOrder:
    return NewOrder(
        id=new_id("ord"),
        site_id=site_id,
        amount=request.amount,
        currency=request.currency,
        product_sku=request.sku,
        product_name=request.product_name,
        customer_email=request.customer_email.lower(),
        customer_name=request.customer_name,
        customer_contact=request.customer_contact,
        site_user_id=request.site_user_id,
        receipt=request.receipt,
        notes=request.notes,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint if idempotency_key else None,
        allow_owned=allow_owned,
    )
