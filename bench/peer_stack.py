"""The seller's Express backend (bench/peer/) and this service, side by side, for bench/peer.py.

One PostgreSQL server, a fresh database each (the peer's schema.sql; our migrations), one
Node fake of Razorpay that both call (bench/peer/fake-razorpay.js: keep-alive, its latency
set at run time), the peer (node, its own pg pool) and our API under gunicorn with
production's gunicorn.conf.py and Prometheus multiprocess mode, all on 127.0.0.1. Both use
the same Razorpay keys and webhook secret. Everything started here is stopped on the way
out of ``running_peers``, and both databases are dropped.
"""

from __future__ import annotations

import hashlib
import os
import runpy
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

import psycopg2
import psycopg2.extensions

from bench.stack import ADMIN_SECRET, api_command, free_port, stop_process, wait_for
from payments_service.auth import mint_site_token
from payments_service.db import Database
from payments_service.migrations import apply_migrations
from payments_service.settings import Settings
from payments_service.sites import create_site

ROOT = Path(__file__).resolve().parent.parent
PEER_DIR = Path(__file__).resolve().with_name("peer")
KEY_ID = "rzp_test_peerbench0001"
KEY_SECRET = "peer_key_secret_0001"  # noqa: S105 - a throwaway key of the fake
WEBHOOK_SECRET = "peer_webhook_secret_0001"  # noqa: S105 - likewise
SITE_ID = "bench-site"
NPM_CI_TIMEOUT = 300


@dataclass(frozen=True)
class PeerStack:
    """Where each of the three processes answers, their pids, and the two databases."""

    fake: str
    peer: str
    ours: str
    fake_pid: int
    peer_pid: int
    ours_pid: int
    peer_dsn: str
    ours_dsn: str
    site_token: str
    site_id: str = SITE_ID


def npm_ci_once() -> None:
    """``npm ci`` in bench/peer, skipped while node_modules matches its package-lock.json."""
    digest = hashlib.sha256((PEER_DIR / "package-lock.json").read_bytes()).hexdigest()
    stamp = PEER_DIR / "node_modules" / ".installed-lock-sha256"
    if stamp.is_file() and stamp.read_text().strip() == digest:
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],  # noqa: S607 - npm from PATH
        cwd=PEER_DIR,
        check=True,
        capture_output=True,
        timeout=NPM_CI_TIMEOUT,
    )
    stamp.write_text(digest)


@contextmanager
def running_peers(server_dsn: str, log_dir: Path) -> Iterator[PeerStack]:
    """Start the fake, the peer and our API on two fresh databases of ``server_dsn``'s
    server; stop them and drop the databases on exit."""
    npm_ci_once()
    log_dir.mkdir(parents=True, exist_ok=True)
    suffix = uuid.uuid4().hex[:8]
    with ExitStack() as stack:
        peer_dsn = stack.enter_context(_database(server_dsn, f"bench_peer_{suffix}"))
        ours_dsn = stack.enter_context(_database(server_dsn, f"bench_ours_{suffix}"))
        _load_peer_schema(peer_dsn)
        apply_migrations(ours_dsn, mode="test")
        site_token = _site_token(ours_dsn)
        fake_port, peer_port, ours_port = free_port(), free_port(), free_port()
        fake_url = f"http://127.0.0.1:{fake_port}"
        keys = {
            **os.environ,
            "RAZORPAY_KEY_ID": KEY_ID,
            "RAZORPAY_KEY_SECRET": KEY_SECRET,
            "RAZORPAY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        fake = stack.enter_context(
            _process(["node", "fake-razorpay.js", str(fake_port)], keys, log_dir / "fake.log")
        )
        wait_for(f"{fake_url}/_test/stats", process=fake)
        peer = stack.enter_context(
            _process(
                _peer_command(),
                _peer_env(keys, peer_dsn, peer_port, fake_url),
                log_dir / "peer.log",
            )
        )
        wait_for(f"http://127.0.0.1:{peer_port}/api/user/1/transactions", process=peer)
        metrics_dir = log_dir / f"prometheus-{suffix}"
        metrics_dir.mkdir()
        ours_env = _ours_env(keys, ours_dsn, ours_port, fake_url, metrics_dir)
        ours = stack.enter_context(_process(api_command(), ours_env, log_dir / "ours.log"))
        wait_for(f"http://127.0.0.1:{ours_port}/readyz", process=ours)
        yield PeerStack(
            fake=fake_url,
            peer=f"http://127.0.0.1:{peer_port}",
            ours=f"http://127.0.0.1:{ours_port}",
            fake_pid=fake.pid,
            peer_pid=peer.pid,
            ours_pid=ours.pid,
            peer_dsn=peer_dsn,
            ours_dsn=ours_dsn,
            site_token=site_token,
        )


