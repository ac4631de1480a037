"""SQL for the migration ledger (schema_migrations)."""

from __future__ import annotations

from . import Cursor, Mode

# Any constant works; it only has to be the same in every process of this service.
_MIGRATION_LOCK_ID = 8_410_202_611


def lock_migrations(cur: Cursor) -> None:
    """Serialise migrators until the end of the current transaction."""
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_ID,))


def ensure_ledger(cur: Cursor) -> None:
    """Create the ledger table if this is an empty database."""
    cur.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version     text PRIMARY KEY,
            applied_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def applied_versions(cur: Cursor) -> set[str]:
    """Versions already applied (empty when the ledger does not exist yet)."""
    cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
    row = cur.fetchone()
    if not row["present"]:
        return set()
    cur.execute("SELECT version FROM schema_migrations")
    return {r["version"] for r in cur.fetchall()}


def record_version(cur: Cursor, version: str) -> None:
    """Mark one migration as applied."""
    cur.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))


def set_mode(cur: Cursor, mode: Mode) -> None:
    """Make ``mode`` the transaction's payments.mode, the mode existing rows are given."""
    cur.execute("SELECT set_config('payments.mode', %s, true)", (mode,))
