"""A PostgreSQL server of a test's own, which the test may stop and start again for real
(the suite's shared server must stay up for every other test).

It runs pgserver's bundled binaries (always installed with the test dependencies) on a free
loopback port, with no Unix socket. As root it runs as pgserver's dedicated system user, the
way pgserver runs its own: PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
from pgserver._commands import POSTGRES_BIN_PATH
from pgserver.utils import (
    ensure_folder_permissions,
    ensure_prefix_permissions,
    ensure_user_exists,
    find_suitable_port,
)


@dataclass(frozen=True)
class StoppablePostgres:
    workdir: Path
    port: int
    run_as: dict[str, Any]

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its DSN."""
        with closing(psycopg2.connect(self.dsn())) as admin:
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        try:
            self._pg_ctl("-l", self.workdir / "postgres.log", "-w", "-t", "30", "start")
        except subprocess.CalledProcessError as exc:
            log = self.workdir / "postgres.log"
            raise RuntimeError(f"PostgreSQL did not start:\n{log.read_text()}") from exc

    def stop(self) -> None:
        """Stop the server as an operator does (`-m fast`: every session is terminated and
        its open transaction rolled back) and wait until it is down."""
        self._pg_ctl("-w", "-t", "30", "-m", "fast", "stop")

    def is_running(self) -> bool:
        status = subprocess.run(
            [POSTGRES_BIN_PATH / "pg_ctl", "-D", self.workdir / "data", "status"],
            capture_output=True,
            check=False,
            **self.run_as,
        )
        return status.returncode == 0

    def _pg_ctl(self, *args: str | Path) -> None:
        command = [POSTGRES_BIN_PATH / "pg_ctl", "-D", self.workdir / "data", *args]
        subprocess.run(
            command, cwd=self.workdir, check=True, capture_output=True, timeout=60, **self.run_as
        )


@contextmanager
def stoppable_postgres() -> Iterator[StoppablePostgres]:
    """A fresh server, started; removed (stopped first, if it runs) on exit."""
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:
        account = ensure_user_exists("pgserver")
        assert account is not None
        run_as = {"user": account.pw_uid, "group": account.pw_gid}
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    workdir = Path(tempfile.mkdtemp(prefix="payments-outage-pg-"))
    try:
        if run_as:
            os.chown(workdir, run_as["user"], run_as["group"])
        data = workdir / "data"
        initdb: list[str | Path] = [
            POSTGRES_BIN_PATH / "initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "--auth=trust",
        ]
        subprocess.run(
            [*initdb, "--no-sync"],
            cwd=workdir,
            check=True,
            capture_output=True,
            **run_as,
        )
        port = find_suitable_port("127.0.0.1")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {port}\n"
                "unix_socket_directories = ''\nfsync = off\n"
            )
        server = StoppablePostgres(workdir, port, run_as)
        server.start()
        try:
            yield server
        finally:
            if server.is_running():
                server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
