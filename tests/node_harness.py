"""What the Node.js tests share: ``npm ci`` once per lock file, a free loopback port, a
notification worker thread, a database of the site's own, and running ``node --test``."""

from __future__ import annotations

import hashlib
import re
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from flask import Flask

from payments_service.notifications import deliver_due

ROOT = Path(__file__).resolve().parent.parent
NPM_CI_TIMEOUT = 300
NODE_TEST_TIMEOUT = 240
DELIVERY_INTERVAL = 0.2


def npm_ci_once(folder: Path) -> None:
    """``npm ci`` in ``folder``; skipped while node_modules matches its package-lock.json."""
    digest = hashlib.sha256((folder / "package-lock.json").read_bytes()).hexdigest()
    stamp = folder / "node_modules" / ".installed-lock-sha256"
    if stamp.is_file() and stamp.read_text().strip() == digest:
        return
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=NPM_CI_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"npm ci in {folder} failed:\n{done.stdout}\n{done.stderr}"
    stamp.write_text(digest)


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Worker:
    """The notification worker: ``deliver_due`` every 0.2 s until stopped."""

    def __init__(self, app: Flask) -> None:
        self.db = app.extensions["payments_service"].db
        self.session = requests.Session()
        self.stopping = threading.Event()
        self.errors: list[BaseException] = []
        self.delivered = 0
        self.thread = threading.Thread(target=self._run, name="notification-worker", daemon=True)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.delivered += deliver_due(self.db, self.session).delivered
            except Exception as exc:  # reported by the test, not lost in the thread
                self.errors.append(exc)
                return
            self.stopping.wait(DELIVERY_INTERVAL)

    def __enter__(self) -> Worker:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)
        self.session.close()


@contextmanager
def running_worker(app: Flask) -> Iterator[Worker]:
    with Worker(app) as running:
        yield running
    assert not running.thread.is_alive(), "the notification worker did not stop"
    assert not running.errors, f"the notification worker failed: {running.errors!r}"


@contextmanager
def site_database(postgresql_proc: Any) -> Iterator[dict[str, str]]:
    """An empty database for a site's own tables, as the PG* variables node-postgres reads."""
    name = f"site_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(
        host=postgresql_proc.host,
        port=postgresql_proc.port,
        user=postgresql_proc.user,
        password=postgresql_proc.password or None,
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    env = {
        "PGHOST": str(postgresql_proc.host),
        "PGPORT": str(postgresql_proc.port),
        "PGUSER": str(postgresql_proc.user),
        "PGDATABASE": name,
    }
    if postgresql_proc.password:
        env["PGPASSWORD"] = str(postgresql_proc.password)
    try:
        yield env
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def run_node_tests(folder: Path, env: dict[str, str], pattern: str = "test/*.test.js") -> str:
    """``node --test`` on the folder's tests; asserts they all ran and passed. Answers the TAP."""
    tests = sorted(str(path.relative_to(folder)) for path in folder.glob(pattern))
    assert tests, f"no tests match {pattern} in {folder}"
    try:
        done = subprocess.run(
            ["node", "--test", "--test-reporter=tap", *tests],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=NODE_TEST_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"node --test ran over {NODE_TEST_TIMEOUT} s:\n{exc.stdout!r}\n{exc.stderr!r}")
    output = f"{done.stdout}\n{done.stderr}"
    print(output)  # shown with -s or -rP: the Node test report
    assert done.returncode == 0, f"node --test failed (exit {done.returncode}):\n{output}"
    assert "# SKIP" not in output, f"some Node tests were skipped:\n{output}"
    assert re.search(r"^# fail 0$", done.stdout, re.MULTILINE), output
    return output


def passed(output: str, name: str) -> bool:
    """Whether the TAP output reports the test ``name`` as ok."""
    return re.search(rf"^\s*ok \d+ - {re.escape(name)}", output, re.MULTILINE) is not None
