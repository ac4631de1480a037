"""The embedded PostgreSQL used when DATABASE_URL is unset (development and demos)."""

from __future__ import annotations

import json
import logging
import os
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
    with pgserver.PostgresServer._lock:  # type: ignore[attr-defined]  # guards the count below
        _forget_killed_users(pgdata / ".handle_pids.json")
    server = pgserver.get_server(pgdata)  # type: ignore[attr-defined]
    log.warning("DATABASE_URL is unset: using embedded PostgreSQL in %s", pgdata)
    return server


def _forget_killed_users(handles: Path) -> None:
    """pgserver counts the processes using a server in this file and stops the server when the
    last one lets go; a process killed outright (kill -9) stays counted, and the server would
    then never stop again. Forget those before joining."""
    if not handles.exists():
        return
    pids: list[int] = json.loads(handles.read_text())
    alive = [pid for pid in pids if _is_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        pass
    return True
