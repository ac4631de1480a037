"""`make run`: refuses busy ports; starts the whole stack, takes a purchase, refunds the one of
the start before (the sandbox remembers it) and stops on Ctrl-C leaving nothing behind, five
times in a row; a process that cannot start, or that dies, stops everything with the reason
and a non-zero exit.

The end-to-end tests run the real entry point (`python -m payments_service.devstack`, what
`make run` runs) in a subprocess, in a temporary directory of its own (its .env and its
embedded PostgreSQL) and on free ports. They are slow (marked `slow`; `make test` runs them).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from payments_service.devstack.processes import (
    Children,
    StartFailed,
    StopSignals,
    wait_until_ready,
)
from payments_service.devstack.stack import Ports, ensure_ports_free
from tests.devstack_runner import (
    BANNER_SECONDS,
    STOP_SECONDS,
    Devstack,
    buy_one_course,
    free_ports,
    refund_on_the_admin_page,
    stop_postgres,
)

MEMBERSHIP_PLAN = re.compile(r"membership plan (plan_[A-Za-z0-9]+) ")  # stack.py says it


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


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """PAYMENTS_DATA_DIR for one test, outside pytest's own temporary directories: those are
    made private (0700) again whenever another pytest run starts, and as root the embedded
    PostgreSQL runs as another user, which must reach its data directory."""
    directory = Path(tempfile.mkdtemp(prefix="payments-devstack-"))
    yield directory
    stop_postgres(directory / "pg")  # if a failed test left it running
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def devstack(tmp_path: Path, data_dir: Path) -> Iterator[Devstack]:
    stack = Devstack(tmp_path, data_dir, free_ports())
    yield stack
    stack.kill_leftovers()


@pytest.mark.slow
def test_make_run_takes_a_purchase_refunds_the_last_start_s_and_leaves_nothing_five_times(
    devstack: Devstack,
) -> None:
    paid_in_the_last_start: str | None = None
    membership_plans: set[str] = set()
    for run in range(5):  # the first start is cold (initdb), the others warm
        devstack.start()
        tokens = devstack.wait_for_banner()
        assert f"http://127.0.0.1:{devstack.ports['API_PORT']}/docs/" in devstack.output()
        membership_plans |= set(MEMBERSHIP_PLAN.findall(devstack.output()))

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
    assert len(membership_plans) == 1, membership_plans  # made by the first start, then found


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
