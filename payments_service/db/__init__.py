"""Connection pool and the one transaction helper every capability uses."""

from __future__ import annotations

import copy
import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras
import psycopg2.pool
from psycopg2.errors import DeadlockDetected

from ..errors import DatabaseUnavailable
from .cursor import Cursor, Mode, columns_of

__all__ = [
    "Cursor",
    "Database",
    "DatabaseUnavailable",
    "DeadlockDetected",
    "Mode",
    "Row",
    "columns_of",
    "is_unique_violation",
    "unavailable_error",
]

Row = dict[str, Any]

_BEGIN = "BEGIN ISOLATION LEVEL {level}; SET LOCAL statement_timeout = {timeout_ms:d}"
# A string of several statements is one implicit transaction to the server: committed at
# its end, rolled back if any fails. These settings then hold for that transaction only.
_IMPLICIT = (
    "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; SET LOCAL statement_timeout = {timeout_ms:d}"
)
# How long opening a connection may take when the DSN does not say (a host that drops
# packets would otherwise hold a request until gunicorn kills the worker).
CONNECT_TIMEOUT_SECONDS = 5
# SQLSTATEs of a server that ended or refused the session: admin_shutdown, crash_shutdown,
# cannot_connect_now; and the whole class 08, connection exceptions.
_SERVER_GONE = ("57P01", "57P02", "57P03")


