"""The sandbox's deliberate misbehaviour: seeded random choices for the chaos knobs."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from enum import Enum
from typing import TypeVar

from .config import SandboxConfig

ItemT = TypeVar("ItemT")

FAILURE_STATUSES = (500, 502, 504)


class ApiFault(Enum):
    """What happens to an API call instead of being served."""

    FAILURE = "failure"
    TIMEOUT = "timeout"
    LATE_ANSWER = "late_answer"


class Chaos:
    """Draws every random choice of one sandbox instance from the generator it owns.

    The generator is seeded with ``config.seed`` so tests can repeat a run; it decides
    misbehaviour only; ids and signatures use ``secrets``.
    """

    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._random = random.Random(config.seed)  # noqa: S311 - repeatable on purpose
        self._closing = threading.Event()

    def reseed(self) -> None:
        """Restart the random sequence from the configured seed."""
        with self._lock:
            self._random.seed(self._config.seed)

    def api_fault(self) -> ApiFault | None:
        """Choose whether an API call fails, times out, is answered late, or (None) is served.

        One draw per call: below ``api_failure_rate`` it fails, below that plus
        ``api_timeout_rate`` it times out, below those plus ``api_late_answer_rate`` its
        answer comes late.
        """
        config = self._config
        rates = (
            (ApiFault.FAILURE, config.api_failure_rate),
            (ApiFault.TIMEOUT, config.api_timeout_rate),
            (ApiFault.LATE_ANSWER, config.api_late_answer_rate),
        )
        if not any(rate for _, rate in rates):
            return None
        roll = self._draw()
        bound = 0.0
        for fault, rate in rates:
            bound += rate
            if roll < bound:
                return fault
        return None

    def failure_status(self) -> int:
        """The HTTP status of a failed call: 500, 502 or 504, equally likely."""
        with self._lock:
            return self._random.choice(FAILURE_STATUSES)

    def is_dropped(self) -> bool:
        """Whether an event is never delivered, for ``webhook_drop_rate`` of events."""
        rate = self._config.webhook_drop_rate
        return bool(rate) and self._draw() < rate

    def delivery_order(self, items: Sequence[ItemT]) -> list[ItemT]:
        """``items`` in a random order when ``webhook_shuffle`` is on, else as given."""
        ordered = list(items)
        if self._config.webhook_shuffle and len(ordered) > 1:
            with self._lock:
                self._random.shuffle(ordered)
        return ordered

    def hang(self, milliseconds: int) -> None:
        """Wait as a stuck upstream would, but no longer than until ``close()``."""
        self._closing.wait(milliseconds / 1000)

    def close(self) -> None:
        """End every hang now, so that stopping the sandbox never waits for one."""
        self._closing.set()

    def _draw(self) -> float:
        """The next number in [0, 1) from the instance's generator."""
        with self._lock:
            return self._random.random()
