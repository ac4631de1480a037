"""What each bench run measured besides the load generator's own figures: CPU outside the
bench, PostgreSQL sessions, worker restarts, the CPU split and the API workers' RSS."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg2.extensions

from bench.load import LoadResult
from bench.stack import Stack


@dataclass(frozen=True)
class Snapshot:
    at: float
    busy_cpu: float
    our_cpu: float
    sessions: int
    transactions: int
    api_log_size: int
    split_cpu: tuple[float, float, float]  # CPU seconds of the API, the sandbox, PostgreSQL


@dataclass
class Measured:
    """One run: the load result plus what the machine and database did meanwhile."""

    result: LoadResult
    db_sessions: int | None = None
    restarts: int | None = None
    other_cpu: float | None = None
    check: str = ""
    unit: str = "req/s"
    ok: bool | None = None  # reconcile: the run reported what it should
    cpu_ms: tuple[float, float, float] | None = None  # per request: API, sandbox, PostgreSQL

    @property
    def sessions_per_request(self) -> float | None:
        if self.db_sessions is None or not self.result.requests:
            return None
        return self.db_sessions / self.result.requests


@dataclass
class Scenario:
    title: str
    runs: list[Measured] = field(default_factory=list)
    failure: str | None = None

    def mean_rate(self) -> float | None:
        return sum(r.result.rate for r in self.runs) / len(self.runs) if self.runs else None

    def worst_p99(self) -> float | None:
        values = [r.result.p99_ms for r in self.runs if r.result.p99_ms is not None]
        return max(values) if values else None


class Monitor:
    """CPU used outside the bench's processes, PostgreSQL sessions opened, worker restarts,
    and the RSS of the API workers."""

    def __init__(self, stack: Stack, db: psycopg2.extensions.connection) -> None:
        self._stack = stack
        self._db = db
        with db.cursor() as cur:
            cur.execute("SHOW data_directory")
            row = cur.fetchone()
        data_dir = Path(str(row[0])) if row else Path()
        self.postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
        self.max_rss_kb = 0

    def snapshot(self) -> Snapshot:
        with self._db.cursor() as cur:
            cur.execute("SELECT pg_stat_clear_snapshot()")
            cur.execute(
                "SELECT sessions, xact_commit FROM pg_stat_database"
                " WHERE datname = current_database()"
            )
            row = cur.fetchone()
        sessions, transactions = (int(row[0]), int(row[1])) if row else (0, 0)
        cpu = psutil.cpu_times()
        return Snapshot(
            at=time.monotonic(),
            busy_cpu=cpu.user + cpu.nice + cpu.system,
            our_cpu=sum(tree_cpu(pid) for pid in (os.getpid(), self.postmaster)),
            sessions=sessions,
            transactions=transactions,
            api_log_size=self._api_log().stat().st_size,
            split_cpu=(
                tree_cpu(self._stack.api_pid),
                tree_cpu(self._stack.sandbox_pid),
                tree_cpu(self.postmaster),
            ),
        )

    def measure(self, result: LoadResult, before: Snapshot, **extra: Any) -> Measured:
        time.sleep(0.6)  # PostgreSQL publishes a backend's statistics within a second
        after = self.snapshot()
        wall = max(after.at - before.at, 1e-6)
        other = after.busy_cpu - before.busy_cpu - (after.our_cpu - before.our_cpu)
        with self._api_log().open("rb") as file:
            file.seek(before.api_log_size)
            restarts = file.read().count(b"Booting worker with pid")
        self.sample_rss()
        spent = [b - a for a, b in zip(before.split_cpu, after.split_cpu, strict=True)]
        api, sandbox, database = (1000 * seconds / max(result.requests, 1) for seconds in spent)
        return Measured(
            result,
            cpu_ms=(api, sandbox, database),
            db_sessions=after.sessions - before.sessions,
            restarts=restarts,
            other_cpu=max(0.0, 100 * other / (wall * (psutil.cpu_count() or 1))),
            **extra,
        )

    def connections_per_worker(self) -> list[int]:
        """Open client connections each API worker holds, busiest first (gthread workers
        keep a keep-alive connection for good, whatever their threads are doing)."""
        port = int(self._stack.api.rsplit(":", 1)[1])
        counts = []
        for pid in self.worker_rss():
            try:
                connections = psutil.Process(pid).net_connections(kind="tcp")
            except psutil.Error:
                continue
            counts.append(
                sum(1 for c in connections if c.status == "ESTABLISHED" and c.laddr.port == port)
            )
        return sorted(counts, reverse=True)

    def worker_rss(self) -> dict[int, int]:
        """RSS in kB of each API worker, from ps."""
        listing = subprocess.run(  # noqa: S603 - fixed program, our own arguments
            ["ps", "-o", "pid=,rss=", "--ppid", str(self._stack.api_pid)],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return {int(pid): int(rss) for pid, rss in (line.split() for line in listing.splitlines())}

    def sample_rss(self) -> None:
        self.max_rss_kb = max([self.max_rss_kb, *self.worker_rss().values()])

    def _api_log(self) -> Path:
        return self._stack.log_dir / "api.log"


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its descendants, live or already waited for."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total
