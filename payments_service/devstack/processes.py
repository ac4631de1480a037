"""The processes `make run` starts: each in its own session, stopped together, none left behind.

Each child runs in a session (and process group) of its own, so the terminal's Ctrl-C reaches
`make run` alone; it then signals each child once (SIGTERM: gunicorn's master stops its own
workers), waits a bounded time, and SIGKILLs whatever is left of each child's group. Signals
to `make run` (SIGINT, SIGTERM, SIGHUP) are only recorded by their handler and acted on at the
next check, so a stop is never cut short half-way.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from types import FrameType

import requests

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class StopRequested(Exception):
    """Someone asked `make run` to stop (Ctrl-C, SIGTERM, SIGHUP)."""


class StartFailed(Exception):
    """The stack cannot run; the message says why, in a line for the terminal."""


class StopSignals:
    """Records the first of SIGINT, SIGTERM or SIGHUP; ``check()`` turns it into StopRequested."""

    def __init__(self) -> None:
        self.received: int | None = None

    def install(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._record)

    def _record(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum

    def check(self) -> None:
        """Raise StopRequested if a stop signal has arrived."""
        if self.received is not None:
            raise StopRequested(signal.Signals(self.received).name)


@dataclass(frozen=True)
class Child:
    """One process `make run` started, by the name the terminal shows for it."""

    name: str
    process: subprocess.Popen[bytes]


class Children:
    """The processes started so far; ``stop()`` ends every one of them."""

    def __init__(self) -> None:
        self._started: list[Child] = []

    def spawn(self, name: str, arguments: list[str], env: dict[str, str]) -> None:
        """Run ``python <arguments>`` with this interpreter, in a new session."""
        process = subprocess.Popen(  # noqa: S603 - our own modules
            [sys.executable, *arguments],
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=functools.partial(_die_with_parent, os.getpid()),
        )
        self._started.append(Child(name, process))

    def first_exit(self) -> str | None:
        """'<name> exited (exit code N)' for the first child found to have exited, if any
        (it is then reaped, with anything left in its process group)."""
        for child in self._started:
            if child.process.returncode is None and _has_exited(child.process):
                _end_group(child.process)
                return f"{child.name} exited ({describe_exit(child.process)})"
        return None

    def stop(self, timeout: float) -> None:
        """Signal each running child once, wait up to ``timeout`` seconds for all of them,
        then SIGKILL what is left of each one's process group."""
        for child in self._started:
            if child.process.returncode is None and not _has_exited(child.process):
                os.kill(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self._started:
            if child.process.returncode is not None:
                continue  # reaped already: its pid may belong to someone else now
            while not _has_exited(child.process):
                if time.monotonic() >= deadline:
                    with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP)
                        print(f"{child.name} did not stop in {timeout:.0f} s; killing it")
                    break
                time.sleep(0.05)
            _end_group(child.process)


def describe_exit(process: subprocess.Popen[bytes]) -> str:
    """'exit code 3' or 'killed by SIGKILL', for a reaped process."""
    code = process.returncode
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def _has_exited(process: subprocess.Popen[bytes]) -> bool:
    """Whether the process has exited, leaving it unreaped: its pid, which is also its process
    group's id, cannot be reused until ``_end_group`` reaps it."""
    found = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    return found is not None


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL every process left in the child's group (the child itself, if it still runs),
    then reap the child."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _die_with_parent(parent: int) -> None:
    """In the child, before exec: have the kernel send SIGTERM when `make run` dies without
    stopping it (kill -9), so no child outlives it. Linux only; elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def wait_until_ready(
    targets: list[tuple[str, str]],
    children: Children,
    signals: StopSignals,
    seconds: float,
    request_timeout: float = 5,
) -> None:
    """Wait until each ``(name, url)`` answers with a status below 500 (the API's /readyz
    answers 503 until it is ready), any request error meaning "not ready yet"; print a line
    of progress every ten seconds; raise StartFailed at the deadline or when a child exits
    first, StopRequested when a stop signal arrives."""
    names = ", ".join(name for name, _ in targets)
    print(f"waiting for {names} to answer (up to {seconds:.0f} s)", flush=True)
    started = last_report = time.monotonic()
    for name, url in targets:
        while (failure := _not_ready(url, request_timeout)) is not None:
            signals.check()
            exited = children.first_exit()
            if exited is not None:
                raise StartFailed(f"{exited} before the stack was ready (see its log above)")
            waited = time.monotonic() - started
            if waited >= seconds:
                raise StartFailed(f"{name} at {url} was not ready in {seconds:.0f} s ({failure})")
            if time.monotonic() - last_report >= 10:
                waiting = f"{name} at {url} ({waited:.0f} s; {failure})"
                print(f"  still waiting for {waiting}", flush=True)
                last_report = time.monotonic()
            time.sleep(0.25)


def _not_ready(url: str, timeout: float) -> str | None:
    """None once ``url`` answers below 500, else what went wrong."""
    try:
        status = requests.get(url, timeout=timeout).status_code
    except requests.RequestException as exc:
        return f"no answer: {type(exc).__name__}"
    return None if status < 500 else f"status {status}"
