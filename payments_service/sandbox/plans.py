"""Razorpay Plans: a price (an item) billed every ``interval`` ``period``s, and the calendar
arithmetic of billing cycles."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .entities import Notes, new_id, notes_json
from .errors import invalid_request
from .validation import parse_currency, parse_notes, reject_unknown, required

PLAN_FIELDS = frozenset({"period", "interval", "item", "notes"})
ITEM_FIELDS = frozenset({"name", "amount", "currency", "description"})
MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "yearly": 12}
DAYS_PER_PERIOD = {"daily": 1, "weekly": 7}
PERIODS = ("daily", "weekly", "monthly", "quarterly", "yearly")
MIN_DAILY_INTERVAL = 7
MIN_PLAN_AMOUNT = 100
SECONDS_PER_DAY = 86_400


@dataclass
class Plan:
    """A plan; its item's fields are kept flat (``item_*``), as the state file stores them."""

    id: str
    period: str
    interval: int
    item_id: str
    item_name: str
    item_description: str | None
    amount: int
    currency: str
    notes: Notes
    created_at: int

    def to_json(self) -> dict[str, Any]:
        """Return the plan as Razorpay serialises it."""
        return {
            "id": self.id,
            "entity": "plan",
            "interval": self.interval,
            "period": self.period,
            "item": self._item_json(),
            "notes": notes_json(self.notes),
            "created_at": self.created_at,
        }

    def _item_json(self) -> dict[str, Any]:
        return {
            "id": self.item_id,
            "active": True,
            "name": self.item_name,
            "description": self.item_description,
            "amount": self.amount,
            "unit_amount": self.amount,
            "currency": self.currency,
            "type": "plan",
            "unit": None,
            "tax_inclusive": False,
            "hsn_code": None,
            "sac_code": None,
            "tax_rate": None,
            "tax_id": None,
            "tax_group_id": None,
            "created_at": self.created_at,
            "updated_at": self.created_at,
        }

    def cycle_boundary(self, anchor: int, cycles: int) -> int:
        """The moment ``cycles`` billing cycles after ``anchor`` (Unix seconds, UTC calendar;
        a month-end anchor keeps to the last day of shorter months)."""
        if self.period in DAYS_PER_PERIOD:
            return anchor + cycles * self.interval * DAYS_PER_PERIOD[self.period] * SECONDS_PER_DAY
        months = cycles * self.interval * MONTHS_PER_PERIOD[self.period]
        start = datetime.fromtimestamp(anchor, UTC)
        years, month_index = divmod(start.month - 1 + months, 12)
        year, month = start.year + years, month_index + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return int(start.replace(year=year, month=month, day=day).timestamp())


def create_plan(body: Mapping[str, Any], at: int) -> Plan:
    """Validate a plan-create body (Razorpay's rules and wording) and build the plan."""
    reject_unknown(body, PLAN_FIELDS)
    period = required(body, "period")
    if period not in PERIODS:
        raise invalid_request("The selected period is invalid.", field="period")
    interval = _interval(required(body, "interval"), period)
    item = required(body, "item")
    if not isinstance(item, dict):
        raise invalid_request("The item must be an array.", field="item")
    reject_unknown(item, ITEM_FIELDS)
    name = required(item, "name")
    if not isinstance(name, str):
        raise invalid_request("The name must be a string.", field="name")
    description = item.get("description")
    if description is not None and not isinstance(description, str):
        raise invalid_request("The description must be a string.", field="description")
    currency = parse_currency(required(item, "currency"))
    return Plan(
        id=new_id("plan_"),
        period=period,
        interval=interval,
        item_id=new_id("item_"),
        item_name=name,
        item_description=description,
        amount=_plan_amount(required(item, "amount"), currency),
        currency=currency,
        notes=parse_notes(body.get("notes")),
        created_at=at,
    )


def _interval(value: Any, period: str) -> int:
    """A whole number of periods between charges: at least 1, and at least 7 days."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_request("The interval must be an integer.", field="interval")
    if value < 1:
        raise invalid_request("The interval must be at least 1.", field="interval")
    if period == "daily" and value < MIN_DAILY_INTERVAL:
        raise invalid_request(
            f"The interval must be at least {MIN_DAILY_INTERVAL} for a daily period.",
            field="interval",
        )
    return value


def _plan_amount(value: Any, currency: str) -> int:
    """The item amount in subunits, an integer of at least 100."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_request("The amount must be an integer.", field="amount")
    if value < MIN_PLAN_AMOUNT:
        raise invalid_request(f"The amount must be at least {currency} 1.00.", field="amount")
    return value
