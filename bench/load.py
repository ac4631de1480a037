"""Load generators with one result shape: wrk for HTTP (bench/requests.lua), pgbench for SQL.

Request files hold one pre-generated request per line (see bench/requests.lua), so signed or
per-request-distinct bodies cost wrk nothing at run time.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

LUA_SCRIPT = Path(__file__).with_name("requests.lua")
HEADER_SEPARATOR = "\x1f"
SLACK_SECONDS = 60  # how much longer than its duration a run may take before it is killed


class LoadError(RuntimeError):
    """A load generator failed or printed nothing we can read."""


@dataclass(frozen=True)
class Request:
    """One HTTP request as wrk will send it."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""

    def line(self) -> str:
        """The request as one line of a request file."""
        headers = HEADER_SEPARATOR.join(f"{name}: {value}" for name, value in self.headers.items())
        parts = (self.method, self.path, headers, self.body)
        if any(char in part for part in parts for char in "\t\n\r"):
            raise ValueError(f"{self.method} {self.path}: tabs and newlines cannot be sent")
        return "\t".join(parts) + "\n"


def write_requests(path: Path, requests: Iterable[Request]) -> int:
    """Write a request file; returns how many requests it holds."""
    count = 0
    with path.open("w", encoding="utf-8") as file:
        for request in requests:
            file.write(request.line())
            count += 1
    if count == 0:
        raise ValueError(f"{path}: no requests to write")
    return count


@dataclass(frozen=True)
class LoadResult:
    """What one timed run measured."""

    requests: int
    seconds: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int  # non-2xx answers plus socket errors (wrk), failed transactions (pgbench)
    distinct: int | None = None  # different requests in the request file (wrk)

    @property
    def rate(self) -> float:
        """Completed requests (or transactions) per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cycled(self) -> bool:
        """True when wrk ran out of distinct requests and sent some twice."""
        return self.distinct is not None and self.requests > self.distinct


def wrk_available() -> bool:
    """Whether the wrk binary is on PATH."""
    return shutil.which("wrk") is not None


def run_wrk(
    base_url: str,
    request_file: Path,
    *,
    duration: int,
    connections: int,
    timeout_seconds: int = 10,
) -> LoadResult:
    """Drive ``base_url`` with one wrk thread cycling through ``request_file``."""
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={timeout_seconds}s",
        "-s",
        str(LUA_SCRIPT),
        base_url,
        "--",
        str(request_file),
    ]
    finished = subprocess.run(  # noqa: S603 - fixed program, our own arguments
        command, capture_output=True, text=True, timeout=duration + SLACK_SECONDS, check=False
    )
    found = re.search(r"^BENCH_RESULT (\{.*\})$", finished.stdout, re.MULTILINE)
    if finished.returncode != 0 or found is None:
        raise LoadError(f"wrk failed ({finished.returncode}): {finished.stderr or finished.stdout}")
    data = json.loads(found.group(1))
    socket_errors = sum(data[name] for name in ("connect", "read", "write", "timeout"))
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["non2xx"] + socket_errors,
        distinct=data["distinct"],
    )


def run_pgbench(
    pg_bin: Path,
    dsn: str,
    script: Path,
    *,
    duration: int,
    clients: int,
    workdir: Path,
) -> LoadResult:
    """Run a custom pgbench script (``-n -c clients -j 1 -T duration``), logging every
    transaction to compute latency percentiles."""
    prefix = workdir / f"pgbench-{script.stem}"
    for old in workdir.glob(prefix.name + ".*"):
        old.unlink()
    command = [str(pg_bin / "pgbench"), "-n", f"-c{clients}", "-j1", f"-T{duration}"]
    command += ["-f", str(script), "-l", f"--log-prefix={prefix}", dsn]
    finished = subprocess.run(  # noqa: S603 - fixed program, our own arguments
        command, capture_output=True, text=True, timeout=duration + SLACK_SECONDS, check=False
    )
    output = finished.stdout + finished.stderr
    processed = re.search(r"number of transactions actually processed: (\d+)", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    if finished.returncode != 0 or processed is None:
        raise LoadError(f"pgbench failed ({finished.returncode}): {output}")
    latencies = _logged_latencies(workdir, prefix)
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else None
    return LoadResult(
        requests=int(processed.group(1)),
        seconds=float(duration),
        p50_ms=cuts[49] if cuts else None,
        p99_ms=cuts[98] if cuts else None,
        errors=int(failed.group(1)) if failed else 0,
    )


def _logged_latencies(workdir: Path, prefix: Path) -> list[float]:
    """Every transaction's latency (ms) from pgbench's logs, which are removed once read."""
    latencies: list[float] = []
    for log in workdir.glob(prefix.name + ".*"):
        with log.open(encoding="ascii") as file:
            # client_id transaction_no time script_no time_epoch time_us (time in us)
            latencies.extend(int(line.split()[2]) / 1000 for line in file)
        log.unlink()
    return latencies
