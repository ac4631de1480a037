"""The cursor every block of db/ gets: dict rows by default, tuples on request, the
Razorpay mode of its block, and a transaction's BEGIN sent with its first statement."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import psycopg2.extensions
from psycopg2.extras import RealDictCursor

Mode = Literal["test", "live"]


class Cursor(RealDictCursor):  # type: ignore[misc]
    """A cursor whose rows are dicts; in ``Database.transaction`` it may ``discard`` the
    transaction's work, rolled back at the end of the block instead of committed.

    ``mode`` is the Razorpay mode ("test" or "live") the block works in: every row it
    writes is stamped with it and every read it makes is limited to it.

    In a transaction, the BEGIN (with its SET LOCAL) is not sent on its own: it goes in
    one string with the block's first statement, which saves the server and us a round
    trip per transaction (the server runs them in order and returns the last one's result).
    Hot paths read rows as plain tuples (``fetch_tuples``): a dict row costs a Python call
    per column, a tuple none.
    """

    discarded = False
    mode: Mode = "test"
    # The transaction's BEGIN while it is still to be sent with the first statement; whether
    # it was sent (so the block has a transaction to end).
    _pending_begin: str | None = None
    began = False
    # How many more statements the block may send (Database.one_statement), if limited.
    statements_left: int | None = None
    row_factory: Any  # psycopg2's: None builds tuples

    def discard(self) -> None:
        """Roll this transaction back when its block ends (what it wrote turned out moot)."""
        self.discarded = True

    def defer_begin(self, begin: str) -> None:
        """Send ``begin`` (SQL without parameters) ahead of the next statement."""
        self._pending_begin = begin

    def execute(self, query: Any, vars: Any = None) -> None:
        self._count_statement()
        begin = self._pending_begin
        if begin is not None:
            self._pending_begin = None
            self.began = True  # before sending: a failed first statement leaves it to end
            if isinstance(query, bytes):
                query = begin.encode() + b"; " + query
            elif isinstance(query, str):
                query = begin + "; " + query
            else:  # a psycopg2.sql composition: the BEGIN goes first, on its own
                super().execute(begin)
        super().execute(query, vars)

    def executemany(self, query: Any, vars_list: Any) -> None:
        if self.statements_left is not None:  # many statements, each its own transaction
            raise RuntimeError("this block may send one statement only")
        begin = self._pending_begin
        if begin is not None:  # one statement per parameter set: the BEGIN goes on its own
            self._pending_begin = None
            self.began = True
            super().execute(begin)
        super().executemany(query, vars_list)

    def _count_statement(self) -> None:
        if self.statements_left is not None:
            if self.statements_left <= 0:
                raise RuntimeError("this block may send one statement only")
            self.statements_left -= 1

    def fetch_tuples(self) -> list[tuple[Any, ...]]:
        """The rest of the last statement's rows as plain tuples, in its column order."""
        factory = self.row_factory
        self.row_factory = None  # psycopg2 then builds tuples, in C
        try:
            rows: list[tuple[Any, ...]] = _PlainCursor.fetchall(self)
        finally:
            self.row_factory = factory
        return rows


_PlainCursor = psycopg2.extensions.cursor


def columns_of(cls: Any) -> str:
    """The SQL column list of a row dataclass: its fields, in order, so ``cls(*row)`` of a
    tuple row read with it fills each field from its own column."""
    return ", ".join(field.name for field in dataclasses.fields(cls))
