"""`make run`: refuses busy ports; starts the whole stack, takes a purchase, refunds the one of
the start before (the sandbox remembers it) and stops on Ctrl-C leaving nothing behind, five
times in a row; a process that cannot start, or that dies, stops everything with the reason
and a non-zero exit.

The end-to-end tests run the real entry point (`python -m payments_service.devstack`, what
`make run` runs) in a subprocess, in a temporary directory of its own (its .env and its
embedded PostgreSQL) and on free ports. They are slow (marked `slow`; `make test` runs them).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from payments_service.devstack.processes import (
    Children,
    StartFailed,
    StopSignals,
    wait_until_ready,
)
from payments_service.devstack.stack import Ports, ensure_ports_free

BANNER_SECONDS = 180  # a cold start (initdb) on a busy 2-core machine stays well under this
STOP_SECONDS = 60  # devstack's own bound (30 s, then SIGKILL) plus stopping PostgreSQL
KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "XDG_RUNTIME_DIR")


def test_a_port_another_process_listens_on_stops_the_start_and_is_named() -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as gunicorn's workers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        with pytest.raises(SystemExit, match=f"port {port} on 127.0.0.1 is in use"):
            ensure_ports_free([port])


def test_free_ports_let_the_start_go_on() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    ensure_ports_free([port])


def test_ports_come_from_the_environment_given_when_the_stack_starts() -> None:
    given = {"API_PORT": "9100", "SANDBOX_PORT": "9110", "NEW_SITE_PORT": "9122"}

    ports = Ports.from_env(given)

    assert ports == Ports(api=9100, sandbox=9110, sites={"old-site": 8021, "new-site": 9122})
    with pytest.raises(SystemExit, match="SANDBOX_PORT must be a TCP port number"):
        Ports.from_env({"SANDBOX_PORT": "eighty"})


def test_an_api_that_accepts_but_does_not_answer_is_waited_for_until_the_named_deadline() -> None:
    with socket.socket() as silent:  # connections queue in its backlog; nothing ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/readyz"

        with pytest.raises(StartFailed, match=r"was not ready in 1 s \(no answer: ReadTimeout\)"):
            wait_until_ready([("the API", url)], Children(), StopSignals(), 1, 0.2)


@pytest.mark.slow
def test_the_embedded_postgres_stops_after_use_even_when_an_earlier_user_was_killed(
    data_dir: Path,
) -> None:
    use = "from pathlib import Path\n"
    use += "from payments_service.devstack.embedded_db import embedded_postgres\n"
    use += f"with embedded_postgres(Path({str(data_dir)!r})):\n    print('in use', flush=True)\n"
    with subprocess.Popen(
        [sys.executable, "-c", use + "    input()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as killed:
        assert killed.stdout is not None and killed.stdout.readline() == b"in use\n"
        killed.kill()  # as a `make run` killed by kill -9: it never lets go of the server
    assert (data_dir / "pg" / "postmaster.pid").exists()

    subprocess.run([sys.executable, "-c", use], check=True, timeout=STOP_SECONDS)

    assert not (data_dir / "pg" / "postmaster.pid").exists()


# --- the real `make run`, end to end ---------------------------------------------------


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


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """PAYMENTS_DATA_DIR for one test, outside pytest's own temporary directories: those are
    made private (0700) again whenever another pytest run starts, and as root the embedded
    PostgreSQL runs as another user, which must reach its data directory."""
    directory = Path(tempfile.mkdtemp(prefix="payments-devstack-"))
    yield directory
    stop_postgres(directory / "pg")  # if a failed test left it running
    shutil.rmtree(directory, ignore_errors=True)


def free_ports() -> dict[str, int]:
    """A free loopback port for each of the four variables (held together while chosen)."""
    names = ("API_PORT", "SANDBOX_PORT", "OLD_SITE_PORT", "NEW_SITE_PORT")
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in names]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return {name: probe.getsockname()[1] for name, probe in zip(names, probes, strict=True)}


@pytest.fixture
def devstack(tmp_path: Path, data_dir: Path) -> Iterator[Devstack]:
    stack = Devstack(tmp_path, data_dir, free_ports())
    yield stack
    stack.kill_leftovers()


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


@pytest.mark.slow
def test_make_run_takes_a_purchase_refunds_the_last_start_s_and_leaves_nothing_five_times(
    devstack: Devstack,
) -> None:
    paid_in_the_last_start: str | None = None
    for run in range(5):  # the first start is cold (initdb), the others warm
        devstack.start()
        tokens = devstack.wait_for_banner()
        assert f"http://127.0.0.1:{devstack.ports['API_PORT']}/docs/" in devstack.output()

        if paid_in_the_last_start is not None:  # the sandbox was restarted since its payment
            page = refund_on_the_admin_page(devstack.ports, paid_in_the_last_start)
            assert f"of {paid_in_the_last_start}: processed;" in page, page
        verified = buy_one_course(devstack.ports, tokens["NEW_SITE_TOKEN"], f"buyer{run}")
        assert verified["order"]["status"] == "paid"
        paid_in_the_last_start = verified["order"]["id"]

        assert devstack.ctrl_c() == 0, devstack.output()
        assert devstack.output().rstrip().endswith("stopped")
        assert "stopping the rest" not in devstack.output()  # no process died on its own
        devstack.assert_nothing_left()


@pytest.mark.slow
def test_an_api_that_cannot_start_stops_everything_with_the_reason(devstack: Devstack) -> None:
    devstack.extra_env["GUNICORN_TIMEOUT"] = "soon"  # only the API's gunicorn.conf.py reads it
    devstack.start()
    deadline = time.monotonic() + BANNER_SECONDS
    while "the API (gunicorn)" not in devstack.output() and devstack.alive:
        devstack.note_processes()  # the processes it started, before it stops them
        assert time.monotonic() < deadline
        time.sleep(0.1)

    assert devstack.wait() == 1
    output = devstack.output()
    assert "the API (gunicorn) exited (exit code 1) before the stack was ready" in output
    assert output.rstrip().endswith("stopped")
    assert "payments_service is running" not in output
    devstack.assert_nothing_left()


@pytest.mark.slow
def test_a_process_that_dies_while_running_stops_the_rest_and_is_named(
    devstack: Devstack,
) -> None:
    devstack.start()
    devstack.wait_for_banner()
    worker = next(p for p in devstack.started.values() if p.cmdline()[-1] == "worker")

    worker.kill()

    assert devstack.wait() == 1
    assert "the worker exited (killed by SIGKILL); stopping the rest" in devstack.output()
    devstack.assert_nothing_left()
