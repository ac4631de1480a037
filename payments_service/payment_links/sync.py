"""Reconciliation of payment links: an open link whose webhooks never came (and whose buyer
never came back) is fetched from Razorpay and applied; a payment listed by reconcile that
was made on one of our links is applied to it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..db import Database
from ..db import payment_links as sql
from ..db.payment_links import PaymentLink
from ..errors import GatewayError, NotFound, PaymentMismatch
from ..razorpay_gateway import RazorpayGateway
from .apply import end_link_in, link_for_payment, pay_link_in
from .making import finish_lost

log = logging.getLogger(__name__)
# A link whose creation lost Razorpay's answer and which Razorpay does not know after this
# long was never made: its reservation is dropped.
FORGET_UNMADE_AFTER = timedelta(hours=1)


@dataclass
class LinkHealReport:
    """What one pass over open links did."""

    checked: int = 0
    updated: int = 0
    errors: int = 0


def heal_open_links(
    db: Database,
    gateway: RazorpayGateway,
    older_than: timedelta,
    clock: Callable[[], datetime],
    limit: int = 100,
) -> LinkHealReport:
    """Ask Razorpay about links still open (or still being created) after ``older_than``
    and apply what it says: their payments, or their end."""
    now = clock()
    with db.transaction() as cur:
        links = sql.claim_open(cur, created_before=now - older_than, limit=limit)
    report = LinkHealReport()
    for link in links:
        report.checked += 1
        try:
            if _heal(db, gateway, link, now):
                report.updated += 1
        except (GatewayError, NotFound, PaymentMismatch, ValueError, KeyError) as exc:
            report.errors += 1
            log.warning("reconcile: payment link %s skipped (%s)", link.order_id, exc)
    return report


def _heal(db: Database, gateway: RazorpayGateway, link: PaymentLink, now: datetime) -> bool:
    if link.razorpay_link_id is None:
        made = finish_lost(gateway, db, link)
        if made is None and now - link.created_at > FORGET_UNMADE_AFTER:
            with db.transaction() as cur:
                sql.delete_reservation(cur, link.order_id)
        return made is not None
    entity = gateway.fetch_payment_link(link.razorpay_link_id)
    changed = False
    for listed in entity.get("payments") or []:
        payment = gateway.fetch_payment(str(listed["payment_id"]))
        with db.transaction() as cur:
            changed = pay_link_in(cur, link, payment, entity, actor="reconcile").changed or changed
    if entity.get("status") in ("expired", "cancelled"):
        with db.transaction() as cur:
            changed = end_link_in(cur, link, entity).status != link.status or changed
    return changed


def reconcile_link_payment(db: Database, entity: dict[str, Any]) -> bool | None:
    """Apply a Razorpay payment made on one of our links whose order we did not know;
    None when it is not a link payment of ours, else whether anything changed."""
    with db.read() as cur:
        link = link_for_payment(cur, entity)
    if link is None:
        return None
    with db.transaction() as cur:
        return pay_link_in(cur, link, entity, None, actor="reconcile").changed
