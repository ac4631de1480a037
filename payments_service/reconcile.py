"""Reconciliation: pull payments from Razorpay for a time window and apply them through
the same state machine as verify and webhooks, healing whatever webhooks missed.

The same pass can adopt purchases made on the old site (same Razorpay account, orders this
service never created), so existing buyers are recognised everywhere.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .db import Database
from .db import orders as orders_sql
from .errors import GatewayError, NotFound, ValidationFailed
from .legacy_import import LegacyImport, adopt_payment
from .payments import apply_payment
from .razorpay_gateway import RazorpayGateway
from .refunds import apply_refund, refund_state

log = logging.getLogger(__name__)
MAX_WINDOW = timedelta(days=400)
# The range Razorpay's list APIs accept for from/to (unix 946684800..4765046400).
RAZORPAY_EARLIEST = datetime.fromtimestamp(946_684_800, UTC)
RAZORPAY_LATEST = datetime.fromtimestamp(4_765_046_400, UTC)


@dataclass
class ReconcileReport:
    """Counts of one pass; re-running a pass reports everything as unchanged."""

    seen: int = 0
    adopted: int = 0
    updated: int = 0
    unchanged: int = 0
    unmatched: int = 0
    errors: int = 0
    would_adopt: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return asdict(self)

    def counts(self) -> dict[str, int]:
        """The counters alone (for metrics)."""
        return {k: v for k, v in asdict(self).items() if isinstance(v, int)}


def reconcile_window(
    db: Database,
    gateway: RazorpayGateway,
    start: datetime,
    end: datetime,
    legacy: LegacyImport | None = None,
) -> ReconcileReport:
    """Apply every Razorpay payment created in [start, end]; adopt old-site ones if asked.

    Raises ValidationFailed for an empty or over-long window, GatewayError when Razorpay
    cannot be listed at all. A payment that fails to apply is counted, logged and skipped.
    """
    if not start < end or end - start > MAX_WINDOW:
        raise ValidationFailed(
            "the window must run forwards and span at most 400 days", field="from"
        )
    if start < RAZORPAY_EARLIEST or end > RAZORPAY_LATEST:
        raise ValidationFailed(
            "Razorpay lists only times from 2000-01-01 to 2121-01-01",
            field="from" if start < RAZORPAY_EARLIEST else "to",
        )
    report = ReconcileReport()
    for entity in gateway.iter_payments(int(start.timestamp()), int(end.timestamp())):
        report.seen += 1
        try:
            _reconcile_payment(db, entity, legacy, report)
        except (GatewayError, NotFound, ValueError, KeyError) as exc:
            report.errors += 1
            log.warning("reconcile: payment %s skipped (%s)", entity.get("id"), type(exc).__name__)
    for entity in gateway.iter_refunds(int(start.timestamp()), int(end.timestamp())):
        report.seen += 1
        try:
            _reconcile_refund(db, entity, report)
        except (GatewayError, ValueError, KeyError) as exc:
            report.errors += 1
            log.warning("reconcile: refund %s skipped (%s)", entity.get("id"), type(exc).__name__)
    log.info("reconcile %s..%s: %s", start.isoformat(), end.isoformat(), report.as_dict())
    return report


def heal_open_orders(
    db: Database, gateway: RazorpayGateway, older_than: timedelta, limit: int = 100
) -> ReconcileReport:
    """Worker pass: ask Razorpay about orders still created/attempted after ``older_than``."""
    now = datetime.now(UTC)
    with db.transaction() as cur:
        open_orders = orders_sql.claim_open(
            cur, created_before=now - older_than, created_after=now - timedelta(days=7), limit=limit
        )
    report = ReconcileReport()
    for order in open_orders:
        try:
            payments = gateway.order_payments(order.razorpay_order_id)
        except GatewayError:
            report.errors += 1
            continue
        for entity in payments:
            report.seen += 1
            outcome = apply_payment(db, entity, actor="reconcile")
            _count(report, outcome.changed)
    return report


def _reconcile_payment(
    db: Database, entity: dict[str, Any], legacy: LegacyImport | None, report: ReconcileReport
) -> None:
    with db.transaction() as cur:
        is_ours = orders_sql.get_by_razorpay_id(cur, str(entity.get("order_id"))) is not None
    if is_ours:
        _count(report, apply_payment(db, entity, actor="reconcile").changed)
    elif legacy is None:
        report.unmatched += 1
    else:
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
    _count(report, before != (after.status, after.amount))


def _count(report: ReconcileReport, changed: bool) -> None:
    if changed:
        report.updated += 1
    else:
        report.unchanged += 1
