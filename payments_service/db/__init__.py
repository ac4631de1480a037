"""Connection pool and the one transaction helper every capability uses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras
import psycopg2.pool
from psycopg2.extras import RealDictCursor as Cursor

__all__ = ["Cursor", "Database", "Row", "is_unique_violation"]

Row = dict[str, Any]


class Database:
    """A bounded pool of psycopg2 connections to one PostgreSQL database.

    Nothing session-scoped is set on connections (production runs behind PgBouncer in
    transaction mode): the statement timeout is applied per transaction with SET LOCAL.
    """

    def __init__(self, dsn: str, max_connections: int, statement_timeout_ms: int) -> None:
        self.dsn = dsn
        self._statement_timeout_ms = int(statement_timeout_ms)
        self._pool = psycopg2.pool.ThreadedConnectionPool(0, max_connections, dsn)
        # psycopg2's pool closes every returned connection beyond `minconn` idle ones, so
        # with minconn 0 each transaction would open a new session. Raising it after
        # construction keeps up to max_connections idle while still opening them lazily.
        self._pool.minconn = max_connections
        # ThreadedConnectionPool raises instead of waiting when exhausted; this makes
        # callers queue for a free connection instead.
        self._available = threading.BoundedSemaphore(max_connections)

    @contextmanager
    def transaction(self, snapshot: bool = False) -> Iterator[Cursor]:
        """Yield a cursor in a transaction: commit on success, roll back on any exception.

        ``snapshot=True`` makes every read in it see one consistent snapshot
        (REPEATABLE READ, set for this transaction only).
        """
        with self._available:
            conn = self._pool.getconn()
            broken = False
            try:
                with conn, conn.cursor(cursor_factory=Cursor) as cur:
                    if snapshot:
                        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    cur.execute(
                        "SELECT set_config('statement_timeout', %s, true)",
                        (str(self._statement_timeout_ms),),
                    )
                    yield cur
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                broken = True
                raise
            finally:
                self._pool.putconn(conn, close=broken or conn.closed != 0)

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.closeall()


def is_unique_violation(exc: BaseException, constraint: str) -> bool:
    """Tell whether ``exc`` is a unique violation of the named constraint or index."""
    return (
        isinstance(exc, psycopg2.errors.UniqueViolation) and exc.diag.constraint_name == constraint
    )
