"""Opaque cursors for newest-first lists ordered by (timestamp, id)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from .bounded_json import unstorable_text
from .errors import ValidationFailed

T = TypeVar("T")


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
    """A cursor pointing just after the item with this (timestamp, id)."""
    raw = f"{at.isoformat()}|{item_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Read a cursor made by encode_cursor. Raises ValidationFailed for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, item_id = raw.split("|", 1)
        if unstorable_text(item_id):  # ours never are; PostgreSQL could not even compare it
            raise ValueError(item_id)
        return datetime.fromisoformat(at), item_id
    except ValueError:
        raise ValidationFailed("cursor is not one this service issued", field="cursor") from None
