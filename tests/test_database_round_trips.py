"""Fewer round trips on a real PostgreSQL: a transaction's BEGIN goes with its first
statement, a lone write is one round trip with our settings, rows can be read as tuples."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2
import psycopg2.extensions
import pytest

from payments_service.db import Database
from tests.scratch_table import ids, scratch_database


@pytest.fixture
def db(dsn: str) -> Iterator[Database]:
    """One connection: each test sees the statements its last transaction left on it."""
    with scratch_database(dsn, 1) as database:
        yield database


def test_a_transaction_sends_its_begin_in_one_string_with_its_first_statement(
    db: Database,
) -> None:
    with db.transaction() as cur:
        # current_query(): the whole string the server received, this statement among it.
        cur.execute("SELECT current_query() AS q")
        first = cur.fetchone()["q"]
        cur.execute("SELECT current_query() AS q")
        second = cur.fetchone()["q"]

    assert first.startswith("BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL statement_timeout")
    assert first.endswith("; SELECT current_query() AS q")
    assert second == "SELECT current_query() AS q"


def test_a_failing_first_statement_is_rolled_back_with_its_begin(db: Database) -> None:
    with pytest.raises(psycopg2.errors.DivisionByZero), db.transaction() as cur:
        cur.execute("INSERT INTO scratch SELECT 1 / 0")

    with db.transaction() as cur:  # the pooled connection is outside any transaction again
        cur.execute("INSERT INTO scratch VALUES (2)")
    assert ids(db) == [2]


def test_a_block_that_sends_nothing_leaves_the_connection_idle(db: Database) -> None:
    with db.transaction() as cur:
        cur.discard()
    with db.transaction():
        pass
    with db.read() as cur:
        status = cur.connection.get_transaction_status()
        cur.execute("SELECT 1 AS one")
        assert cur.fetchone() == {"one": 1}

    assert status == psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_one_statement_commits_with_the_transactions_settings_in_one_string(
    db: Database,
) -> None:
    with db.one_statement() as cur:
        cur.execute("SHOW statement_timeout")
        inside = cur.fetchone()
    with db.one_statement() as cur:
        cur.execute("SHOW transaction_isolation")
        level = cur.fetchone()
    with db.one_statement() as cur:
        cur.execute("INSERT INTO scratch VALUES (1) RETURNING id")
        inserted = cur.fetchone()
        status = cur.connection.get_transaction_status()
    with db.read() as cur:
        cur.execute("SHOW statement_timeout")
        after = cur.fetchone()

    assert inside == {"statement_timeout": "1234ms"}
    assert level == {"transaction_isolation": "read committed"}
    assert inserted == {"id": 1}
    assert status == psycopg2.extensions.TRANSACTION_STATUS_IDLE  # committed already
    assert after == {"statement_timeout": "0"}
    assert ids(db) == [1]


def test_one_statement_that_fails_keeps_nothing(db: Database) -> None:
    with db.one_statement() as cur:
        cur.execute("INSERT INTO scratch VALUES (1)")
    with pytest.raises(psycopg2.errors.UniqueViolation), db.one_statement() as cur:
        cur.execute("INSERT INTO scratch VALUES (2), (1)")

    assert ids(db) == [1]
    with db.one_statement() as cur:  # the connection is usable again
        cur.execute("INSERT INTO scratch VALUES (3)")
    assert ids(db) == [1, 3]


def test_one_statement_refuses_a_second_statement_unsent(db: Database) -> None:
    with pytest.raises(RuntimeError), db.one_statement() as cur:
        cur.execute("INSERT INTO scratch VALUES (1)")
        cur.execute("INSERT INTO scratch VALUES (2)")

    assert ids(db) == [1]


def test_one_statement_over_the_timeout_is_cancelled(dsn: str) -> None:
    db = Database(dsn, 1, 50, mode="test")
    try:
        with pytest.raises(psycopg2.errors.QueryCanceled), db.one_statement() as cur:
            cur.execute("SELECT pg_sleep(1)")
    finally:
        db.close()


def test_rows_read_as_tuples_then_as_dicts_again(db: Database) -> None:
    with db.transaction() as cur:
        cur.execute("INSERT INTO scratch VALUES (1), (2)")
        cur.execute("SELECT id, id * 10 AS tens FROM scratch ORDER BY id")
        tuples = cur.fetch_tuples()
        cur.execute("SELECT id FROM scratch ORDER BY id")
        dicts = cur.fetchall()

    assert tuples == [(1, 10), (2, 20)]
    assert dicts == [{"id": 1}, {"id": 2}]
