"""Reconciliation of subscriptions: the worker asks Razorpay about each subscription not
yet ended that nothing has changed for a while (its webhooks may never have come) and
applies its state and every charge of its invoices; a charge listed by reconcile whose
order we do not know yet is applied to its subscription."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..db import Database
from ..db import orders as orders_sql
from ..db import subscriptions as sql
from ..db.subscriptions import Subscription
from ..errors import GatewayError, NotFound, PaymentMismatch
from ..razorpay_gateway import RazorpayGateway
from .apply import apply_report_in, our_subscription
from .charges import apply_charge_in, is_charge

log = logging.getLogger(__name__)


@dataclass
class SubscriptionHealReport:
    """What one pass over subscriptions did."""

    checked: int = 0
    updated: int = 0
    errors: int = 0


def heal_subscriptions(
    db: Database,
    gateway: RazorpayGateway,
    older_than: timedelta,
    clock: Callable[[], datetime],
    during_pending: bool,
    limit: int = 100,
) -> SubscriptionHealReport:
    """Fetch and apply each subscription unchanged for ``older_than`` (each at most
    hourly), with the payments of its invoices we have not seen settled."""
    with db.transaction() as cur:
        subs = sql.claim_unsettled(cur, changed_before=clock() - older_than, limit=limit)
    report = SubscriptionHealReport()
    for sub in subs:
        if sub.razorpay_subscription_id is None:
            continue
        report.checked += 1
        try:
            if _heal(db, gateway, sub, during_pending):
                report.updated += 1
        except (GatewayError, NotFound, PaymentMismatch, ValueError, KeyError) as exc:
            report.errors += 1
            log.warning("reconcile: subscription %s skipped (%s)", sub.id, exc)
    return report


def _heal(db: Database, gateway: RazorpayGateway, sub: Subscription, during_pending: bool) -> bool:
    rid = str(sub.razorpay_subscription_id)
    entity = gateway.fetch_subscription(rid)
    payments = [p for p in _unsettled_payments(db, gateway, rid) if is_charge(p)]
    with db.transaction() as cur:
        locked = our_subscription(cur, rid)
        before = (locked.status, locked.paid_count, locked.auth_attempts)
        now, _ = apply_report_in(cur, locked, entity, None, "reconcile", during_pending)
        changed = before != (now.status, now.paid_count, now.auth_attempts)
        for payment in payments:
            outcome = apply_charge_in(cur, now, payment, "reconcile")
            changed = changed or bool(outcome and outcome.changed)
    return changed


def _unsettled_payments(db: Database, gateway: RazorpayGateway, rid: str) -> list[dict[str, Any]]:
    """The payments of the subscription's invoices whose order we do not hold paid."""
    invoices = [i for i in gateway.subscription_invoices(rid) if isinstance(i.get("order_id"), str)]
    with db.read() as cur:
        known = {
            o.razorpay_order_id: o
            for o in orders_sql.find_by_razorpay_ids(cur, [str(i["order_id"]) for i in invoices])
        }
    found: list[dict[str, Any]] = []
    for invoice in invoices:
        order = known.get(str(invoice["order_id"]))
        if order is not None and order.amount_paid > 0:
            continue
        for payment in gateway.order_payments(str(invoice["order_id"])):
            found.append({**payment, "invoice_id": payment.get("invoice_id") or invoice["id"]})
    return sorted(found, key=lambda payment: int(payment.get("created_at") or 0))


def reconcile_subscription_payment(
    db: Database, gateway: RazorpayGateway, payment: dict[str, Any], during_pending: bool
) -> bool | None:
    """Apply a Razorpay payment of a subscription invoice whose order we did not know;
    None when it is not a charge of one of our subscriptions, else whether it changed
    anything."""
    if not is_charge(payment):
        return None
    invoice = gateway.fetch_invoice(str(payment["invoice_id"]))
    rid = invoice.get("subscription_id")
    if not isinstance(rid, str):
        return None
    entity = gateway.fetch_subscription(rid)
    with db.transaction() as cur:
        try:
            sub = our_subscription(cur, rid)
        except NotFound:
            return None
        now, _ = apply_report_in(cur, sub, entity, None, "reconcile", during_pending)
        outcome = apply_charge_in(cur, now, payment, "reconcile")
    return bool(outcome and outcome.changed)


__all__ = ["heal_subscriptions", "reconcile_subscription_payment"]
