"""The sandbox's in-memory world: entities, the refund idempotency keys, the clock, one lock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .config import SandboxConfig
from .entities import ID_ALPHABET, ID_LENGTH, Order, Payment, Refund, now
from .errors import NO_SUCH_ID, invalid_request
from .links import LINK_PREFIX, PaymentLink
from .timeline import Timeline
from .webhooks import Event, build_event

Publisher = Callable[[list[Event]], None]
Saver = Callable[["SandboxState"], None]
EntityT = TypeVar("EntityT", Order, Payment, Refund)


@dataclass(frozen=True)
class IdempotentRefund:
    """The request a refund idempotency key was first used with, and the refund it made."""

    request: str
    refund_id: str


@dataclass
class Ledger:
    """Money totals of one currency, in subunits."""

    captured: int = 0
    refunded: int = 0
    fees: int = 0

    def to_json(self) -> dict[str, int]:
        """Totals plus the merchant's net balance (captured less fees and refunds)."""
        return {
            "captured": self.captured,
            "refunded": self.refunded,
            "fees": self.fees,
            "balance": self.captured - self.fees - self.refunded,
        }


@dataclass
class Transaction:
    """What one locked change may touch: the state, the config, and events to publish after."""

    state: SandboxState
    config: SandboxConfig
    events: list[Event] = field(default_factory=list)

    def emit(self, name: str, **entities: dict[str, Any]) -> None:
        """Queue a webhook event carrying snapshots of ``entities`` taken now."""
        self.events.append(build_event(self.config, name, entities))


