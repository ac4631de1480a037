"""The subscription state machine: one function that verify, webhooks, our own actions and
reconciliation all go through, in the caller's transaction, with the subscription locked.

Razorpay's statuses are not a line (active -> pending -> active, active -> paused ->
active), so "forward" is decided by what only grows: ``paid_count``, then, within one
cycle, ``auth_attempts`` (the failed tries at its charge); at an equal count the later
step of a cycle wins (authenticated < active/paused < pending < halted). cancelled,
completed and expired are final. Replayed, reordered and duplicated reports therefore
leave the one state the latest of them describes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ..db import Cursor
from ..db import subscriptions as sql
from ..db.subscriptions import State, Subscription
from . import access

FINAL = ("cancelled", "completed", "expired")
_STEP = {
    "creating": -2,
    "created": -1,
    "authenticated": 0,
    "active": 1,
    "paused": 1,
    "pending": 2,
    "halted": 3,
}
_BEFORE_ACTIVE = ("creating", "created", "authenticated", "pending", "halted")
# What sites are told of a move into a status.
_ANNOUNCED = {"halted": "subscription.halted", "cancelled": "subscription.cancelled"}


@dataclass(frozen=True)
class Change:
    """A change of the subscription's state to apply: Razorpay's entity (None: only what
    ``cancel_at_cycle_end`` says), and who reports it."""

    entity: dict[str, Any] | None
    actor: str
    cancel_at_cycle_end: bool | None = None


def apply_change_in(
    cur: Cursor, sub: Subscription, change: Change, during_pending: bool
) -> Subscription:
    """Merge ``change`` into the locked subscription, record who made it, then make access
    follow the status and tell the selling site. Returns the subscription as stored."""
    state = _state_of(sub)
    if change.entity is not None:
        state = merge(state, change.entity)
    if change.cancel_at_cycle_end is not None and state.status not in FINAL:
        state = replace(state, cancel_at_cycle_end=change.cancel_at_cycle_end)
    if state == _state_of(sub):
        access.follow(cur, sub, change.actor, during_pending)
        return sub
    now = sql.set_state(cur, sub.id, state, change.actor)
    if now.status != sub.status or now.cancel_at_cycle_end != sub.cancel_at_cycle_end:
        detail = "cancel at cycle end" if now.cancel_at_cycle_end else None
        sql.add_change(cur, sub.id, sub.status, now.status, change.actor, detail)
    access.follow(cur, now, change.actor, during_pending)
    _announce(cur, sub, now)
    return now


def merge(current: State, entity: dict[str, Any]) -> State:
    """What we hold after Razorpay reports ``entity``: it wins unless it is older."""
    status = str(entity.get("status"))
    if status not in _STEP and status not in FINAL:
        raise ValueError(f"unknown subscription status {status!r}")
    if current.status in FINAL or not _is_newer(current, entity, status):
        return current
    return State(
        status=status,
        current_start=_time(entity.get("current_start")) or current.current_start,
        current_end=_time(entity.get("current_end")) or current.current_end,
        charge_at=_time(entity.get("charge_at")),
        paid_count=max(int(entity.get("paid_count") or 0), current.paid_count),
        auth_attempts=int(entity.get("auth_attempts") or 0),
        cancel_at_cycle_end=current.cancel_at_cycle_end and status not in FINAL,
        ended_at=_time(entity.get("ended_at")) if status in FINAL else None,
    )


def _is_newer(current: State, entity: dict[str, Any], status: str) -> bool:
    if status in FINAL:
        return True
    paid = int(entity.get("paid_count") or 0)
    attempts = int(entity.get("auth_attempts") or 0)
    if paid != current.paid_count:
        return paid > current.paid_count
    if status in ("active", "paused") and current.status in ("pending", "halted"):
        return False  # the same cycle's charge failed after this report
    if attempts != current.auth_attempts:
        return attempts > current.auth_attempts
    return _STEP[status] >= _STEP[current.status]


def _state_of(sub: Subscription) -> State:
    return State(
        status=sub.status,
        current_start=sub.current_start,
        current_end=sub.current_end,
        charge_at=sub.charge_at,
        paid_count=sub.paid_count,
        auth_attempts=sub.auth_attempts,
        cancel_at_cycle_end=sub.cancel_at_cycle_end,
        ended_at=sub.ended_at,
    )


def _time(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return datetime.fromtimestamp(value, UTC)


def _announce(cur: Cursor, before: Subscription, now: Subscription) -> None:
    if now.status == before.status:
        return
    if now.status == "active" and before.status in _BEFORE_ACTIVE:
        access.notify(cur, now, "subscription.activated", None)
    elif now.status in _ANNOUNCED:
        access.notify(cur, now, _ANNOUNCED[now.status], None)
