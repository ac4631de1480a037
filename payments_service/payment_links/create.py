"""Creating a payment link: our order and the link are reserved (committed) first, then
Razorpay is asked for the link with our order id as its reference_id, then what it made is
recorded. Razorpay refuses a second link with one reference_id, so a request that lost
Razorpay's answer, or its retry, looks the link up instead of making another."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from ..auth import Caller
from ..db import Database
from ..db import orders as orders_sql
from ..db import payment_links as sql
from ..db import sites as sites_sql
from ..db.orders import NewOrder
from ..db.payment_links import NewPaymentLink, PaymentLink
from ..errors import (
    Forbidden,
    GatewayError,
    GatewayUnavailable,
    GatewayUnreached,
    IdempotencyKeyReused,
    ValidationFailed,
)
from ..ids import new_id
from ..razorpay_gateway import RazorpayGateway
from .making import find_made, forget, razorpay_body, record
from .manage import LinkView, view_of

# Razorpay wants expire_by at least 15 minutes after it receives the request; a minute more
# leaves room for clocks that differ and for the time the request takes.
MIN_EXPIRY = timedelta(minutes=16)
MAX_EXPIRY = timedelta(days=180)  # Razorpay: at most 6 months after creation
DEFAULT_EXPIRY = timedelta(days=7)
DUPLICATE_REFERENCE = "reference id already attempted"


@dataclass(frozen=True)
class LinkRequest:
    """A validated request for a link that sells one product to one customer."""

    site_id: str | None
    amount: int
    currency: str
    sku: str
    product_name: str
    customer_email: str
    customer_name: str | None
    customer_contact: str | None
    expire_by: datetime | None
    notify_email: bool
    notify_sms: bool
    return_url: str
    notes: dict[str, str]

    def fingerprint(self) -> str:
        """A digest of the request, to tell a retry from a different request."""
        canonical = json.dumps(self.__dict__, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class LinkContext:
    """What creation needs besides the request: the gateway, the clock, and the URL
    Razorpay sends the buyer's browser back to (our callback)."""

    db: Database
    gateway: RazorpayGateway
    clock: Callable[[], datetime]
    callback_url: str


def create_link(
    ctx: LinkContext, caller: Caller, request: LinkRequest, idempotency_key: str | None
) -> tuple[LinkView, bool]:
    """Create the order and its Razorpay link; return the link and whether it is new.

    A site makes links for itself, an admin for the site it names. The same
    Idempotency-Key and body return the first link; another body raises
    IdempotencyKeyReused. Raises ValidationFailed (return URL not the site's, expiry out
    of range, unknown site), Forbidden, IdempotencyKeyInUse, GatewayError and
    GatewayUnavailable (the reservation is kept; a retry with the key finishes it).
    """
    site_id = _site_of(caller, request.site_id)
    _check_return_url(ctx.db, site_id, request.return_url)
    expire_by = _expiry(request.expire_by, ctx.clock())
    fingerprint = request.fingerprint()
    if idempotency_key is not None:
        with ctx.db.read() as cur:
            earlier = sql.get_by_idempotency_key(cur, site_id, idempotency_key)
        if earlier is not None:  # a retry; one that finishes a lost creation makes the link
            earlier = _same_request(earlier, fingerprint)
            return _resume(ctx, earlier), earlier.status == "creating"
    new_link = _reserve(ctx.db, caller, site_id, request, expire_by, idempotency_key, fingerprint)
    if isinstance(new_link, PaymentLink) and new_link.status != "creating":
        return view_of(ctx.db, new_link), False
    return _resume(ctx, new_link), True


def _site_of(caller: Caller, named: str | None) -> str:
    if caller.site_id is not None:
        if named is not None and named != caller.site_id:
            raise Forbidden("a site makes payment links for itself only", field="site_id")
        return caller.site_id
    if named is None:
        raise ValidationFailed("an admin names the site the link sells for", field="site_id")
    return named


