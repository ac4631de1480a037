"""The embedded PostgreSQL used when DATABASE_URL is unset (development and demos)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the pgserver-managed PostgreSQL in ``data_dir/pg``; return its URL.

    pgserver shares one server between the processes that ask for the same directory
    and stops it when the last one exits.
    """
    import pgserver  # imported here: production never loads the embedded server

    logging.getLogger("pgserver").setLevel(logging.WARNING)  # it narrates every pg_ctl call
    pgdata = (data_dir / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata)  # type: ignore[attr-defined]
    url = str(server.get_uri())
    log.warning("DATABASE_URL is unset: using embedded PostgreSQL in %s", pgdata)
    return url
