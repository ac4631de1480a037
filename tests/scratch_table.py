"""A Database whose connections see a table of their own, `scratch (id int PRIMARY KEY)`, for
the tests of the pool and its transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from payments_service.db import Database


@contextmanager
def scratch_database(dsn: str, connections: int) -> Iterator[Database]:
    """A pool of ``connections`` on ``dsn`` (statement timeout 1,234 ms), with the table."""
    database = Database(dsn, connections, 1234, mode="test")
    with database.transaction() as cur:
        cur.execute("CREATE TABLE scratch (id int PRIMARY KEY)")
    try:
        yield database
    finally:
        database.close()


def ids(db: Database) -> list[int]:
    """The ids in the table, in order."""
    with db.read() as cur:
        cur.execute("SELECT id FROM scratch ORDER BY id")
        return [row["id"] for row in cur.fetchall()]
