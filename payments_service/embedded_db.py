"""The embedded PostgreSQL used when DATABASE_URL is unset (development and demos)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the pgserver-managed PostgreSQL in ``data_dir/pg``; return its URL.

    pgserver shares one server between the processes that ask for the same directory
    and stops it when the last one exits.
    """
    return str(_server(data_dir).get_uri())


@contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """The same server, held for the ``with`` block only: on leaving it, this process lets
    go, and the server stops unless another process still uses it (as at exit)."""
    server = _server(data_dir)
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


def _server(data_dir: Path) -> Any:
    with warnings.catch_warnings():
        # Without XDG_RUNTIME_DIR (containers, su) its lock goes to /tmp/runtime-<uid>: fine.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver  # imported here: production never loads the embedded server

    logging.getLogger("pgserver").setLevel(logging.WARNING)  # it narrates every pg_ctl call
    pgdata = (data_dir / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata)  # type: ignore[attr-defined]
    log.warning("DATABASE_URL is unset: using embedded PostgreSQL in %s", pgdata)
    return server