class Database:
    """A bounded pool of psycopg2 connections to one PostgreSQL database.

    Nothing session-scoped is set on connections (production runs behind PgBouncer in
    transaction mode): the statement timeout is applied per transaction with SET LOCAL.
    Connections run in autocommit mode and each transaction sends BEGIN and that SET LOCAL
    together with its first statement (Cursor), so a transaction costs the server one
    round trip per statement plus one for its end, and a lone read (``read``) costs one.
    """

    def __init__(
        self, dsn: str, max_connections: int, statement_timeout_ms: int, *, mode: Mode
    ) -> None:
        self.dsn = dsn
        self.mode: Mode = mode
        timeout_ms = int(statement_timeout_ms)
        self._begin = {
            False: _BEGIN.format(level="READ COMMITTED", timeout_ms=timeout_ms),
            True: _BEGIN.format(level="REPEATABLE READ", timeout_ms=timeout_ms),
        }
        self._implicit = _IMPLICIT.format(timeout_ms=timeout_ms)
        options = psycopg2.extensions.parse_dsn(dsn)
        timeout = (
            {} if "connect_timeout" in options else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        )
        self._pool = psycopg2.pool.ThreadedConnectionPool(0, max_connections, dsn, **timeout)
        # psycopg2's pool closes every returned connection beyond `minconn` idle ones, so
        # with minconn 0 each transaction would open a new session. Raising it after
        # construction keeps up to max_connections idle while still opening them lazily.
        self._pool.minconn = max_connections
        # ThreadedConnectionPool raises instead of waiting when exhausted; this makes
        # callers queue for a free connection instead.
        self._available = threading.BoundedSemaphore(max_connections)

    @contextmanager
    def transaction(self, snapshot: bool = False, mode: Mode | None = None) -> Iterator[Cursor]:
        """Yield a cursor in a transaction: commit on success, roll back on any exception (or
        when the block ``discard``-ed it).

        ``snapshot=True`` makes every read in it see one consistent snapshot
        (REPEATABLE READ, set for this transaction only). ``mode`` overrides the pool's
        mode for this block (an admin reading the other mode explicitly).
        """
        with self._connection() as conn, self._cursor(conn, mode) as cur:
            cur.defer_begin(self._begin[snapshot])
            try:
                yield cur
            except BaseException:
                if cur.began:
                    _roll_back(conn, cur)
                raise
            if not cur.began:  # the block sent nothing: there is no transaction to end
                return
            if cur.discarded:
                _roll_back(conn, cur)
            else:
                cur.execute("COMMIT")

    @contextmanager
    def one_statement(self, mode: Mode | None = None) -> Iterator[Cursor]:
        """Yield a cursor for a transaction of one statement (a lone write), in one round
        trip: the transaction's settings (as ``transaction`` sets them) go in one string
        with the statement, which the server runs as one implicit transaction, committed
        when it succeeds and rolled back when it fails. The block sends that statement
        only (a second one raises, unsent).
        """
        with self._connection() as conn, self._cursor(conn, mode) as cur:
            cur.defer_begin(self._implicit)
            cur.statements_left = 1
            yield cur

    @contextmanager
    def read(self, mode: Mode | None = None) -> Iterator[Cursor]:
        """Yield a cursor for one statement outside a transaction block.

        For a single indexed read (a key lookup): it sees its own snapshot, and the server's
        own statement timeout applies rather than ours.
        """
        with self._connection() as conn, self._cursor(conn, mode) as cur:
            yield cur

    def _cursor(self, conn: psycopg2.extensions.connection, mode: Mode | None) -> Cursor:
        cur: Cursor = conn.cursor(cursor_factory=Cursor)
        cur.mode = self.mode if mode is None else mode
        return cur

    @contextmanager
    def _connection(self) -> Iterator[psycopg2.extensions.connection]:
        """A pooled connection for the block. Raises DatabaseUnavailable when none can be
        opened, or when the server ends the session during the block (its transaction is
        then rolled back by the server); any other database error is raised as it is."""
        with self._available:
            conn = self._checkout()
            broken = False
            try:
                if not conn.autocommit:
                    conn.autocommit = True
                yield conn
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                broken = True
                unavailable = unavailable_error(exc, conn)
                if unavailable is None:
                    raise
                raise unavailable from exc
            finally:
                self._pool.putconn(conn, close=broken or conn.closed != 0)

    def _checkout(self) -> psycopg2.extensions.connection:
        """An idle pooled connection the server has not ended meanwhile, else a new one.

        A server that restarted or terminated a session leaves its pooled connection dead;
        it is dropped here rather than failing the request that would have used it, so the
        service recovers with the database's first answer. Raises DatabaseUnavailable.
        """
        while True:  # ends: once the idle ones are dropped, getconn opens a new connection
            try:
                conn = self._pool.getconn()
            except psycopg2.OperationalError as exc:
                raise DatabaseUnavailable(_first_line(exc)) from exc
            if _is_open(conn):
                return conn
            self._pool.putconn(conn, close=True)

    def in_mode(self, mode: Mode) -> Database:
        """This pool, with ``mode`` as the mode of its blocks (an admin reading the other
        mode). It shares the connections: close the original, never this view."""
        view = copy.copy(self)
        view.mode = mode
        return view

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.closeall()

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called (the pool hands out no more connections)."""
        return bool(self._pool.closed)


def _roll_back(conn: psycopg2.extensions.connection, cur: Cursor) -> None:
    """End a failed transaction; a connection that cannot even do that is closed (so the
    pool drops it) and the original error is the one reported."""
    if conn.closed:
        return
    try:
        cur.execute("ROLLBACK")
    except psycopg2.Error:
        conn.close()


def unavailable_error(
    exc: BaseException, conn: psycopg2.extensions.connection | None = None
) -> DatabaseUnavailable | None:
    """The DatabaseUnavailable that ``exc`` amounts to when it says the server is gone (the
    session lost, shut down, refusing connections), else None: anything else, a statement
    timeout or an error in our own SQL, is not the database being away."""
    if not isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError):
        return None
    code = exc.pgcode or ""
    lost = (conn is not None and conn.closed != 0) or code.startswith("08") or code in _SERVER_GONE
    return DatabaseUnavailable(_first_line(exc)) if lost else None


def _is_open(conn: psycopg2.extensions.connection) -> bool:
    """Whether an idle connection is still usable. An idle session has nothing to read
    unless the server said goodbye (a termination notice, then end of stream)."""
    if conn.closed:
        return False
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    return not poller.poll(0)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def is_unique_violation(exc: BaseException, constraint: str) -> bool:
    """Tell whether ``exc`` is a unique violation of the named constraint or index."""
    return (
        isinstance(exc, psycopg2.errors.UniqueViolation) and exc.diag.constraint_name == constraint
    )