class SandboxState:
    """All entities of one sandbox instance, guarded by a single re-entrant lock.

    Payments and refunds are added through ``add_payment`` and ``add_refund``, which also
    keep them in creation order (for the list endpoints) and by the entity they belong to.
    Every change is made in ``transaction()`` (or by ``reset()``); a saver given to
    ``save_changes_with`` is called after each, still under the lock (persistence.py).
    """

    def __init__(self, config: SandboxConfig, publish: Publisher) -> None:
        self.config = config
        self.orders: dict[str, Order] = {}
        self.payment_links: dict[str, PaymentLink] = {}
        self.clock_offset = 0
        self.refund_keys: dict[str, IdempotentRefund] = {}
        self.payment_timeline: Timeline[Payment] = Timeline()
        self.refund_timeline: Timeline[Refund] = Timeline()
        self._payments: dict[str, Payment] = {}
        self._refunds: dict[str, Refund] = {}
        self._payments_by_order: dict[str, list[Payment]] = {}
        self._refunds_by_payment: dict[str, list[Refund]] = {}
        self._publish = publish
        self._save: Saver | None = None
        self._lock = threading.RLock()
        self._refund_keys_in_progress: set[str] = set()

    def now(self) -> int:
        """The sandbox clock in Unix seconds: real time plus what ``POST /_sandbox/clock``
        has added. Payment links (creation, expiry) and their payments run on it."""
        return now() + self.clock_offset

    @property
    def payments(self) -> Mapping[str, Payment]:
        """Every payment by id, oldest first."""
        return self._payments

    @property
    def refunds(self) -> Mapping[str, Refund]:
        """Every refund by id, oldest first."""
        return self._refunds

    def add_payment(self, payment: Payment) -> None:
        """Store a new payment."""
        self._payments[payment.id] = payment
        self.payment_timeline.add(payment)
        self._payments_by_order.setdefault(payment.order_id, []).append(payment)

    def add_refund(self, refund: Refund) -> None:
        """Store a new refund."""
        self._refunds[refund.id] = refund
        self.refund_timeline.add(refund)
        self._refunds_by_payment.setdefault(refund.payment_id, []).append(refund)

    def save_changes_with(self, save: Saver) -> None:
        """Call ``save`` after every successful transaction and reset, before any event goes out."""
        with self._lock:
            self._save = save

    def begin_refund_request(self, key: str) -> bool:
        """Note that a refund request with this idempotency key is being processed; False
        when another one with the key still is."""
        with self._lock:
            if key in self._refund_keys_in_progress:
                return False
            self._refund_keys_in_progress.add(key)
            return True

    def end_refund_request(self, key: str) -> None:
        """The refund request with this idempotency key has been answered."""
        with self._lock:
            self._refund_keys_in_progress.discard(key)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Hold the lock for a change, save it if a saver is set; publish its events after
        releasing the lock.

        Events are delivered outside the lock so a webhook receiver may call back into the
        sandbox. If the block raises, nothing is saved and its events are dropped.
        """
        with self._lock:
            transaction = Transaction(self, self.config)
            yield transaction
            if self._save is not None:
                self._save(self)
        if transaction.events:
            self._publish(transaction.events)

    @contextmanager
    def reading(self) -> Iterator[SandboxState]:
        """Hold the lock while reading several entities consistently."""
        with self._lock:
            yield self

    def reset(self) -> None:
        """Forget every entity and idempotency key."""
        with self._lock:
            self.orders.clear()
            self.payment_links.clear()
            self.clock_offset = 0
            self.refund_keys.clear()
            self._refund_keys_in_progress.clear()
            self.payment_timeline.clear()
            self.refund_timeline.clear()
            self._payments.clear()
            self._refunds.clear()
            self._payments_by_order.clear()
            self._refunds_by_payment.clear()
            if self._save is not None:
                self._save(self)

    def order(self, order_id: str) -> Order:
        """Return the order or raise Razorpay's unknown-id error."""
        return _lookup(self.orders, order_id, "order_")

    def payment(self, payment_id: str) -> Payment:
        """Return the payment or raise Razorpay's unknown-id error."""
        return _lookup(self.payments, payment_id, "pay_")

    def refund(self, refund_id: str) -> Refund:
        """Return the refund or raise Razorpay's unknown-id error."""
        return _lookup(self.refunds, refund_id, "rfnd_")

    def payment_link(self, link_id: str) -> PaymentLink:
        """Return the payment link or raise Razorpay's unknown or malformed id error."""
        found = self.payment_links.get(link_id)
        if found is not None:
            return found
        bare_id = link_id.removeprefix(LINK_PREFIX)
        if len(bare_id) != ID_LENGTH or not all(char in ID_ALPHABET for char in bare_id):
            raise invalid_request(f"invalid input [strippedId] = [{bare_id}]")
        raise invalid_request(NO_SUCH_ID)

    def payments_of(self, order_id: str) -> list[Payment]:
        """Payments attempted on an order, oldest first."""
        return list(self._payments_by_order.get(order_id, ()))

    def refunds_of(self, payment_id: str) -> list[Refund]:
        """Refunds of a payment, oldest first."""
        return list(self._refunds_by_payment.get(payment_id, ()))

    def ledger(self) -> dict[str, dict[str, int]]:
        """Totals per currency: captured amounts, their fees, and refunds not failed."""
        with self._lock:
            totals: dict[str, Ledger] = {}
            for payment in self.payments.values():
                if payment.is_captured:
                    ledger = totals.setdefault(payment.currency, Ledger())
                    ledger.captured += payment.amount
                    ledger.fees += payment.fee or 0
            for refund in self.refunds.values():
                if refund.status != "failed":
                    totals.setdefault(refund.currency, Ledger()).refunded += refund.amount
            return {currency: ledger.to_json() for currency, ledger in sorted(totals.items())}


def _lookup(entities: Mapping[str, EntityT], entity_id: str, prefix: str) -> EntityT:
    """Find an entity by id, answering malformed and unknown ids as Razorpay does."""
    found = entities.get(entity_id)
    if found is not None:
        return found
    if not entity_id.startswith(prefix):
        raise invalid_request(f"{entity_id} is not a valid id")
    bare_id = entity_id.removeprefix(prefix)
    if len(bare_id) != ID_LENGTH or not all(char in ID_ALPHABET for char in bare_id):
        raise invalid_request(f"{bare_id} is not a valid id")
    raise invalid_request(NO_SUCH_ID)
