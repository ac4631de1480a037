"""The pool's transaction helper on a real PostgreSQL: commit, roll back, timeouts."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import psycopg2
import pytest

from payments_service.db import Cursor, Database, DatabaseUnavailable
from tests.scratch_table import ids, scratch_database


@pytest.fixture
def db(dsn: str) -> Iterator[Database]:
    """Two connections: a test holds a transaction open while another one commits."""
    with scratch_database(dsn, 2) as database:
        yield database


def test_a_transaction_commits_all_its_statements_when_its_block_ends(db: Database) -> None:
    with db.transaction() as cur:
        cur.execute("INSERT INTO scratch VALUES (1)")
        cur.execute("INSERT INTO scratch VALUES (2)")

    assert ids(db) == [1, 2]


def test_an_exception_in_the_block_rolls_every_statement_back(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction() as cur:
        cur.execute("INSERT INTO scratch VALUES (1)")
        raise RuntimeError("half-way")

    assert ids(db) == []
    with db.transaction() as cur:  # the connection is usable again
        cur.execute("INSERT INTO scratch VALUES (3)")
    assert ids(db) == [3]


def test_a_discarded_transaction_keeps_nothing_and_the_next_one_commits(db: Database) -> None:
    with db.transaction() as cur:
        cur.execute("INSERT INTO scratch VALUES (1)")
        cur.discard()
    with db.transaction() as cur:  # the pooled connection is back outside any transaction
        cur.execute("INSERT INTO scratch VALUES (2)")

    assert ids(db) == [2]


def test_a_failed_statement_rolls_back_the_earlier_ones(db: Database) -> None:
    with pytest.raises(psycopg2.errors.UniqueViolation), db.transaction() as cur:
        cur.execute("INSERT INTO scratch VALUES (1)")
        cur.execute("INSERT INTO scratch VALUES (1)")

    assert ids(db) == []


def test_the_statement_timeout_holds_inside_a_transaction_and_not_after_it(db: Database) -> None:
    with db.transaction() as cur:
        cur.execute("SHOW statement_timeout")
        inside = cur.fetchone()
        cur.execute("SHOW transaction_isolation")
        level = cur.fetchone()
    with db.read() as cur:
        cur.execute("SHOW statement_timeout")
        after = cur.fetchone()

    assert inside == {"statement_timeout": "1234ms"}
    assert level == {"transaction_isolation": "read committed"}
    assert after == {"statement_timeout": "0"}


def test_a_statement_over_the_timeout_is_cancelled_and_rolled_back(dsn: str) -> None:
    db = Database(dsn, 1, 50, mode="test")
    try:
        with pytest.raises(psycopg2.errors.QueryCanceled), db.transaction() as cur:
            cur.execute("SELECT pg_sleep(1)")
        with db.transaction() as cur:
            cur.execute("SELECT 1 AS one")
            assert cur.fetchone() == {"one": 1}
    finally:
        db.close()


def test_a_snapshot_transaction_does_not_see_rows_committed_after_its_first_read(
    db: Database,
) -> None:
    with db.transaction(snapshot=True) as cur:
        cur.execute("SHOW transaction_isolation")
        assert cur.fetchone() == {"transaction_isolation": "repeatable read"}
        cur.execute("SELECT count(*) AS n FROM scratch")
        assert cur.fetchone() == {"n": 0}
        with db.transaction() as other:
            other.execute("INSERT INTO scratch VALUES (7)")
        cur.execute("SELECT count(*) AS n FROM scratch")
        assert cur.fetchone() == {"n": 0}

    assert ids(db) == [7]


def backend_pid(cur: Cursor) -> int:
    cur.execute("SELECT pg_backend_pid() AS pid")
    return int(cur.fetchone()["pid"])


def terminate(dsn: str, pid: int) -> None:
    """End a server session as an administrator (or a restart) does, and wait until it is
    gone."""
    with psycopg2.connect(dsn) as admin, admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))
        assert cur.fetchone() == (True,)
    admin.close()


def test_a_connection_killed_by_the_server_is_dropped_and_the_next_one_works(
    db: Database, dsn: str
) -> None:
    with pytest.raises(DatabaseUnavailable), db.transaction() as cur:
        pid = backend_pid(cur)
        terminate(dsn, pid)
        cur.execute("SELECT 1")

    with db.transaction() as cur:
        assert backend_pid(cur) != pid


def test_a_pooled_connection_the_server_ended_while_idle_is_replaced_before_use(
    db: Database, dsn: str
) -> None:
    with db.read() as cur:
        pid = backend_pid(cur)
    terminate(dsn, pid)

    with db.transaction() as cur:  # no error: the dead connection never reaches the caller
        assert backend_pid(cur) != pid


def test_no_server_to_connect_to_is_database_unavailable_naming_why() -> None:
    with socket.socket() as closed:  # a loopback port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    db = Database(f"host=127.0.0.1 port={port} user=postgres dbname=x", 2, 1000, mode="test")
    try:
        with pytest.raises(DatabaseUnavailable) as raised:
            with db.read() as cur:
                cur.execute("SELECT 1")
        with pytest.raises(DatabaseUnavailable), db.transaction() as cur:
            cur.execute("SELECT 1")
    finally:
        db.close()
    assert raised.value.code == "database_unavailable"
    assert "Connection refused" in raised.value.reason
    assert "Connection refused" not in raised.value.detail  # the reason is for the log only


def test_our_own_sql_errors_are_not_the_database_being_away(db: Database) -> None:
    with pytest.raises(psycopg2.errors.UndefinedTable), db.transaction() as cur:
        cur.execute("SELECT * FROM no_such_table")
    with pytest.raises(psycopg2.errors.SyntaxError), db.read() as cur:
        cur.execute("SELEKT 1")
