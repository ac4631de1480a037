"""A throwaway production-like stack for benchmarks: a fresh embedded PostgreSQL, the
sandbox and the API under gunicorn with gunicorn.conf.py, all on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pgserver
import requests

from payments_service.auth import mint_admin_token, mint_site_token
from payments_service.db import Database
from payments_service.migrations import apply_migrations
from payments_service.settings import Settings
from payments_service.sites import create_site

ADMIN_SECRET = "bench-admin-secret-" + "x" * 32


@dataclass(frozen=True)
class Stack:
    api: str
    sandbox: str
    dsn: str
    site_token: str
    admin_token: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


@contextmanager
def running_stack(workers: int = 2, threads: int = 8, latency_ms: int = 0) -> Iterator[Stack]:
    """Start everything; stop it all on exit."""
    datadir = tempfile.mkdtemp(prefix="payments-bench-pg-")
    server = pgserver.get_server(datadir, cleanup_mode="delete")
    dsn = server.get_uri()
    apply_migrations(dsn)
    settings = Settings(admin_jwt_secret=ADMIN_SECRET, database_url=dsn)
    db = Database(dsn, 2, 5000)
    site = create_site(
        db, site_id="bench-site", name="Bench", callback_url=None, allowed_origins=[]
    )
    db.close()
    api_port, sandbox_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "ADMIN_JWT_SECRET": ADMIN_SECRET,
        "RAZORPAY_API_BASE_URL": f"http://127.0.0.1:{sandbox_port}",
        "GUNICORN_BIND": f"127.0.0.1:{api_port}",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
        "DB_POOL_MAX": str(threads),
        "LOG_LEVEL": "WARNING",
        "SANDBOX_WEBHOOK_URL": "",
        "SANDBOX_LATENCY_MS": str(latency_ms),
    }
    sandbox = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "payments_service.sandbox", "--port", str(sandbox_port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    api = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--access-logfile",
            "/dev/null",
            "payments_service:create_app()",
        ],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{api_port}/readyz")
        wait_for(f"http://127.0.0.1:{sandbox_port}/_sandbox/config")
        token = mint_site_token(
            site.jwt_secret, site.id, settings.jwt_audience, None, timedelta(hours=2)
        )
        yield Stack(
            f"http://127.0.0.1:{api_port}",
            f"http://127.0.0.1:{sandbox_port}",
            dsn,
            token,
            mint_admin_token(settings, "bench", timedelta(hours=2)),
        )
    finally:
        for process in (api, sandbox):
            process.terminate()
            process.wait(timeout=20)
