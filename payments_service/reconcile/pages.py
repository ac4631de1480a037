"""Applying reconciliation's pages: a page of up to 100 Razorpay payments per transaction,
payments we already hold unchanged skipped without locks, two pages applied while the next
one is fetched. reconcile.py walks the window; this module does the database side."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from ..db import Cursor, Database, DeadlockDetected
from ..db import orders as orders_sql
from ..db import payments as payments_sql
from ..db.orders import Order
from ..payments.apply import PaymentFact, PaymentOutcome, apply_to_locked_orders, is_recorded

log = logging.getLogger(__name__)
Entity = dict[str, Any]
APPLIERS = 2  # pages applied at once, so our work and the database's overlap
DEADLOCK_ATTEMPTS = 3


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


def applied_as_fetched(
    db: Database, pages: Iterator[list[Entity]]
) -> Generator[tuple[ReconcileReport, list[Entity]]]:
    """Apply pages while the next ones are fetched, APPLIERS at a time, each in its own
    transaction; yields what each page counted and its payments of orders not ours, in
    page order.

    Each page transaction locks all its orders at once, in id order, and a batch's grants
    go in (email, SKU) order, so two pages applied at once wait for each other in turn
    rather than in a cycle.
    """
    appliers = ThreadPoolExecutor(APPLIERS, thread_name_prefix="reconcile")
    try:
        applying: deque[Future[tuple[ReconcileReport, list[Entity]]]] = deque()
        for page in pages:
            applying.append(appliers.submit(_reconcile_page, db, page))
            if len(applying) > APPLIERS:
                yield applying.popleft().result()
        while applying:
            yield applying.popleft().result()
    finally:  # on a failure, pages not yet started are not applied at all
        appliers.shutdown(cancel_futures=True)


def _reconcile_page(db: Database, page: list[Entity]) -> tuple[ReconcileReport, list[Entity]]:
    """_apply_page, tried again when PostgreSQL broke a deadlock by rolling it back (two
    pages crossing one customer's orders in a rare order can still deadlock)."""
    for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
        try:
            return _apply_page(db, page)
        except DeadlockDetected:
            if attempt == DEADLOCK_ATTEMPTS:
                raise
            log.warning("reconcile: a page deadlocked (attempt %d); trying it again", attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _apply_page(db: Database, page: list[Entity]) -> tuple[ReconcileReport, list[Entity]]:
    """Apply a page's payments of our orders in one transaction; returns what it counted
    and the page's payments of orders that are not ours.

    Payments we already hold as Razorpay reports them are counted unchanged without taking
    any lock. The orders of the others are locked together, in id order and before anything
    is written (a concurrent verify or webhook, which locks one order, can then never wait
    for us in a cycle); then the state machine applies them, an order's payments in page
    order, each table written once per batch rather than once per payment.
    """
    counted = ReconcileReport(seen=len(page))
    with db.transaction() as cur:
        stale = _skip_recorded(cur, page, counted)
        orders = {
            str(order.razorpay_order_id): order
            for order in orders_sql.lock_by_razorpay_ids(cur, _order_ids(stale))
        }
        ours = [entity for entity in stale if str(entity.get("order_id")) in orders]
        if ours:
            _apply_ours(cur, orders, ours, counted)
    return counted, [entity for entity in stale if str(entity.get("order_id")) not in orders]


def _skip_recorded(cur: Cursor, page: list[Entity], report: ReconcileReport) -> list[Entity]:
    """Count the payments we hold just as Razorpay reports them (read without locking);
    return the others: new, changed, malformed, or of orders that are not ours."""
    recorded = {
        payment.id: payment
        for payment in payments_sql.get_many(cur, [str(entity.get("id")) for entity in page])
    }
    held = [entity for entity in page if str(entity.get("id")) in recorded]
    orders = {
        order.razorpay_order_id: order
        for order in orders_sql.find_by_razorpay_ids(cur, _order_ids(held))
    }
    stale = []
    for entity in page:
        order = orders.get(str(entity.get("order_id")))
        existing = recorded.get(str(entity.get("id")))
        try:
            if order is not None and is_recorded(order, existing, entity):
                report.unchanged += 1
                continue
        except (ValueError, KeyError):
            pass  # malformed: the state machine will refuse it, or it is not ours
        stale.append(entity)
    return stale


def _apply_ours(
    cur: Cursor, orders: dict[str, Order], entities: list[Entity], report: ReconcileReport
) -> None:
    """Apply payments of orders this transaction has locked (``orders``, by Razorpay id)."""
    recorded = {
        payment.id: payment
        for payment in payments_sql.get_many(cur, [str(entity.get("id")) for entity in entities])
    }
    for batch in _one_per_order(entities):
        facts = [
            PaymentFact(
                orders[str(entity["order_id"])], recorded.get(str(entity.get("id"))), entity
            )
            for entity in batch
        ]
        for outcome in _apply_batch(cur, facts, report):
            # The order's next payment in this page sees what this one changed.
            orders[str(outcome.order.razorpay_order_id)] = outcome.order
            recorded[outcome.payment.id] = outcome.payment
            count(report, outcome.changed)


def _apply_batch(
    cur: Cursor, facts: list[PaymentFact], report: ReconcileReport
) -> list[PaymentOutcome]:
    try:
        return apply_to_locked_orders(cur, facts, actor="reconcile")
    except (ValueError, KeyError) as exc:  # raised before anything was written
        if len(facts) == 1:
            skipped(report, facts[0].entity, type(exc).__name__)
            return []
    # One of them is malformed: apply each on its own, so only that one is skipped.
    return [outcome for fact in facts for outcome in _apply_batch(cur, [fact], report)]


def _one_per_order(entities: list[Entity]) -> list[list[Entity]]:
    """Split payments into batches holding at most one payment per order; an order's
    payments stay in page order."""
    batches: list[list[Entity]] = []
    seen: dict[str, int] = {}
    for entity in entities:
        order_id = str(entity["order_id"])
        index = seen[order_id] = seen.get(order_id, -1) + 1
        if index == len(batches):
            batches.append([])
        batches[index].append(entity)
    return batches


def _order_ids(entities: list[Entity]) -> list[str]:
    return sorted({str(entity.get("order_id")) for entity in entities})


def skipped(report: ReconcileReport, entity: Entity, reason: str) -> None:
    report.errors += 1
    log.warning("reconcile: payment %s skipped (%s)", entity.get("id"), reason)


def count(report: ReconcileReport, changed: bool) -> None:
    if changed:
        report.updated += 1
    else:
        report.unchanged += 1
