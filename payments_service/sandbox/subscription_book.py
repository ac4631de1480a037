"""Where a sandbox keeps its plans, subscriptions and their invoices.

Their times are read from the sandbox clock (clock.py) the book is given, the same one
payment links run on: ``POST /_sandbox/clock/advance`` moves it, to make renewals, retries,
cycle-end cancellations and expiries happen now instead of in a month.

The book lives on SandboxState and is changed only inside its transactions; the state file
keeps it under the ``subscriptions`` key (``snapshot`` and ``restore``), and the clock's
offset beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any, TypeVar

from .clock import Clock
from .entities import ID_ALPHABET, ID_LENGTH
from .errors import NO_SUCH_ID, invalid_request
from .plans import Plan
from .subscription_entities import Invoice, Subscription

RecordT = TypeVar("RecordT", Plan, Subscription, Invoice)


class SubscriptionBook:
    """Plans, subscriptions and invoices by id (oldest first), and the clock they run on."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.plans: dict[str, Plan] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.invoices: dict[str, Invoice] = {}

    def now(self) -> int:
        """The sandbox clock's time, in Unix seconds."""
        return self.clock.now()

    def clear(self) -> None:
        """Forget everything (the clock is the state's to rewind)."""
        self.plans.clear()
        self.subscriptions.clear()
        self.invoices.clear()

    def plan(self, plan_id: str) -> Plan:
        """Return the plan or raise Razorpay's unknown-id error."""
        return _lookup(self.plans, plan_id, "plan_")

    def subscription(self, subscription_id: str) -> Subscription:
        """Return the subscription or raise Razorpay's unknown-id error."""
        return _lookup(self.subscriptions, subscription_id, "sub_")

    def invoice(self, invoice_id: str) -> Invoice:
        """Return the invoice or raise Razorpay's unknown-id error."""
        return _lookup(self.invoices, invoice_id, "inv_")

    def invoices_of(self, subscription_id: str) -> list[Invoice]:
        """A subscription's invoices, oldest first."""
        return [bill for bill in self.invoices.values() if bill.subscription_id == subscription_id]

    def snapshot(self) -> dict[str, Any]:
        """Everything in the book as JSON-ready values, for the state file."""
        return {
            "plans": [asdict(plan) for plan in self.plans.values()],
            "subscriptions": [asdict(item) for item in self.subscriptions.values()],
            "invoices": [asdict(bill) for bill in self.invoices.values()],
        }

    def restore(self, document: Any) -> None:
        """Load what ``snapshot`` wrote (None, from a file of an older sandbox: nothing).
        A ``clock_offset`` in it, from a sandbox whose subscriptions had a clock of their own,
        is the state file's to read (persistence.py).

        Raises ValueError for anything else.
        """
        if document is None:
            return
        if not isinstance(document, dict):
            raise ValueError("subscriptions that are not an object")
        plans = [_record(Plan, item) for item in document["plans"]]
        subscriptions = [_record(Subscription, item) for item in document["subscriptions"]]
        invoices = [_record(Invoice, item) for item in document["invoices"]]
        plan_ids = {plan.id for plan in plans}
        subscription_ids = {item.id for item in subscriptions}
        if any(item.plan_id not in plan_ids for item in subscriptions):
            raise ValueError("a subscription of an unknown plan")
        if any(bill.subscription_id not in subscription_ids for bill in invoices):
            raise ValueError("an invoice of an unknown subscription")
        self.plans.update((plan.id, plan) for plan in plans)
        self.subscriptions.update((item.id, item) for item in subscriptions)
        self.invoices.update((bill.id, bill) for bill in invoices)


def _record(kind: type[RecordT], item: Any) -> RecordT:
    """``kind`` built from an object holding exactly its fields."""
    names = {field.name for field in fields(kind)}
    if not isinstance(item, dict) or set(item) != names:
        raise ValueError(f"a {kind.__name__.lower()} without exactly the fields {sorted(names)}")
    return kind(**item)


def _lookup(entities: Mapping[str, RecordT], entity_id: str, prefix: str) -> RecordT:
    """Find an entity by id, answering malformed and unknown ids as Razorpay does."""
    found = entities.get(entity_id)
    if found is not None:
        return found
    bare_id = entity_id.removeprefix(prefix)
    well_formed = len(bare_id) == ID_LENGTH and all(char in ID_ALPHABET for char in bare_id)
    if not entity_id.startswith(prefix) or not well_formed:
        raise invalid_request(f"{entity_id} is not a valid id")
    raise invalid_request(NO_SUCH_ID)