def _check_return_url(db: Database, site_id: str, return_url: str) -> None:
    """The return URL must be on one of the site's registered origins."""
    with db.read() as cur:
        site = sites_sql.get(cur, site_id)
    if site is None or not site.is_active:
        raise ValidationFailed(f"no active site {site_id!r}", field="site_id")
    parts = urlsplit(return_url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    allowed = {o.rstrip("/").lower() for o in site.allowed_origins}
    if parts.scheme not in ("http", "https") or not parts.netloc or origin not in allowed:
        raise ValidationFailed(
            f"return_url must be on one of the site's registered origins "
            f"({', '.join(sorted(allowed)) or 'none registered'})",
            field="return_url",
        )


def _expiry(expire_by: datetime | None, now: datetime) -> datetime:
    if expire_by is None:
        return now + DEFAULT_EXPIRY
    if expire_by < now + MIN_EXPIRY:
        raise ValidationFailed(
            "expire_by must be at least 16 minutes from now (Razorpay: 15, and a minute "
            "for clocks)",
            field="expire_by",
        )
    if expire_by > now + MAX_EXPIRY:
        raise ValidationFailed("expire_by must be at most 180 days from now", field="expire_by")
    return expire_by


def _same_request(earlier: PaymentLink, fingerprint: str) -> PaymentLink:
    if earlier.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different payment link request",
            field="Idempotency-Key",
        )
    return earlier


class _KeyTaken(Exception):
    """Another request stored a link with this Idempotency-Key first (rolls back ours)."""


def _reserve(
    db: Database,
    caller: Caller,
    site_id: str,
    request: LinkRequest,
    expire_by: datetime,
    key: str | None,
    fingerprint: str,
) -> PaymentLink:
    """Store our order (no Razorpay order yet) and the link in `creating`, committed."""
    order = _new_order(site_id, request)
    link = NewPaymentLink(
        order_id=order.id,
        site_id=site_id,
        return_url=request.return_url,
        expire_by=expire_by,
        notify_email=request.notify_email,
        notify_sms=request.notify_sms,
        description=request.product_name,
        idempotency_key=key,
        request_fingerprint=fingerprint,
        created_by=caller.actor,
    )
    try:
        with db.transaction() as cur:
            orders_sql.insert(cur, order, None)
            stored = sql.insert(cur, link)
            if stored is None:
                raise _KeyTaken
            return stored
    except _KeyTaken:
        with db.read() as cur:
            earlier = sql.get_by_idempotency_key(cur, site_id, str(key))
        if earlier is None:
            raise RuntimeError("link insert skipped but no link holds its key") from None
        return _same_request(earlier, fingerprint)


def _resume(ctx: LinkContext, link: PaymentLink) -> LinkView:
    """The link, made at Razorpay now if it is still `creating`."""
    if link.status != "creating":
        return view_of(ctx.db, link)
    with ctx.db.read() as cur:
        order = orders_sql.get(cur, link.order_id)
    if order is None:
        raise RuntimeError(f"payment link {link.order_id} has no order")
    try:
        body = razorpay_body(ctx.callback_url, link, order.__dict__)
        made = ctx.gateway.create_payment_link(body)
    except GatewayUnreached:
        forget(ctx.db, link)
        raise
    except GatewayUnavailable:  # Razorpay may have made it: a retry with the key looks
        raise
    except GatewayError as exc:
        if DUPLICATE_REFERENCE not in str(exc.extra.get("reason", "")).lower():
            forget(ctx.db, link)
            raise
        made = find_made(ctx.gateway, link)
    return view_of(ctx.db, record(ctx.db, link, made))


def _new_order(site_id: str, request: LinkRequest) -> NewOrder:
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
        site_user_id=None,
        receipt=None,
        notes=request.notes,
        idempotency_key=None,
        request_fingerprint=None,
        allow_owned=False,
    )
