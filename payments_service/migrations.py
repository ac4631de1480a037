"""Apply the numbered SQL files in sql/ in order, each once, each in its own transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from .db import Cursor, Database, Mode
from .db import migrations as sql

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    """One file of sql/: its version (the file stem) and its text."""

    version: str
    sql: str


def load_migrations(directory: Path = SQL_DIR) -> list[Migration]:
    """Read sql/NNNN_name.sql files, sorted by their number."""
    files = sorted(directory.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    return [Migration(path.stem, path.read_text()) for path in files]


def pending_migrations(db: Database, directory: Path = SQL_DIR) -> list[str]:
    """Versions in sql/ that the database has not applied yet (raises if unreachable)."""
    with db.transaction() as cur:
        applied = sql.applied_versions(cur)
    return [m.version for m in load_migrations(directory) if m.version not in applied]


def apply_migrations(dsn: str, directory: Path = SQL_DIR, *, mode: Mode) -> list[str]:
    """Apply every pending migration; return the versions applied by this call.

    ``mode`` is the Razorpay mode of the keys in use (Settings.mode): a migration that
    gives existing rows a mode (0011) reads it as the ``payments.mode`` setting.

    Safe to run twice and from several processes at once: each migration runs under a
    transaction-scoped advisory lock (fine behind PgBouncer) and re-checks the ledger.
    """
    applied_now: list[str] = []
    conn = psycopg2.connect(dsn)
    try:
        for migration in load_migrations(directory):
            with conn, conn.cursor(cursor_factory=Cursor) as cur:
                sql.lock_migrations(cur)
                sql.ensure_ledger(cur)
                if migration.version in sql.applied_versions(cur):
                    continue
                sql.set_mode(cur, mode)
                cur.execute(migration.sql)
                sql.record_version(cur, migration.version)
                applied_now.append(migration.version)
                log.info("applied migration %s", migration.version)
    finally:
        conn.close()
    return applied_now
