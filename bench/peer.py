"""The seller's Express backend and this service side by side (bench/peer_stack.py), on the
same fake Razorpay and the same PostgreSQL: create order (fake instant, then +200 ms),
verify, webhooks (distinct, duplicates), in interleaved rounds (peer, ours, peer, ours...)
at each connection count of BENCH_PEER_CONNECTIONS; bench/peer_report.py prints the table."""

from __future__ import annotations

import math
import os
import time
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import psutil
import psycopg2
import requests

from bench import peer_inputs
from bench.harness import Bench
from bench.load import LoadResult, Request, run_wrk, write_requests
from bench.monitor import tree_cpu
from bench.peer_report import PeerRun
from bench.peer_stack import PeerStack, running_peers
from bench.settings import (
    DUPLICATE_EVENTS,
    DURATION,
    PEER_CONNECTIONS,
    PEER_ROUNDS,
    SLOW_SANDBOX_MS,
    WARMUP_SECONDS,
    log,
)

# req/s a first run is prepared for, before one of its kind was measured: above the peer's
# best here (~1,300 verifies/s), so that its first round does not run out of distinct
# payments (repeats fail fast with an error, and would inflate its rate)
_EXPECTED_RATE = {"verify": 2000.0, "webhooks": 2500.0}
_MAX_POOL = 30_000
# What a run must have written, as (what, how it is counted): the peer's webhook and
# duplicate handlers write nothing.
_EFFECTS = {
    ("peer", "orders"): ("orders", "SELECT count(*) FROM orders"),
    ("peer", "orders_slow"): ("orders", "SELECT count(*) FROM orders"),
    ("peer", "verify"): ("payments", "SELECT count(*) FROM payments"),
    ("ours", "orders"): ("orders", "SELECT count(*) FROM orders"),
    ("ours", "orders_slow"): ("orders", "SELECT count(*) FROM orders"),
    ("ours", "verify"): ("orders paid", "SELECT count(*) FROM orders WHERE status = 'paid'"),
    ("ours", "webhooks"): (
        "events applied",
        "SELECT count(*) FROM razorpay_events WHERE status = 'applied'",
    ),
    ("ours", "duplicates"): ("events stored", "SELECT count(*) FROM razorpay_events"),
}


def compare(bench: Bench) -> None:
    with running_peers(bench.stack.dsn, bench.workdir / "logs" / "peer") as stack:
        Comparison(bench, stack).run()