def node_dsn(dsn: str) -> str:
    """``dsn`` as the URL node-postgres reads; sslmode=disable turns off the guide's ssl
    option, as its README says to for a local server."""
    params = psycopg2.extensions.parse_dsn(dsn)
    host = params.get("host", "127.0.0.1")
    user, database = params.get("user", "postgres"), params["dbname"]
    port = f"&port={params['port']}" if "port" in params else ""
    if host.startswith("/"):  # a Unix socket directory
        return f"postgresql://{user}@/{database}?host={host}{port}&sslmode=disable"
    return f"postgresql://{user}@{host}:{params.get('port', 5432)}/{database}?sslmode=disable"


@contextmanager
def _database(server_dsn: str, name: str) -> Iterator[str]:
    """A fresh database ``name`` on the server of ``server_dsn``, dropped on exit."""
    with closing(psycopg2.connect(server_dsn)) as admin:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        try:
            yield psycopg2.extensions.make_dsn(server_dsn, dbname=name)
        finally:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _load_peer_schema(dsn: str) -> None:
    with closing(psycopg2.connect(dsn)) as conn, conn, conn.cursor() as cur:
        cur.execute("SET client_min_messages = warning")  # its DROP IF EXISTS notices
        cur.execute((PEER_DIR / "schema.sql").read_text())


def _site_token(dsn: str) -> str:
    db = Database(dsn, 1, 5000, mode="test")
    try:
        site = create_site(db, site_id=SITE_ID, name="Bench", callback_url=None, allowed_origins=[])
    finally:
        db.close()
    settings = Settings(admin_jwt_secret=ADMIN_SECRET, database_url=dsn)
    lifetime = timedelta(seconds=settings.site_token_max_lifetime_seconds)
    return mint_site_token(site.jwt_secret, site.id, settings.jwt_audience, None, lifetime)


def _peer_command() -> list[str]:
    return ["node", "-r", "./razorpay-host-hook.js", "server.js"]


def _peer_env(keys: dict[str, str], dsn: str, port: int, fake_url: str) -> dict[str, str]:
    return {
        **keys,
        "DATABASE_URL": node_dsn(dsn),
        "RAZORPAY_API_BASE": fake_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
    }


def _ours_env(
    keys: dict[str, str], dsn: str, port: int, fake_url: str, metrics_dir: Path
) -> dict[str, str]:
    production = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return {
        **keys,
        "DATABASE_URL": dsn,
        "ADMIN_JWT_SECRET": ADMIN_SECRET,
        "RAZORPAY_API_BASE_URL": fake_url,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(production["workers"]),
        "GUNICORN_THREADS": str(production["threads"]),
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }


@contextmanager
def _process(
    command: list[str], env: dict[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` (node's in bench/peer, ours in the repository) logging to
    ``log_path``; stopped (terminated, killed if need be) on exit."""
    cwd = ROOT if command[0] != "node" else PEER_DIR
    log: IO[bytes] = open(log_path, "ab")
    try:
        process = subprocess.Popen(  # noqa: S603 - our own programs
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            stop_process(process)
    finally:
        log.close()
