"""What the sandbox clock makes happen: link expiries and subscription billing, in time order.

``advance`` moves the clock and then does, earliest first, everything it passed: each
payable link whose ``expire_by`` (or six-month limit) came (``payment_link.expired``) and
each subscription's due step (billing.py: charges, retries, halted cycles, scheduled
updates, cycle-end cancellations, expiries). A link and a subscription due at the same
second go link first. The API routes of each kind also catch their own kind up on every
call (link_api.py, subscription_api.py), so a clock that real time moved on is honoured too.
"""

from __future__ import annotations

from .billing import act, next_due
from .link_flow import expire_link, expires_at, next_expiring
from .state import Transaction

MAX_STEPS = 100_000


def advance(transaction: Transaction, seconds: int) -> None:
    """Catch up with the present, move the clock forward by ``seconds`` and do what it
    passed, in time order."""
    run_due(transaction)
    transaction.state.clock.advance(seconds)
    run_due(transaction)


def run_due(transaction: Transaction) -> None:
    """Do everything the clock has reached, earliest first: link expiries and billing."""
    state = transaction.state
    book = state.subscriptions
    until = state.now()
    for _ in range(MAX_STEPS):
        link = next_expiring(state, until)
        billing = next_due(book, until)
        if link is None and billing is None:
            return
        if link is not None and (billing is None or expires_at(link) <= billing[0]):
            expire_link(transaction, link)
        elif billing is not None:
            act(transaction, book, billing[1], billing[0])
