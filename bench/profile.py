"""Where a request's time goes: py-spy over the API under wrk load, per path.

Starts the side-by-side stack (bench/peer_stack.py: our API under gunicorn.conf.py against
the Node fake Razorpay, on a fresh embedded PostgreSQL), then for create order, verify and
webhooks (distinct): counts the SQL statements and transactions of a few requests sent one
at a time (log_statement), and records the API's workers with py-spy under wrk, twice: CPU
(``--gil``: samples of the thread holding the GIL) and wall (``--idle``: every thread,
waiting included). Prints, per path, the share of samples each layer appears in (a sample
counts for every layer on its stack, so shares overlap) and the flame files' paths.

    .venv/bin/python -m bench.profile [seconds per recording, 15] [connections, 32]

Needs py-spy (in the test extras) and root or ptrace rights over the workers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import psutil
import psycopg2
import requests
from pgserver.postgres_server import get_server

from bench.load import Request, run_wrk, write_requests
from bench.monitor import tree_cpu
from bench.peer_inputs import create_order_requests, verify_requests, webhook_requests
from bench.peer_stack import PeerStack, running_peers

STATEMENT_SAMPLE = 20  # requests sent one at a time to count statements
RATE = 250  # py-spy samples per second
# Layers, by a pattern over one frame ("function (file:line)"); first the operations, then
# the libraries they spend in.
LAYERS: dict[str, str] = {
    "request handling (inside Flask's wsgi_app)": r"wsgi_app \(flask/app\.py",
    "  our view and what it calls (payments_service/api)": r"\(payments_service/api/",
    "Razorpay call (razorpay_gateway)": r"\(payments_service/razorpay_gateway[/.]",
    "  razorpay SDK": r"\(razorpay/",
    "  requests + urllib3 + http.client": r"\((requests|urllib3)/|\(http/client\.py",
    "database (payments_service/db, psycopg2)": r"\(payments_service/db/|psycopg2",
    "  transaction begin/commit, pool": r"\(payments_service/db/__init__\.py",
    "auth: JWT + site key": (
        r"\((flask_jwt_extended|jwt)/|\(payments_service/auth\.py|api/security\.py"
    ),
    "  site-key lookup (db/sites.py)": r"\(payments_service/db/sites\.py",
    "marshmallow": r"\(marshmallow/",
    "JSON (json, flask.json, bounded_json)": r"\(json/|\(flask/json/|bounded_json\.py",
    "logging": r"\(logging/|\(payments_service/logs\.py",
    "metrics (prometheus_client)": r"\(prometheus_client/|\(payments_service/metrics\.py",
    "werkzeug (request, routing, response)": r"\(werkzeug/",
}
WSGI = re.compile(LAYERS["request handling (inside Flask's wsgi_app)"])
OUTSIDE = "gunicorn outside the app (accept, parse, write)"


def main(seconds: int = 15, connections: int = 32) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="payments-profile-"))
    server = get_server(tempfile.mkdtemp(prefix="payments-profile-pg-"), cleanup_mode="delete")
    try:
        with running_peers(server.get_uri(), workdir / "logs") as stack:
            for path, make in _paths(stack, seconds).items():
                _profile(stack, server.log, workdir, path, make, seconds, connections)
    finally:
        server.cleanup()
    print(f"\nflame inputs (collapsed stacks) in {workdir}")


def _paths(stack: PeerStack, seconds: int) -> dict[str, Callable[[int], list[Request]]]:
    _, order = create_order_requests(stack)
    return {
        # the same order again and again (a site sends one token for an hour)
        "create order": lambda count: [order] * count,
        "verify": lambda count: verify_requests(stack, False, count),
        "webhook (distinct)": lambda count: webhook_requests(stack, False, count),
    }


def _profile(
    stack: PeerStack,
    pg_log: Path,
    workdir: Path,
    path: str,
    make: Callable[[int], list[Request]],
    seconds: int,
    connections: int,
) -> None:
    print(f"\n== {path}")
    print("   " + _statements(stack, pg_log, make(STATEMENT_SAMPLE)))
    for kind in ("cpu", "wall") if seconds else ():  # 0 s: the SQL count alone
        file = workdir / f"{path.split()[0]}-{kind}.requests"
        write_requests(file, make(1000 * (seconds + 5)))
        output = workdir / f"{path.split()[0]}-{kind}.collapsed"
        cpu_before = tree_cpu(stack.ours_pid)
        load = _background_wrk(stack.ours, file, seconds + 4, connections)
        time.sleep(2)
        _py_spy(stack.ours_pid, output, seconds, kind)
        load.join()
        file.unlink()  # large; the collapsed stacks are what is kept
        result = load.result
        cpu = (tree_cpu(stack.ours_pid) - cpu_before) * 1000 / max(result.requests, 1)
        busy = psutil.cpu_percent(interval=None)
        print(
            f"   {kind}: {result.rate:.0f} req/s, p50 {result.p50_ms:.1f} ms, p99"
            f" {result.p99_ms:.1f} ms, API CPU {cpu:.2f} ms/request, machine {busy:.0f}% busy"
            f" (all processes), load average {os.getloadavg()[0]:.1f}"
        )
        # wall: each in-app sample is 1/RATE s of one thread serving a request
        per_request = cpu if kind == "cpu" else _in_app_ms(output, result.rate, seconds)
        for line in _shares(output, kind, per_request):
            print("     " + line)


def _in_app_ms(collapsed: Path, rate: float, seconds: int) -> float:
    """Thread time inside the app per request, from the wall samples."""
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if WSGI.search(stack):
            samples += int(number)
    return 1000 * samples / RATE / max(rate * seconds, 1)


class _Wrk(threading.Thread):
    def __init__(self, url: str, file: Path, seconds: int, connections: int) -> None:
        super().__init__()
        self.args = (url, file, seconds, connections)

    def run(self) -> None:
        url, file, seconds, connections = self.args
        self.result = run_wrk(url, file, duration=seconds, connections=connections)


def _background_wrk(url: str, file: Path, seconds: int, connections: int) -> _Wrk:
    psutil.cpu_percent(interval=None)  # start the machine-wide measurement here
    load = _Wrk(url, file, seconds, connections)
    load.start()
    return load


def _py_spy(pid: int, output: Path, seconds: int, kind: str) -> None:
    command = ["py-spy", "record", "--pid", str(pid), "--subprocesses", "--nonblocking"]
    command += ["--duration", str(seconds), "--rate", str(RATE), "--format", "raw"]
    command += ["--output", str(output), "--gil" if kind == "cpu" else "--idle"]
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    subprocess.run(  # noqa: S603 - our own tool, our own arguments
        [py_spy, *command[1:]], check=True, capture_output=True, timeout=seconds + 60
    )


def _shares(collapsed: Path, kind: str, per_request_ms: float) -> list[str]:
    """Each layer's share: of all samples (CPU: the API's Python time) or of the samples
    inside the app (wall: threads serving a request), and ms per request."""
    counts: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = handling = 0
    for line in collapsed.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        frames, samples = stack.split(";"), int(number)
        total += samples
        if not any(WSGI.search(frame) for frame in frames):
            counts[OUTSIDE] += samples
            continue
        handling += samples
        leaves[frames[-1]] += samples
        for layer, pattern in LAYERS.items():
            if any(re.search(pattern, frame) for frame in frames):
                counts[layer] += samples
    base = total if kind == "cpu" else handling
    what = "all samples (GIL held)" if kind == "cpu" else "samples inside the app"
    lines = [f"{total} samples, {handling} inside the app; share of {what}, ms per request:"]
    for layer in [OUTSIDE, *LAYERS] if kind == "cpu" else LAYERS:
        share = counts[layer] / max(base, 1)
        lines.append(f"{layer:<56} {100 * share:5.1f}% {share * per_request_ms:6.2f} ms")
    lines.append("top frames by own samples inside the app:")
    for frame, samples in leaves.most_common(12):
        lines.append(f"  {100 * samples / max(base, 1):5.1f}%  {frame}")
    return lines


def _statements(stack: PeerStack, pg_log: Path, items: list[Request]) -> str:
    """Statements and transactions per request, from log_statement over ``items`` sent one
    at a time."""
    start = pg_log.stat().st_size
    _log_statements(stack.ours_dsn, "all")
    try:
        with requests.Session() as http:
            for request in items:
                http.request(
                    request.method,
                    stack.ours + request.path,
                    headers=dict(request.headers),
                    data=request.body.encode(),
                    timeout=30,
                ).raise_for_status()
    finally:
        _log_statements(stack.ours_dsn, None)
    with pg_log.open("rb") as file:
        file.seek(start)
        entries = re.split(rb"\n(?!\t)", file.read())  # continuation lines start with a tab
        logged = [
            entry.split(b"statement: ", 1)[1].strip()
            for entry in entries
            if b"statement: " in entry
            and not re.search(rb"statement: (ALTER SYSTEM|SELECT pg_reload_conf)", entry)
        ]
    begins = sum(1 for s in logged if s.upper().startswith(b"BEGIN"))
    kinds = Counter(s.split()[0].upper().decode() for s in logged if s)
    count = len(items)
    shapes = Counter(_shape(statement) for statement in logged)
    return "\n   ".join(
        [
            f"SQL per request: {len(logged) / count:.1f} round trips, {begins / count:.1f}"
            f" transactions ({', '.join(f'{k} {v / count:.1f}' for k, v in kinds.most_common())})",
            *(f"  {n / count:4.1f} x {shape}" for shape, n in shapes.most_common(12)),
        ]
    )


def _shape(statement: bytes) -> str:
    """A logged statement without its literals, its first 90 characters."""
    text = re.sub(r"'(?:[^']|'')*'|\b\d+\b", "?", statement.decode(errors="replace"))
    return " ".join(text.split())[:90]


def _log_statements(dsn: str, value: str | None) -> None:
    with closing(psycopg2.connect(dsn)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            if value is None:
                cur.execute("ALTER SYSTEM RESET log_statement")
            else:
                cur.execute("ALTER SYSTEM SET log_statement = %s", (value,))
            cur.execute("SELECT pg_reload_conf()")
    time.sleep(0.5)  # every backend re-reads the configuration on SIGHUP


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
