"""Running `make run`'s entry point as a test does: its own process group, output in a file,
every process it started noted, and the checks that nothing is left once it stops."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

from payments_service.devstack.stack import ensure_ports_free

BANNER_SECONDS = 180  # a cold start (initdb) on a busy 2-core machine stays well under this


STOP_SECONDS = 60  # devstack's own bound (30 s, then SIGKILL) plus stopping PostgreSQL


KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "XDG_RUNTIME_DIR")


@dataclass
class Devstack:
    """One `python -m payments_service.devstack` in ``workdir``, its output in a file."""

    workdir: Path
    data_dir: Path
    ports: dict[str, int]
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    started: dict[int, psutil.Process] = field(default_factory=dict)  # by pid
    sessions: set[int] = field(default_factory=set)  # theirs, noted while they ran

    def start(self) -> None:
        env = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
        env.update({name: str(port) for name, port in self.ports.items()})
        env.update(PAYMENTS_DATA_DIR=str(self.data_dir), **self.extra_env)
        with (self.workdir / "devstack.log").open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "payments_service.devstack"],
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own, as a shell's job
            )
        self.started, self.sessions = {}, set()

    def output(self) -> str:
        return (self.workdir / "devstack.log").read_text(errors="replace")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_for_banner(self) -> dict[str, str]:
        """The banner's tokens by name, once printed; notes every process started."""
        deadline = time.monotonic() + BANNER_SECONDS
        while "NEW_SITE_TOKEN=" not in self.output():
            assert self.alive, f"devstack exited:\n{self.output()}"
            assert time.monotonic() < deadline, f"no banner in {BANNER_SECONDS} s"
            time.sleep(0.2)
        self.note_processes()
        lines = (line.strip() for line in self.output().splitlines())
        return dict(line.split("=", 1) for line in lines if "_TOKEN=" in line)

    def note_processes(self) -> None:
        """Add the processes devstack runs now, and their sessions, to those noted."""
        assert self.process is not None
        with contextlib.suppress(psutil.NoSuchProcess):
            for process in psutil.Process(self.process.pid).children(recursive=True):
                self.started.setdefault(process.pid, process)
                self.sessions.add(_session_of(process) or 0)
        self.sessions.discard(0)

    def ctrl_c(self) -> int:
        """SIGINT to devstack's process group, as the terminal sends it on Ctrl-C."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=STOP_SECONDS)

    def wait(self) -> int:
        assert self.process is not None
        return self.process.wait(timeout=BANNER_SECONDS + STOP_SECONDS)

    def left_running(self) -> list[psutil.Process]:
        """The processes started, and any other in their sessions, still running."""
        left = {pid: process for pid, process in self.started.items() if _running(process)}
        for process in psutil.process_iter():
            if _session_of(process) in self.sessions and _running(process):
                left.setdefault(process.pid, process)
        return list(left.values())

    def assert_nothing_left(self) -> None:
        assert self.started, "no process was noted"
        left = [process.pid for process in self.left_running()]
        assert left == [], f"left running: {left}\n{self.output()}"
        ensure_ports_free(list(self.ports.values()))  # SystemExit naming a port still taken
        postmaster = self.data_dir / "pg" / "postmaster.pid"
        assert not postmaster.exists(), "the embedded PostgreSQL still runs"

    def kill_leftovers(self) -> None:
        """Teardown: SIGKILL whatever a failed test left running."""
        if self.process is not None and self.alive:
            self.process.kill()
            self.process.wait(timeout=STOP_SECONDS)
        for process in self.left_running():
            with contextlib.suppress(psutil.Error):
                process.kill()


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _session_of(process: psutil.Process) -> int | None:
    try:
        return os.getsid(process.pid)
    except (ProcessLookupError, PermissionError):
        return None


def stop_postgres(pgdata: Path) -> None:
    """Stop the PostgreSQL running in ``pgdata``, if any (a fast shutdown)."""
    with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
        os.kill(int((pgdata / "postmaster.pid").read_text().split()[0]), signal.SIGINT)


def free_ports() -> dict[str, int]:
    """A free loopback port for each of the four variables (held together while chosen)."""
    names = ("API_PORT", "SANDBOX_PORT", "OLD_SITE_PORT", "NEW_SITE_PORT")
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in names]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return {name: probe.getsockname()[1] for name, probe in zip(names, probes, strict=True)}


def buy_one_course(ports: dict[str, int], token: str, buyer: str) -> dict[str, Any]:
    """Create an order as the new site, pay it in the sandbox, verify it: the README's curl."""
    api = f"http://127.0.0.1:{ports['API_PORT']}"
    sandbox = f"http://127.0.0.1:{ports['SANDBOX_PORT']}"
    order = requests.post(
        f"{api}/v1/orders",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"cart-{buyer}"},
        json={
            "amount": 49900,
            "currency": "INR",
            "product": {"sku": "python-101", "name": "Python 101"},
            "customer": {"email": f"{buyer}@example.com", "name": buyer},
        },
        timeout=30,
    )
    assert order.status_code == 201, order.text
    razorpay_order = order.json()["checkout"]["order_id"]
    paid = requests.post(
        f"{sandbox}/_sandbox/orders/{razorpay_order}/pay", json={"outcome": "success"}, timeout=30
    )
    assert paid.status_code == 200, paid.text
    verified = requests.post(f"{api}/v1/payments/verify", json=paid.json(), timeout=30)
    assert verified.status_code == 200, verified.text
    result: dict[str, Any] = verified.json()
    return result


def refund_on_the_admin_page(ports: dict[str, int], order_id: str) -> str:
    """Press Refund on the old site's /admin for one order (the README's click); the page
    that follows, its notice naming the refund."""
    admin = f"http://127.0.0.1:{ports['OLD_SITE_PORT']}/admin"
    page = requests.post(f"{admin}/refunds", data={"order_id": order_id}, timeout=30)
    assert page.status_code == 200 and page.history[0].status_code == 303, page.text
    return page.text
