"""Order reservations: an order's Idempotency-Key is held by one request at a time, and
reserved (committed) before Razorpay is asked, so one key makes one Razorpay order, ever.

The holder has a lease. A failure that certainly made no order (no connection, or Razorpay
refused) hands the key on at once; one whose outcome is unknown (Razorpay's answer lost)
keeps it until the lease runs out, as does a holder that died. The next request with the
key and body then takes it over and first looks for the holder's order at Razorpay by its
receipt, our order id, creating one only if there is none.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from .db import Database
from .db import order_reservations as sql
from .db import orders as orders_sql
from .db.order_reservations import Claim, OrderReservation
from .db.orders import NewOrder, Order
from .errors import (
    GatewayError,
    GatewayUnavailable,
    GatewayUnreached,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
)
from .ids import new_id
from .razorpay_gateway import RazorpayGateway
from .services import Services


@dataclass(frozen=True)
class KeyLease:
    """How long an order's Idempotency-Key stays with the request holding it, by which clock."""

    duration: timedelta
    clock: Callable[[], datetime]

    @classmethod
    def of(cls, services: Services) -> KeyLease:
        """ORDER_KEY_LEASE_SECONDS, by the services' clock (tests move it forward)."""
        return cls(timedelta(seconds=services.settings.order_key_lease_seconds), services.clock)


def create_with_key(
    db: Database, gateway: RazorpayGateway, new: NewOrder, key: str, lease: KeyLease
) -> tuple[Order, bool]:
    """Create the order of a key at Razorpay and store it, holding the key meanwhile;
    return it and whether it is new. Raises IdempotencyKeyInUse, IdempotencyKeyReused,
    GatewayError and GatewayUnavailable."""
    held = _reserve(db, new, key, lease)
    if isinstance(held, Order):
        return held, False
    new = replace(new, id=held.order_id)
    created = _razorpay_order_for(db, gateway, new, held, lease)
    with db.transaction() as cur:
        order = orders_sql.insert(cur, new, created["id"])
        sql.finish(cur, new.site_id, key)
        # None: an earlier holder of the key, slower than its lease, stored its order first.
        winner = order or orders_sql.get_by_idempotency_key(cur, new.site_id, key)
    if winner is None:
        raise RuntimeError("order insert skipped but no order holds its Idempotency-Key")
    return winner, order is not None


def _reserve(db: Database, new: NewOrder, key: str, lease: KeyLease) -> OrderReservation | Order:
    """Hold the key for this request (committed before Razorpay is asked), or return the
    order stored with it meanwhile. Raises IdempotencyKeyInUse or IdempotencyKeyReused."""
    now = lease.clock()
    fingerprint = str(new.request_fingerprint)
    wanted = Claim(new.site_id, key, new.id, fingerprint, new_id("hold"), now, now + lease.duration)
    with db.transaction() as cur:
        claimed = sql.claim(cur, wanted)
        stored = orders_sql.get_by_idempotency_key(cur, new.site_id, key)
        if stored is not None:  # stored since this request first looked
            sql.finish(cur, new.site_id, key)
            return same_request(stored, fingerprint)
        if claimed is not None:
            return claimed
        holding = sql.get(cur, new.site_id, key)
    if holding is not None and holding.request_fingerprint != fingerprint:
        raise _key_reused()
    wait = 1  # the holder may answer any moment; once it gave up, only the lease's end helps
    if holding is not None and holding.outcome_unknown:
        wait = max(1, math.ceil((holding.leased_until - now).total_seconds()))
    raise _key_in_use(wait)


def _razorpay_order_for(
    db: Database,
    gateway: RazorpayGateway,
    new: NewOrder,
    held: OrderReservation,
    lease: KeyLease,
) -> dict[str, Any]:
    """The Razorpay order of a held key: the one an earlier holder made, else a new one.

    A failure that certainly made no order hands the key on at once; one whose outcome is
    unknown keeps it until the lease runs out, when the next holder looks for the order.
    """
    if held.is_taken_over:
        try:
            made_earlier = _find_by_receipt(gateway, new)
        except GatewayError:
            _hand_on(db, held, lease)
            raise
        if made_earlier is not None:
            return made_earlier
        _renew(db, held, lease)  # the look-up (and its retries) took some of the lease
    try:
        return ask_razorpay(gateway, new)
    except GatewayUnreached:
        _hand_on(db, held, lease)
        raise
    except GatewayUnavailable:
        with db.transaction() as cur:
            sql.mark_outcome_unknown(cur, held.site_id, held.idempotency_key, held.holder)
        raise
    except GatewayError:  # Razorpay refused: no order exists
        _hand_on(db, held, lease)
        raise


def _renew(db: Database, held: OrderReservation, lease: KeyLease) -> None:
    """Restart the lease for the order creation about to start. Raises IdempotencyKeyInUse
    if the key went to another request meanwhile (this one has asked Razorpay nothing)."""
    with db.transaction() as cur:
        renewed = sql.renew(
            cur, held.site_id, held.idempotency_key, held.holder, lease.clock() + lease.duration
        )
    if not renewed:
        raise _key_in_use(retry_after=1)


def _hand_on(db: Database, held: OrderReservation, lease: KeyLease) -> None:
    with db.transaction() as cur:
        sql.end_lease(cur, held.site_id, held.idempotency_key, held.holder, lease.clock())


def _find_by_receipt(gateway: RazorpayGateway, new: NewOrder) -> dict[str, Any] | None:
    """The order an earlier holder of the key made at Razorpay (the oldest, should there
    be several), found by its receipt, our order id."""
    found = [
        entity
        for entity in gateway.find_orders_by_receipt(new.id)
        if entity.get("amount") == new.amount and entity.get("currency") == new.currency
    ]
    return min(found, key=lambda entity: entity.get("created_at", 0)) if found else None


def ask_razorpay(gateway: RazorpayGateway, new: NewOrder) -> dict[str, Any]:
    """Create the Razorpay order of our order ``new`` (receipt: our order id)."""
    notes = {**new.notes, "sku": new.product_sku, "site_id": new.site_id, "order_ref": new.id}
    return gateway.create_order(
        amount=new.amount, currency=new.currency, receipt=new.id, notes=notes
    )


def same_request(earlier: Order, fingerprint: str) -> Order:
    """``earlier``, if it was made by this request body. Raises IdempotencyKeyReused."""
    if earlier.request_fingerprint != fingerprint:
        raise _key_reused()
    return earlier


def _key_in_use(retry_after: int) -> IdempotencyKeyInUse:
    return IdempotencyKeyInUse(
        "another request with this Idempotency-Key is creating the order; retry shortly",
        retry_after=retry_after,
        field="Idempotency-Key",
    )


def _key_reused() -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        "this Idempotency-Key was used for a different order request", field="Idempotency-Key"
    )
