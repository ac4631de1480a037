"""The sandbox clock: the real time plus an offset that only moves forward.

There is one per sandbox (``SandboxState.clock``). Payment links (creation, expiry, their
payments) and subscriptions (their times, and the orders, invoices and payments of their
charges) read it; orders and payments made through ``/v1/orders`` and Checkout keep the real
time. ``POST /_sandbox/clock/advance`` moves it and does what became due (schedule.py); a
reset rewinds it; the state file keeps its offset (persistence.py).
"""

from __future__ import annotations

from .entities import now


class Clock:
    """Unix seconds: the real time moved on by every ``advance`` since the last ``rewind``."""

    def __init__(self) -> None:
        self.offset = 0

    def now(self) -> int:
        """The sandbox's current time, in Unix seconds."""
        return now() + self.offset

    def advance(self, seconds: int) -> None:
        """Move forward by ``seconds`` (never back)."""
        self.offset += max(seconds, 0)

    def rewind(self) -> None:
        """Go back to the real time."""
        self.offset = 0
