"""A PostgreSQL server of a test module's own that accepts TLS and refuses plaintext
(pg_hba.conf: ``hostssl ... trust`` and ``hostnossl ... reject``), on a loopback port, with a
throwaway self-signed certificate: production's Neon only accepts TLS connections.

pgserver's bundled PostgreSQL is built without OpenSSL ("SSL is not supported by this
build"), so the server binaries are the first PostgreSQL found that was built
``--with-openssl``: pgserver's own if a future wheel has it, else the machine's (Debian's
postgresql package). As root, the server runs as pgserver's dedicated system user, the
way pgserver runs its own (PostgreSQL refuses to run as root). Where no such build or no
``openssl`` command exists, the tests using it are skipped with that reason.
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
import pytest
from pgserver._commands import POSTGRES_BIN_PATH
from pgserver.utils import (
    ensure_folder_permissions,
    ensure_prefix_permissions,
    ensure_user_exists,
    find_suitable_port,
)

PG_HBA = """\
hostssl   all all 127.0.0.1/32 trust
hostnossl all all 127.0.0.1/32 reject
"""


def postgres_bin_dir_with_ssl() -> Path | None:
    """The first PostgreSQL bin directory whose build supports SSL, or None."""
    candidates = [POSTGRES_BIN_PATH]
    if on_path := shutil.which("postgres"):
        candidates.append(Path(on_path).resolve().parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for bin_dir in candidates:
        pg_config = bin_dir / "pg_config"
        if not (bin_dir / "postgres").exists() or not pg_config.exists():
            continue
        configure = subprocess.run(
            [pg_config, "--configure"], capture_output=True, text=True, check=False
        ).stdout
        if "--with-openssl" in configure or "--with-ssl=openssl" in configure:
            return bin_dir
    return None


@dataclass(frozen=True)
class TlsPostgres:
    port: int

    def url(self, dbname: str = "postgres", sslmode: str = "require") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}?sslmode={sslmode}"

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its URL (sslmode=require)."""
        with closing(psycopg2.connect(self.url())) as admin:
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def tls_postgres() -> Iterator[TlsPostgres]:
    """A fresh TLS-only server, started; stopped and removed on exit."""
    bin_dir = postgres_bin_dir_with_ssl()
    if bin_dir is None:
        pytest.skip("no PostgreSQL built with OpenSSL here (pgserver's bundled one is not)")
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make the test certificate")

    # As pgserver does: PostgreSQL refuses to run as root, so run it as user "pgserver".
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:
        account = ensure_user_exists("pgserver")
        run_as = {"user": account.pw_uid, "group": account.pw_gid}
        if bin_dir == POSTGRES_BIN_PATH:  # pgserver's bundle: let that user read and run it
            ensure_prefix_permissions(bin_dir)
            ensure_folder_permissions(bin_dir, 0o055)
            ensure_folder_permissions(bin_dir.parent / "lib", 0o044)

    workdir = Path(tempfile.mkdtemp(prefix="payments-tls-pg-"))
    data, log = workdir / "data", workdir / "postgres.log"
    cert, key = workdir / "server.crt", workdir / "server.key"

    def owned_by_server(*paths: Path) -> None:
        for path in paths:
            if run_as:
                os.chown(path, run_as["user"], run_as["group"])

    def postgres(*args: str | Path, **kwargs: Any) -> None:
        subprocess.run(
            [bin_dir / args[0], *args[1:]],
            cwd=workdir,
            check=True,
            capture_output=True,
            **run_as,
            **kwargs,
        )

    try:
        owned_by_server(workdir)
        subprocess.run(
            ["openssl", "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
             "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-keyout", key, "-out", cert],
            check=True,
            capture_output=True,
        )  # fmt: skip
        key.chmod(0o600)  # PostgreSQL refuses a private key others can read
        owned_by_server(cert, key)

        postgres("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync")
        port = find_suitable_port("127.0.0.1")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\n"
                f"port = {port}\n"
                f"unix_socket_directories = ''\n"
                f"ssl = on\n"
                f"ssl_cert_file = '{cert}'\n"
                f"ssl_key_file = '{key}'\n"
                f"fsync = off\n"
            )
        (data / "pg_hba.conf").write_text(PG_HBA)

        try:
            postgres("pg_ctl", "-D", data, "-l", log, "-w", "-t", "20", "start", timeout=30)
        except subprocess.CalledProcessError as exc:
            server_log = log.read_text() if log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start:\n{server_log}") from exc
        try:
            yield TlsPostgres(port)
        finally:
            postgres("pg_ctl", "-D", data, "-w", "-m", "fast", "stop", timeout=30)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
