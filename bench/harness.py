"""The bench harness: the stack it drives, wrk and SQL helpers, and the scenarios measured so
far; each phase (baseline, orders, payments, trail, reconcile) is a module of its own."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import psycopg2
import psycopg2.extensions
import requests

from bench.load import Request, run_wrk, write_requests
from bench.monitor import Monitor, Scenario
from bench.peer_report import PeerRun
from bench.settings import (
    CONNECTIONS,
    DURATION,
    PREP_THREADS,
    WARMUP_SECONDS,
    log,
)
from bench.stack import Stack

T = TypeVar("T")
R = TypeVar("R")


class Bench:
    """The running stack, the database, the monitor, and what each phase measured."""

    def __init__(self, stack: Stack, workdir: Path) -> None:
        self.stack = stack
        self.workdir = workdir
        self.db = psycopg2.connect(stack.dsn)
        self.db.autocommit = True
        self.monitor = Monitor(stack, self.db)
        self.http = requests.Session()
        self.scenarios: dict[str, Scenario] = {}
        self.site_auth = {"Authorization": f"Bearer {stack.site_token}"}
        # The seeded history belongs to HISTORY_SITE, whose customers another site may not
        # read: the trail is read as an admin (the same queries, the whole trail).
        self.admin_auth = {"Authorization": f"Bearer {stack.admin_token}"}
        self.reconcile_seconds: float | None = None
        self.seed_rate: float | None = None
        self.peer_runs: list[PeerRun] = []  # the side by side with the Express peer

    def close(self) -> None:
        self.http.close()
        self.db.close()

    def reconcile_unchanged_verdict(self) -> str:
        """Whether every reconcile after the first changed nothing."""
        scenario = self.scenarios.get("reconcile")
        later = scenario.runs[1:] if scenario else []
        if not later or any(run.ok is None for run in later):
            return "n/a"
        return "pass" if all(run.ok for run in later) else "MISS"

    # helpers

    def scenario(self, key: str, title: str) -> Scenario:
        return self.scenarios.setdefault(key, Scenario(title))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.db.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def count(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self.query(sql, params)[0][0])

    def requests_file(self, name: str, items: Sequence[Request]) -> Path:
        path = self.workdir / f"{name}.requests"
        write_requests(path, items)
        return path

    def wrk(
        self,
        key: str,
        file: Path,
        check: Callable[[], str] | None = None,
        *,
        distinct: bool = False,
        connections: int = CONNECTIONS,
    ) -> None:
        """One measured wrk run, appended to the scenario ``key``. ``check`` describes the
        effect the run had (looked up once it is over); ``distinct`` says every request must
        differ, so the table flags a run that ran out of them."""
        spread: list[int] = []
        sampler = threading.Timer(
            DURATION / 2, lambda: spread.extend(self.monitor.connections_per_worker())
        )
        before = self.monitor.snapshot()
        sampler.start()
        try:
            result = run_wrk(self.stack.api, file, duration=DURATION, connections=connections)
        finally:
            sampler.cancel()
            sampler.join()
        if not distinct:
            result = replace(result, distinct=None)
        effect = check() if check else ""
        spread_note = f"conns {'/'.join(map(str, spread))}" if spread else ""
        notes = "; ".join(note for note in (spread_note, effect) if note)
        measured = self.monitor.measure(result, before, check=notes)
        scenario = self.scenarios[key]
        scenario.runs.append(measured)
        log(
            f"{scenario.title} run {len(scenario.runs)}: {result.rate:.0f} req/s, "
            f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, {result.errors} errors"
        )

    def warm_up(self, file: Path) -> None:
        run_wrk(self.stack.api, file, duration=WARMUP_SECONDS, connections=CONNECTIONS)

    def sandbox_config(self, **changes: Any) -> None:
        answer = self.http.patch(f"{self.stack.sandbox}/_sandbox/config", json=changes, timeout=10)
        answer.raise_for_status()

    # phases

    def query_exec(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.db.cursor() as cur:
            cur.execute(sql, params)

    def pool_size(self, factor: float) -> int:
        """Distinct paid orders one verify or webhook run gets: ``factor`` times what the
        order runs took in a run, so that a run should not run out (the table says if one
        did: it then sent some requests twice)."""
        orders = self.scenarios.get("orders")
        rates = [run.result.rate for run in orders.runs] if orders else []
        rates = rates or [400.0]  # the orders phase was left out
        return max(300, min(30_000, math.ceil(factor * max(rates) * DURATION)))


_local = threading.local()


def session() -> requests.Session:
    """One HTTP session per preparation thread (keep-alive where the server allows it)."""
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def parallel(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    with ThreadPoolExecutor(PREP_THREADS) as pool:
        return list(pool.map(work, items))
