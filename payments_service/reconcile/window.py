"""Reconciliation: pull payments from Razorpay for a time window and apply them through
the same state machine as verify and webhooks, healing whatever webhooks missed.

The same pass can adopt purchases made on the old site (same Razorpay account, orders this
service never created), so existing buyers are recognised everywhere.
"""

from __future__ import annotations

import logging
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

from ..db import Database
from ..db import orders as orders_sql
from ..errors import GatewayError, NotFound, PaymentMismatch, ValidationFailed
from ..payment_links import heal_open_links, reconcile_link_payment
from ..payments.apply import apply_payment
from ..razorpay_gateway import RazorpayGateway
from ..refunds.settle import apply_refund, refund_state
from ..subscriptions import heal_subscriptions, reconcile_subscription_payment
from .legacy_import import LegacyImport, adopt_payment
from .pages import Entity, ReconcileReport, applied_as_fetched, count, skipped

log = logging.getLogger(__name__)
MAX_WINDOW = timedelta(days=400)
# The range Razorpay's list APIs accept for from/to (unix 946684800..4765046400).
RAZORPAY_EARLIEST = datetime.fromtimestamp(946_684_800, UTC)
RAZORPAY_LATEST = datetime.fromtimestamp(4_765_046_400, UTC)


def reconcile_window(
    db: Database,
    gateway: RazorpayGateway,
    start: datetime,
    end: datetime,
    legacy: LegacyImport | None = None,
    during_pending: bool = True,
) -> ReconcileReport:
    """Apply every Razorpay payment created in [start, end]; adopt old-site ones if asked.

    Raises ValidationFailed for a backwards or over-long window (``start == end`` is the
    one instant, both bounds inclusive), GatewayError when Razorpay cannot be listed at all.
    A payment that fails to apply is counted, logged and skipped.
    """
    _check_window(start, end)
    report = ReconcileReport()
    pages = gateway.iter_payment_pages(int(start.timestamp()), int(end.timestamp()))
    with closing(applied_as_fetched(db, pages)) as applied:
        for counted, foreign in applied:
            report.seen += counted.seen
            report.updated += counted.updated
            report.unchanged += counted.unchanged
            report.errors += counted.errors
            for entity in foreign:
                try:
                    _reconcile_foreign(db, gateway, entity, legacy, report, during_pending)
                except (GatewayError, NotFound, ValueError, KeyError) as exc:
                    skipped(report, entity, type(exc).__name__)
    for entity in gateway.iter_refunds(int(start.timestamp()), int(end.timestamp())):
        report.seen += 1
        try:
            _reconcile_refund(db, entity, report)
        except (GatewayError, ValueError, KeyError) as exc:
            report.errors += 1
            log.warning("reconcile: refund %s skipped (%s)", entity.get("id"), type(exc).__name__)
    log.info("reconcile %s..%s: %s", start.isoformat(), end.isoformat(), report.as_dict())
    return report


def _check_window(start: datetime, end: datetime) -> None:
    if end < start or end - start > MAX_WINDOW:
        raise ValidationFailed(
            "the window must not run backwards and may span at most 400 days", field="from"
        )
    if start < RAZORPAY_EARLIEST or end > RAZORPAY_LATEST:
        raise ValidationFailed(
            "Razorpay lists only times from 2000-01-01 to 2121-01-01",
            field="from" if start < RAZORPAY_EARLIEST else "to",
        )


def heal_open_orders(
    db: Database,
    gateway: RazorpayGateway,
    older_than: timedelta,
    limit: int = 100,
    during_pending: bool = True,
) -> ReconcileReport:
    """Worker pass: ask Razorpay about orders still created/attempted after ``older_than``,
    about payment links still open (payment_links/sync.py) and about subscriptions not
    ended that nothing changed for as long (subscriptions/sync.py)."""
    now = datetime.now(UTC)
    with db.transaction() as cur:
        open_orders = orders_sql.claim_open(
            cur, created_before=now - older_than, created_after=now - timedelta(days=7), limit=limit
        )
    report = ReconcileReport()
    for order in open_orders:
        if order.razorpay_order_id is None:  # a payment link's, not opened yet: see below
            continue
        try:
            payments = gateway.order_payments(order.razorpay_order_id)
        except GatewayError:
            report.errors += 1
            continue
        for entity in payments:
            report.seen += 1
            outcome = apply_payment(db, entity, actor="reconcile")
            count(report, outcome.changed)
    links = heal_open_links(db, gateway, older_than, clock=lambda: datetime.now(UTC), limit=limit)
    report.seen += links.checked
    report.updated += links.updated
    report.errors += links.errors
    subs = heal_subscriptions(
        db, gateway, older_than, lambda: datetime.now(UTC), during_pending, limit=limit
    )
    report.seen += subs.checked
    report.updated += subs.updated
    report.errors += subs.errors
    return report


def _reconcile_foreign(
    db: Database,
    gateway: RazorpayGateway,
    entity: Entity,
    legacy: LegacyImport | None,
    report: ReconcileReport,
    during_pending: bool,
) -> None:
    try:
        on_link = reconcile_link_payment(db, entity)
        if on_link is None:
            on_link = reconcile_subscription_payment(db, gateway, entity, during_pending)
    except PaymentMismatch:
        on_link = None
    if on_link is not None:
        count(report, on_link)
        return
    if legacy is None:
        report.unmatched += 1
        return
    plan = adopt_payment(db, legacy, entity)
    if plan is None:
        report.unmatched += 1
    elif legacy.dry_run:
        report.would_adopt.append(plan)
    else:
        report.adopted += 1


def _reconcile_refund(db: Database, entity: dict[str, Any], report: ReconcileReport) -> None:
    before = refund_state(db, str(entity.get("id")))
    try:
        after = apply_refund(db, entity, actor="reconcile")
    except NotFound:
        report.unmatched += 1
        return
    count(report, before != (after.status, after.amount))
