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
from psycopg2.errors import DeadlockDetected
from psycopg2.extras import RealDictCursor as Cursor

__all__ = ["Cursor", "Database", "DeadlockDetected", "Row", "is_unique_violation"]

Row = dict[str, Any]
_BEGIN = "BEGIN ISOLATION LEVEL {level}; SET LOCAL statement_timeout = {timeout_ms:d}"


class Database:
    """A bounded pool of psycopg2 connections to one PostgreSQL database.

    Nothing session-scoped is set on connections (production runs behind PgBouncer in
    transaction mode): the statement timeout is applied per transaction with SET LOCAL.
    Connections run in autocommit mode and each transaction sends BEGIN together with that
    SET LOCAL, so a transaction costs the server one round trip for its start and one for
    its end, and a lone read (``read``) costs one in all.
    """

    def __init__(self, dsn: str, max_connections: int, statement_timeout_ms: int) -> None:
        self.dsn = dsn
        timeout_ms = int(statement_timeout_ms)
        self._begin = {
            False: _BEGIN.format(level="READ COMMITTED", timeout_ms=timeout_ms),
            True: _BEGIN.format(level="REPEATABLE READ", timeout_ms=timeout_ms),
        }
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
        with self._connection() as conn, conn.cursor(cursor_factory=Cursor) as cur:
            cur.execute(self._begin[snapshot])
            try:
                yield cur
            except BaseException:
                _roll_back(conn, cur)
                raise
            cur.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        """Yield a cursor for one statement outside a transaction block.

        For a single indexed read (a key lookup): it sees its own snapshot, and the server's
        own statement timeout applies rather than ours.
        """
        with self._connection() as conn, conn.cursor(cursor_factory=Cursor) as cur:
            yield cur

    @contextmanager
    def _connection(self) -> Iterator[psycopg2.extensions.connection]:
        with self._available:
            conn = self._pool.getconn()
            broken = False
            try:
                if not conn.autocommit:
                    conn.autocommit = True
                yield conn
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                broken = True
                raise
            finally:
                self._pool.putconn(conn, close=broken or conn.closed != 0)

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.closeall()


def _roll_back(conn: psycopg2.extensions.connection, cur: Cursor) -> None:
    """End a failed transaction; a connection that cannot even do that is closed (so the
    pool drops it) and the original error is the one reported."""
    if conn.closed:
        return
    try:
        cur.execute("ROLLBACK")
    except psycopg2.Error:
        conn.close()


def is_unique_violation(exc: BaseException, constraint: str) -> bool:
    """Tell whether ``exc`` is a unique violation of the named constraint or index."""
    return (
        isinstance(exc, psycopg2.errors.UniqueViolation) and exc.diag.constraint_name == constraint
    )