class Comparison:
    """The interleaved runs of one side-by-side, appended to ``bench.peer_runs``."""

    def __init__(self, bench: Bench, stack: PeerStack) -> None:
        self.bench = bench
        self.stack = stack
        self.files = bench.workdir / "peer"
        self.files.mkdir(exist_ok=True)
        peer_order, our_order = peer_inputs.create_order_requests(stack)
        self.orders = {"peer": self._file("orders-peer", [peer_order])}
        self.orders["ours"] = self._file("orders-ours", [our_order])
        self.duplicates: dict[str, Path] = {}

    def run(self) -> None:
        self._warm_up()
        for service in ("peer", "ours"):
            self.duplicates[service] = self._stored_duplicates(service)
        for round_ in range(1, PEER_ROUNDS + 1):
            log(f"side by side: round {round_} of {PEER_ROUNDS}")
            for connections in PEER_CONNECTIONS:
                self._round(round_, connections)

    def _round(self, round_: int, connections: int) -> None:
        for service in ("peer", "ours"):
            self._measure(service, "orders", self.orders[service], connections, round_)
        for service in ("peer", "ours"):
            self._verify(service, connections, round_)
        for service in ("peer", "ours"):
            self._webhooks(service, connections, round_)
        for service in ("peer", "ours"):
            self._measure(service, "duplicates", self.duplicates[service], connections, round_)
        self._fake_delay(SLOW_SANDBOX_MS)
        try:
            for service in ("peer", "ours"):
                self._measure(service, "orders_slow", self.orders[service], connections, round_)
        finally:
            self._fake_delay(0)

    def _verify(self, service: str, connections: int, round_: int) -> None:
        peer = service == "peer"
        count = self._pool_size(service, "verify")
        bodies = peer_inputs.verify_requests(self.stack, peer, count)
        file = self._file(f"verify-{service}", bodies)
        self._measure(service, "verify", file, connections, round_, distinct=True)

    def _webhooks(self, service: str, connections: int, round_: int) -> None:
        peer = service == "peer"
        deliveries = peer_inputs.webhook_requests(
            self.stack, peer, self._pool_size(service, "webhooks")
        )
        file = self._file(f"webhooks-{service}", deliveries)
        self._measure(service, "webhooks", file, connections, round_, distinct=True)

    def _warm_up(self) -> None:
        """A short run per service and path, not reported (JIT, pools, caches)."""
        log("side by side: warming up both services")
        for service in ("peer", "ours"):
            peer = service == "peer"
            files = [
                self.orders[service],
                self._file("warm-verify", peer_inputs.verify_requests(self.stack, peer, 300)),
                self._file("warm-webhooks", peer_inputs.webhook_requests(self.stack, peer, 300)),
            ]
            for file in files:
                run_wrk(self._url(service), file, duration=WARMUP_SECONDS, connections=16)

    def _stored_duplicates(self, service: str) -> Path:
        """A few events delivered once already; the duplicate runs send them again and again."""
        events = peer_inputs.webhook_requests(self.stack, service == "peer", DUPLICATE_EVENTS)
        with requests.Session() as http:
            for event in events:
                answer = http.post(
                    self._url(service) + event.path,
                    data=event.body.encode(),
                    headers=dict(event.headers),
                    timeout=30,
                )
                answer.raise_for_status()
        return self._file(f"duplicates-{service}", events)

    def _measure(
        self,
        service: str,
        path: str,
        file: Path,
        connections: int,
        round_: int,
        *,
        distinct: bool = False,
    ) -> None:
        processes = (self._server_pid(service), self.stack.fake_pid, self.bench.monitor.postmaster)
        effect = _EFFECTS.get((service, path))
        done_before = self._count(service, effect[1]) if effect else 0
        before, busy_before, ours_before = _cpu(processes), _busy(), self._bench_cpu()
        started = time.monotonic()
        result = run_wrk(self._url(service), file, duration=DURATION, connections=connections)
        wall = time.monotonic() - started
        spent = [b - a for a, b in zip(before, _cpu(processes), strict=True)]
        other = (_busy() - busy_before) - (self._bench_cpu() - ours_before)
        server, fake, database = (1000 * s / max(result.requests, 1) for s in spent)
        run = PeerRun(
            service=service,
            path=path,
            connections=connections,
            round=round_,
            result=result if distinct else _not_distinct(result),
            cpu_ms=(server, fake, database),
            other_cpu=max(0.0, 100 * other / (wall * (psutil.cpu_count() or 1))),
            check=f"+{self._count(service, effect[1]) - done_before:,} {effect[0]}"
            if effect
            else "",
        )
        self.bench.peer_runs.append(run)
        log(
            f"  {service} {path} c{connections}: {result.rate:,.0f} req/s,"
            f" p99 {result.p99_ms or 0:.1f} ms, {result.errors} errors"
        )

    def _pool_size(self, service: str, path: str) -> int:
        """Distinct requests for one run: 1.4 times the best rate measured so far."""
        rates = [
            run.result.rate
            for run in self.bench.peer_runs
            if (run.service, run.path) == (service, path)
        ]
        rate = max(rates, default=_EXPECTED_RATE[path])
        return min(_MAX_POOL, max(300, math.ceil(1.4 * rate * DURATION)))

    def _bench_cpu(self) -> float:
        """CPU of every process the bench started (wrk is a child of this one)."""
        stack = self.bench.stack
        pids = [os.getpid(), self.bench.monitor.postmaster, stack.api_pid, stack.sandbox_pid]
        pids += [self.stack.fake_pid, self.stack.peer_pid, self.stack.ours_pid]
        return sum(tree_cpu(pid) for pid in pids)

    def _count(self, service: str, query: str) -> int:
        dsn = self.stack.peer_dsn if service == "peer" else self.stack.ours_dsn
        with closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
            cur.execute(query)
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def _server_pid(self, service: str) -> int:
        return self.stack.peer_pid if service == "peer" else self.stack.ours_pid

    def _url(self, service: str) -> str:
        return self.stack.peer if service == "peer" else self.stack.ours

    def _fake_delay(self, milliseconds: int) -> None:
        answer = requests.post(
            f"{self.stack.fake}/_test/delay", json={"ms": milliseconds}, timeout=10
        )
        answer.raise_for_status()

    def _file(self, name: str, items: list[Request]) -> Path:
        path = self.files / f"{name}.requests"
        write_requests(path, items)
        return path


def _cpu(pids: tuple[int, ...]) -> list[float]:
    return [tree_cpu(pid) for pid in pids]


def _busy() -> float:
    cpu = psutil.cpu_times()
    return float(cpu.user + cpu.nice + cpu.system)


def _not_distinct(result: LoadResult) -> LoadResult:
    return replace(result, distinct=None)
