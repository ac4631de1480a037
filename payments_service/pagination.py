"""Cursors for newest-first lists ordered by (timestamp, id).

A cursor is a position in the list, not a token: clients treat it as opaque, but any string
of its documented form names a position, and the next page is what follows it, whether or
not an item sits there. So every cursor the document allows is answered (no "cursor not
issued" refusal for a well-formed one), and what it does not allow is a 422.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from .errors import ValidationFailed

T = TypeVar("T")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# openapi.yaml's Cursor. 16 digits of microseconds reach the year 2286, within what both
# Python and PostgreSQL hold; ids are ours (``ord_…``), Razorpay's (``pay_…``) or a webhook
# event's (``[A-Za-z0-9_.:-]{1,100}``); so never a NUL or text PostgreSQL cannot compare.
CURSOR = re.compile(r"(?P<at>[0-9]{1,16})\.(?P<id>[A-Za-z0-9_.:-]{1,100})")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the cursor of the next page (None at the end)."""

    items: list[T]
    next_cursor: str | None


def page_of(rows: list[T], limit: int, position: Callable[[T], tuple[datetime, str]]) -> Page[T]:
    """Cut ``rows`` (fetched with ``limit + 1``) to a page; a cursor only if more follow."""
    if len(rows) <= limit:
        return Page(rows, None)
    return Page(rows[:limit], encode_cursor(*position(rows[limit - 1])))


def encode_cursor(at: datetime, item_id: str) -> str:
    """A cursor pointing just after the item with this (timestamp, id): ``<µs>.<id>``, the
    timestamp in whole microseconds since the Unix epoch (exact: PostgreSQL keeps µs)."""
    return f"{(at - EPOCH) // MICROSECOND}.{item_id}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a cursor names. Any string of the cursor's form names one, issued or
    not (the page is what follows it); raises ValidationFailed for anything else."""
    found = CURSOR.fullmatch(cursor)
    if found is None:
        raise ValidationFailed(
            "cursor is not a next_cursor of this list (digits, a '.', then an id)",
            field="cursor",
        )
    return EPOCH + int(found["at"]) * MICROSECOND, found["id"]
