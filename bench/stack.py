"""A throwaway production-like stack for benchmarks: a fresh embedded PostgreSQL, the
sandbox and the API under gunicorn with gunicorn.conf.py, all on 127.0.0.1.

Everything started here is stopped on the way out of ``running_stack``, also on Ctrl-C and
(with ``exit_on_sigterm``) on SIGTERM: the API and the sandbox are terminated (killed if
they do not stop in time) and the PostgreSQL server is stopped and its directory deleted.
"""

from __future__ import annotations

import os
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import IO, Any

import pgserver
import requests
from pgserver.postgres_server import PostgresServer, get_server

from payments_service.auth import mint_admin_token, mint_site_token
from payments_service.db import Database
from payments_service.db.sites import Site
from payments_service.migrations import apply_migrations
from payments_service.settings import Settings
from payments_service.sites import create_site

ADMIN_SECRET = "bench-admin-secret-" + "x" * 32
PG_BIN = Path(pgserver.__file__).parent / "pginstall" / "bin"
STOP_SECONDS = 25  # above gunicorn's graceful_timeout of 20 s


@dataclass(frozen=True)
class Stack:
    api: str
    sandbox: str
    dsn: str
    site_token: str
    admin_token: str
    site_id: str = "bench-site"
    api_pid: int = 0
    sandbox_pid: int = 0
    env: dict[str, str] = field(default_factory=dict)  # the API's (DATABASE_URL, RAZORPAY_...)
    log_dir: Path = Path()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 30, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{url}: the process serving it exited ({process.returncode})")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # still booting
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def stop_process(process: subprocess.Popen[bytes], seconds: float = STOP_SECONDS) -> None:
    """SIGTERM, wait up to ``seconds``, then SIGKILL; never raises for a gone process."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def running_stack(
    workers: int | None = None,
    threads: int | None = None,
    latency_ms: int = 0,
    log_dir: Path | None = None,
    exit_on_sigterm: bool = True,
) -> Iterator[Stack]:
    """Start everything; stop it all on exit. The API's and the sandbox's output goes to
    ``log_dir``, or to a temporary directory deleted on exit. Workers, threads and the
    pool size default to production's (gunicorn.conf.py, Settings)."""
    production = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    previous_handler = signal.getsignal(signal.SIGTERM)
    if exit_on_sigterm:
        signal.signal(signal.SIGTERM, _raise_interrupt)
    logs = log_dir or Path(tempfile.mkdtemp(prefix="payments-bench-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    datadir = tempfile.mkdtemp(prefix="payments-bench-pg-")
    server = get_server(datadir, cleanup_mode="delete")
    processes: list[subprocess.Popen[bytes]] = []
    log_files: list[IO[bytes]] = []
    try:
        dsn = server.get_uri()
        settings = Settings(admin_jwt_secret=ADMIN_SECRET, database_url=dsn)
        apply_migrations(dsn, mode=settings.mode)
        site = _bench_site(dsn)
        api_port, sandbox_port = free_port(), free_port()
        size = (str(workers or production["workers"]), str(threads or production["threads"]))
        env = _stack_env(dsn, settings, api_port, sandbox_port, size, latency_ms)
        api, sandbox = _start_processes(env, logs, api_port, sandbox_port, processes, log_files)
        yield _stack(settings, site, env, api, sandbox, logs)
    finally:
        throwaway_logs = logs if log_dir is None else None
        _stop_everything(processes, log_files, throwaway_logs, server, previous_handler)


def _bench_site(dsn: str) -> Site:
    db = Database(dsn, 2, 5000, mode="test")
    site = create_site(
        db, site_id="bench-site", name="Bench", callback_url=None, allowed_origins=[]
    )
    db.close()
    return site


def _stack_env(
    dsn: str,
    settings: Settings,
    api_port: int,
    sandbox_port: int,
    size: tuple[str, str],
    latency_ms: int,
) -> dict[str, str]:
    """The environment of the API and the sandbox: size is (workers, threads)."""
    return {
        **os.environ,
        "DATABASE_URL": dsn,
        "ADMIN_JWT_SECRET": ADMIN_SECRET,
        "RAZORPAY_API_BASE_URL": f"http://127.0.0.1:{sandbox_port}",
        "GUNICORN_BIND": f"127.0.0.1:{api_port}",
        "WEB_CONCURRENCY": size[0],
        "GUNICORN_THREADS": size[1],
        "DB_POOL_MAX": str(settings.db_pool_max),
        "LOG_LEVEL": "WARNING",
        "SANDBOX_WEBHOOK_URL": "",
        "SANDBOX_LATENCY_MS": str(latency_ms),
    }


def _start_processes(
    env: dict[str, str],
    logs: Path,
    api_port: int,
    sandbox_port: int,
    processes: list[subprocess.Popen[bytes]],
    log_files: list[IO[bytes]],
) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    """Start the sandbox and the API (each added to ``processes`` as soon as it runs, so it
    is stopped whatever happens next) and wait until both answer; (api, sandbox)."""
    sandbox_log = open(logs / "sandbox.log", "wb")
    api_log = open(logs / "api.log", "wb")
    log_files += [sandbox_log, api_log]
    sandbox = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "payments_service.sandbox", "--port", str(sandbox_port)],
        env=env,
        stdout=sandbox_log,
        stderr=subprocess.STDOUT,
    )
    processes.append(sandbox)
    api = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        api_command(), env=env, stdout=api_log, stderr=subprocess.STDOUT
    )
    processes.append(api)
    wait_for(f"http://127.0.0.1:{api_port}/readyz", process=api)
    wait_for(f"http://127.0.0.1:{sandbox_port}/_sandbox/config", process=sandbox)
    return api, sandbox


def api_command() -> list[str]:
    """The API under gunicorn with production's gunicorn.conf.py (no access log)."""
    gunicorn = ["-m", "gunicorn", "-c", "gunicorn.conf.py"]
    # No control socket: its default path is shared by every gunicorn on the host.
    return [sys.executable, *gunicorn, "--no-control-socket", "payments_service:create_app()"]


def _stack(
    settings: Settings,
    site: Site,
    env: dict[str, str],
    api: subprocess.Popen[bytes],
    sandbox: subprocess.Popen[bytes],
    logs: Path,
) -> Stack:
    # As long as the service lets a site token live (an hour by default): a run is shorter.
    lifetime = timedelta(seconds=settings.site_token_max_lifetime_seconds)
    token = mint_site_token(site.jwt_secret, site.id, settings.jwt_audience, None, lifetime)
    return Stack(
        f"http://{env['GUNICORN_BIND']}",
        env["RAZORPAY_API_BASE_URL"],
        env["DATABASE_URL"],
        token,
        mint_admin_token(settings, "bench", timedelta(hours=2)),
        site_id=site.id,
        api_pid=api.pid,
        sandbox_pid=sandbox.pid,
        env=env,
        log_dir=logs,
    )


def _stop_everything(
    processes: list[subprocess.Popen[bytes]],
    log_files: list[IO[bytes]],
    throwaway_logs: Path | None,
    server: PostgresServer,
    previous_handler: Any,
) -> None:
    """Stop what was started, newest first, ignoring Ctrl-C / SIGTERM meanwhile so the
    teardown runs to the end; then the default SIGINT handler and the previous SIGTERM one."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        for process in reversed(processes):
            stop_process(process)
        for file in log_files:
            file.close()
        if throwaway_logs is not None:  # nobody asked for the logs: do not leave them behind
            shutil.rmtree(throwaway_logs, ignore_errors=True)
        server.cleanup()
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, previous_handler)
