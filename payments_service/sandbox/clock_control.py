"""The sandbox clock's control routes (no auth).

* ``GET /_sandbox/clock``: ``now`` (Unix seconds) and ``offset_seconds``, how far it is
  ahead of the real time.
* ``POST /_sandbox/clock/advance`` with ``seconds`` and/or ``days``, or ``to`` a Unix time:
  moves it forward (never back; a reset rewinds it) and does, in time order, everything it
  passed: link expiries and subscription billing (schedule.py). Answers the clock and the
  events that sent, in order.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .errors import invalid_request
from .extension import current_sandbox
from .schedule import advance
from .state import SandboxState
from .validation import json_body, reject_unknown

Json = dict[str, Any]

MAX_ADVANCE_SECONDS = 100 * 366 * 86_400
ADVANCE_FIELDS = (("seconds", 1), ("days", 86_400), ("to", 1))

clock_control = Blueprint("sandbox_clock", __name__, url_prefix="/_sandbox")


@clock_control.get("/clock")
def clock_show() -> Json:
    """The sandbox clock: its time and how far it is ahead of the real time."""
    with current_sandbox().state.reading() as state:
        return _clock(state)


@clock_control.post("/clock/advance")
def clock_advance() -> Json:
    """Move the clock forward and do what became due; answers the clock and the events."""
    body = json_body()
    reject_unknown(body, [name for name, _ in ADVANCE_FIELDS])
    with current_sandbox().state.transaction() as transaction:
        advance(transaction, _advance_seconds(body, transaction.state.now()))
        events = [{"id": event.id, "event": event.name} for event in transaction.events]
        return _clock(transaction.state) | {"events": events}


def _clock(state: SandboxState) -> Json:
    """The clock as the control API shows it."""
    return {"now": state.now(), "offset_seconds": state.clock.offset}


def _advance_seconds(body: Json, now: int) -> int:
    """How far to move the clock: ``seconds`` + ``days``, or up ``to`` a Unix time."""
    total = 0
    for name, unit in ADVANCE_FIELDS:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise invalid_request(f"The {name} must be a non-negative integer.", field=name)
        total += value - now if name == "to" else value * unit
    if not 0 <= total <= MAX_ADVANCE_SECONDS:
        raise invalid_request("The clock only moves forward, by at most 100 years.")
    return total
