"""`make bench`: throughput and latency of the service on this machine, as one table.

Starts a production-like stack on 127.0.0.1 (bench/stack.py: fresh embedded PostgreSQL, the
sandbox, the API under gunicorn with gunicorn.conf.py), drives it with wrk (one thread, a
fixed number of connections, a fixed duration per run) and pgbench, runs every figure
twice, and prints one table, the ratios the targets are about, and the API workers' memory.

    .venv/bin/python -m bench.run

Settings (environment): BENCH_DURATION (s per run, 10), BENCH_CONNECTIONS (16),
BENCH_LATENCY_CONNECTIONS (2, for the money trail's latency runs), BENCH_RUNS
(2), BENCH_HISTORY_ORDERS (1000000), BENCH_HISTORY_CUSTOMERS (200000), BENCH_RECONCILE_PAYMENTS
(100000), BENCH_RECONCILE_MAX_SECONDS (per reconcile run, 120; 0 = no limit: a run cut short
is reported with its rate and the projected full time), BENCH_PHASES (a comma-separated
subset of trivial,pgbench,orders,verify,trail,reconcile) and BENCH_TARGET_* for the targets
listed in TARGETS.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import psutil
import psycopg2
import psycopg2.extensions
import requests

from bench.load import LoadResult, Request, run_pgbench, run_wrk, write_requests, wrk_available
from bench.seed import create_sites, insert_reconcile_orders, seed_history
from bench.stack import PG_BIN, Stack, running_stack


def _setting(name: str, default: int) -> int:
    value = int(os.environ.get(name, default))
    if value < 0:
        raise SystemExit(f"{name} must not be negative")
    return value


DURATION = _setting("BENCH_DURATION", 10)
CONNECTIONS = _setting("BENCH_CONNECTIONS", 16)
LATENCY_CONNECTIONS = _setting("BENCH_LATENCY_CONNECTIONS", 2)
RUNS = max(2, _setting("BENCH_RUNS", 2))
HISTORY_ORDERS = _setting("BENCH_HISTORY_ORDERS", 1_000_000)
HISTORY_CUSTOMERS = _setting("BENCH_HISTORY_CUSTOMERS", 200_000)
RECONCILE_PAYMENTS = _setting("BENCH_RECONCILE_PAYMENTS", 100_000)
RECONCILE_MAX_SECONDS = _setting("BENCH_RECONCILE_MAX_SECONDS", 120)
SLOW_SANDBOX_MS = 200
WARMUP_SECONDS = 2
# Enough distinct keys for a run: about three times the order rate this machine reaches.
KEYED_ORDERS_PER_SECOND = 1500
DUPLICATE_EVENTS = 10
PREP_THREADS = 16
HISTORY_SITE = "bench-history"
RECONCILE_SITE = "bench-reconcile"
ORDER_AMOUNT = 49900
ORDER_BODY = {
    "amount": ORDER_AMOUNT,
    "product": {"sku": "python-101", "name": "Python 101"},
    "customer": {"email": "b@example.com"},
}
JSON = {"Content-Type": "application/json"}
T = TypeVar("T")
R = TypeVar("R")
RSS_LIMIT_MB = 150


def log(message: str) -> None:
    """Progress, on stderr, so stdout holds only the report."""
    print(f"[{time.monotonic() - STARTED:6.0f} s] {message}", file=sys.stderr, flush=True)


STARTED = time.monotonic()


# --- what each run measured besides the load generator's own figures ----------------------


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
        self._postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
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
            our_cpu=sum(_tree_cpu(pid) for pid in (os.getpid(), self._postmaster)),
            sessions=sessions,
            transactions=transactions,
            api_log_size=self._api_log().stat().st_size,
            split_cpu=(
                _tree_cpu(self._stack.api_pid),
                _tree_cpu(self._stack.sandbox_pid),
                _tree_cpu(self._postmaster),
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


def _tree_cpu(pid: int) -> float:
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


# --- the benchmark -----------------------------------------------------------------------


class Bench:
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

    def trivial(self) -> None:
        self.scenario("trivial", "GET /healthz (trivial JSON: framework ceiling)")
        file = self.requests_file("healthz", [Request("GET", "/healthz")])
        self.warm_up(file)
        for _ in range(RUNS):
            self.wrk("trivial", file)

    def pgbench(self) -> None:
        scenario = self.scenario("pgbench", "pgbench 1-row INSERT per xact (durable writes)")
        self.query_exec(
            "CREATE TABLE bench_insert (id bigserial PRIMARY KEY, payload text NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )
        script = self.workdir / "insert.sql"
        script.write_text("INSERT INTO bench_insert (payload) VALUES ('bench payload');\n")
        for _ in range(RUNS):
            before = self.monitor.snapshot()
            result = run_pgbench(
                PG_BIN,
                self.stack.dsn,
                script,
                duration=DURATION,
                clients=CONNECTIONS,
                workdir=self.workdir,
            )
            measured = self.monitor.measure(result, before, unit="xact/s")
            measured.db_sessions = measured.restarts = None  # not about the API
            scenario.runs.append(measured)
            log(f"pgbench run {len(scenario.runs)}: {result.rate:.0f} xact/s")
        self.query_exec("DROP TABLE bench_insert")

    def query_exec(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.db.cursor() as cur:
            cur.execute(sql, params)

    def orders(self) -> None:
        order = Request(
            "POST", "/v1/orders", {**JSON, **self.site_auth}, json.dumps(ORDER_BODY, indent=None)
        )
        file = self.requests_file("orders", [order])

        self.scenario("orders", "POST /v1/orders (sandbox answers at once)")
        self.warm_up(file)
        for _ in range(RUNS):
            self.wrk("orders", file, partial(self._orders_added, self._api_orders()))
        self.scenario("orders_slow", f"POST /v1/orders (sandbox +{SLOW_SANDBOX_MS} ms per call)")
        self.sandbox_config(latency_ms=SLOW_SANDBOX_MS)
        try:
            for _ in range(RUNS):
                self.wrk("orders_slow", file, partial(self._orders_added, self._api_orders()))
        finally:
            self.sandbox_config(latency_ms=0)
        self.keyed_orders()

    def keyed_orders(self) -> None:
        """Orders as sites send them, each with a new Idempotency-Key: the key's bookkeeping
        is the difference from the runs without one. Every run gets keys of its own (wrk
        starts a request file from the top), so none is a replay."""
        self.scenario("orders_keyed", "POST /v1/orders, a new Idempotency-Key each")
        self.warm_up(self.keyed_orders_file("warm-up"))
        for run in range(RUNS):
            file = self.keyed_orders_file(f"run{run}")
            check = partial(self._orders_added, self._api_orders())
            self.wrk("orders_keyed", file, check, distinct=True)

    def keyed_orders_file(self, prefix: str) -> Path:
        body = json.dumps(ORDER_BODY, indent=None)
        headers = {**JSON, **self.site_auth}
        orders = [
            Request("POST", "/v1/orders", {**headers, "Idempotency-Key": f"{prefix}-{n}"}, body)
            for n in range(KEYED_ORDERS_PER_SECOND * max(DURATION, WARMUP_SECONDS))
        ]
        return self.requests_file(f"orders-keyed-{prefix}", orders)

    def _api_orders(self) -> int:
        return self.count("SELECT count(*) FROM orders WHERE site_id = %s", (self.stack.site_id,))

    def _orders_added(self, before: int) -> str:
        return f"+{self._api_orders() - before:,} orders"

    def pool_size(self, factor: float) -> int:
        """Distinct paid orders one verify or webhook run gets: ``factor`` times what the
        order runs took in a run, so that a run should not run out (the table says if one
        did: it then sent some requests twice)."""
        orders = self.scenarios.get("orders")
        rates = [run.result.rate for run in orders.runs] if orders else []
        rates = rates or [400.0]  # the orders phase was left out
        return max(300, min(30_000, math.ceil(factor * max(rates) * DURATION)))

    def paid_orders(self, count: int) -> list[dict[str, str]]:
        """``count`` orders made through the API and paid on the sandbox, each once: the
        verify bodies Checkout would hand the browser. Orders left unpaid by the order runs
        are used first."""
        ids = [
            row[0]
            for row in self.query(
                "SELECT razorpay_order_id FROM orders WHERE site_id = %s AND status = 'created'"
                " ORDER BY created_at LIMIT %s",
                (self.stack.site_id, count),
            )
        ]
        missing = count - len(ids)
        if missing > 0:
            log(f"creating {missing} more orders through the API")
            ids += _parallel(self._create_order, range(missing))
        log(f"paying {len(ids)} orders on the sandbox")
        return _parallel(self._pay, ids)

    def _create_order(self, _: int) -> str:
        answer = _session().post(
            f"{self.stack.api}/v1/orders", json=ORDER_BODY, headers=self.site_auth, timeout=60
        )
        answer.raise_for_status()
        return str(answer.json()["razorpay_order_id"])

    def _pay(self, razorpay_order_id: str) -> dict[str, str]:
        answer = _session().post(
            f"{self.stack.sandbox}/_sandbox/orders/{razorpay_order_id}/pay",
            json={"outcome": "success"},
            timeout=60,
        )
        answer.raise_for_status()
        body: dict[str, str] = answer.json()
        if "razorpay_signature" not in body:
            raise RuntimeError(f"paying {razorpay_order_id} failed: {body}")
        return body

    def verify_and_webhooks(self) -> None:
        # A webhook needs less work than an order (about half): its runs get more orders.
        # Not many more than needed: paying one on the sandbox scans all its payments.
        verify_pool, webhook_pool = self.pool_size(1.3), self.pool_size(2.2)
        paid = self.paid_orders(RUNS * (verify_pool + webhook_pool))
        verify_sets = [paid[n * verify_pool : (n + 1) * verify_pool] for n in range(RUNS)]
        self.verify(verify_sets)
        self.webhooks(paid[RUNS * verify_pool :], webhook_pool)

    def verify(self, sets: list[list[dict[str, str]]]) -> None:
        self.scenario("verify", "POST /v1/payments/verify (each a new paid order)")
        for n, bodies in enumerate(sets):
            file = self.requests_file(
                f"verify-{n}",
                [Request("POST", "/v1/payments/verify", JSON, json.dumps(b)) for b in bodies],
            )
            ids = [b["razorpay_order_id"] for b in bodies]
            self.wrk("verify", file, partial(self._paid, ids), distinct=True)

    def _paid(self, razorpay_order_ids: list[str]) -> str:
        paid = self.count(
            "SELECT count(*) FROM orders WHERE razorpay_order_id = ANY(%s) AND status = 'paid'",
            (razorpay_order_ids,),
        )
        return f"{paid:,} orders paid"

    def webhooks(self, paid: list[dict[str, str]], pool: int) -> None:
        wanted = {body["razorpay_order_id"] for body in paid}
        answer = self.http.get(f"{self.stack.sandbox}/_sandbox/events", timeout=120)
        answer.raise_for_status()
        events = [
            event
            for event in answer.json()
            if event["event"] == "payment.captured"
            and json.loads(event["body"])["payload"]["payment"]["entity"]["order_id"] in wanted
        ]
        if len(events) < len(wanted):
            raise RuntimeError(f"the sandbox recorded {len(events)} of {len(wanted)} captures")
        deliveries = [_delivery(event) for event in events]
        self.scenario("webhooks", "POST /v1/webhooks/razorpay (distinct payment.captured)")
        for n in range(RUNS):
            chunk = deliveries[n * pool : (n + 1) * pool]
            ids = [event["id"] for event in events[n * pool : (n + 1) * pool]]
            file = self.requests_file(f"webhooks-{n}", chunk)
            self.wrk("webhooks", file, partial(self._applied, ids), distinct=True)
        # Duplicates: a few events already stored, sent again and again.
        repeated = deliveries[:DUPLICATE_EVENTS]
        for request, event in zip(repeated, events, strict=False):
            headers = dict(request.headers)
            self.http.post(
                self.stack.api + request.path, data=event["body"], headers=headers, timeout=30
            ).raise_for_status()
        self.scenario("duplicates", "POST /v1/webhooks/razorpay (100% duplicates)")
        file = self.requests_file("duplicates", repeated)
        for _ in range(RUNS):
            self.wrk("duplicates", file, partial(self._events_added, self._events_stored()))

    def _events_stored(self) -> int:
        return self.count("SELECT count(*) FROM razorpay_events")

    def _events_added(self, before: int) -> str:
        return f"+{self._events_stored() - before} events stored"

    def _applied(self, event_ids: list[str]) -> str:
        applied = self.count(
            "SELECT count(*) FROM razorpay_events WHERE id = ANY(%s) AND status = 'applied'",
            (event_ids,),
        )
        return f"{applied:,} events applied"

    def trail(self) -> None:
        scenario = self.scenario(
            "trail",
            f"GET /v1/customers/{{email}}/transactions ({HISTORY_ORDERS:,} orders)",
        )
        log(f"seeding {HISTORY_ORDERS:,} orders of {HISTORY_CUSTOMERS:,} customers by SQL")
        started = time.monotonic()
        counts = seed_history(self.stack.dsn, HISTORY_SITE, HISTORY_ORDERS, HISTORY_CUSTOMERS)
        seconds = time.monotonic() - started
        scenario.title += f" [seeding {seconds:.0f} s]"
        log(f"seeded {counts} in {seconds:.0f} s")
        rng = random.Random(20261122)  # noqa: S311 - picks customers, not secrets

        def requests_for(count: int) -> list[Request]:
            return [
                Request(
                    "GET",
                    f"/v1/customers/customer{rng.randrange(HISTORY_CUSTOMERS)}"
                    "@example.com/transactions",
                    self.admin_auth,
                )
                for _ in range(count)
            ]

        self.warm_up(self.requests_file("trail-warmup", requests_for(2000)))
        file = self.requests_file("trail", requests_for(50_000))
        for _ in range(RUNS):
            self.wrk("trail", file, distinct=True)
        # Latency, not throughput: at 16 connections the service is saturated and p99 is
        # the queue wrk builds; a few connections show what one request costs.
        self.scenario(
            "trail_latency",
            f"GET /v1/customers/{{email}}/transactions at {LATENCY_CONNECTIONS} connections",
        )
        file = self.requests_file("trail-latency", requests_for(50_000))
        for _ in range(RUNS):
            self.wrk("trail_latency", file, distinct=True, connections=LATENCY_CONNECTIONS)

    def reconcile(self) -> None:
        count = RECONCILE_PAYMENTS
        time.sleep(1.1)  # every earlier sandbox payment is now outside the window
        window_from = datetime.fromtimestamp(math.floor(time.time()), UTC)
        order_ids = self._seed_sandbox(count)
        window_to = datetime.fromtimestamp(math.ceil(time.time()) + 1, UTC)
        scenario = self.scenario("reconcile", f"reconcile {count:,} sandbox payments (CLI)")
        insert_reconcile_orders(self.stack.dsn, RECONCILE_SITE, order_ids, ORDER_AMOUNT, "INR")
        log(f"stored {len(order_ids):,} matching orders; reconciling")
        rescan: int | None = None
        for run in range(RUNS):
            measured, scanned = self._reconcile_run(
                window_from, window_to, first=run == 0, rescan=rescan
            )
            scenario.runs.append(measured)
            log(f"reconcile run {run + 1}: {measured.result.rate:.0f} payments/s, {measured.check}")
            if run == 0:
                rate = measured.result.rate
                self.reconcile_seconds = count / rate if rate else None
                rescan = scanned  # run 1 was cut short: later runs re-scan only its part

    def _seed_sandbox(self, count: int) -> list[str]:
        """Seed ``count`` paid orders in the sandbox in one call, measured as its own figure
        (the tests date seeded history instead of timing it); returns their order ids."""
        scenario = self.scenario("sandbox_seed", f"POST /_sandbox/seed ({count:,} paid orders)")
        log(f"seeding {count:,} captured payments in the sandbox")
        before = self.monitor.snapshot()
        started = time.monotonic()
        answer = self.http.post(
            f"{self.stack.sandbox}/_sandbox/seed",
            json={"orders": count, "receipt_prefix": "bench-rc-", "notes": {"source": "bench"}},
            timeout=900,
        )
        seconds = time.monotonic() - started
        answer.raise_for_status()
        order_ids = [str(item["order_id"]) for item in answer.json()["items"]]
        result = LoadResult(len(order_ids), seconds, None, None, 0)
        check = f"{seconds:.1f} s for {len(order_ids):,}"
        scenario.runs.append(self.monitor.measure(result, before, check=check, unit="payments/s"))
        self.seed_rate = result.rate
        log(f"seeded {len(order_ids):,} in {seconds:.1f} s")
        return order_ids

    def _reconcile_run(
        self, window_from: datetime, window_to: datetime, *, first: bool, rescan: int | None
    ) -> tuple[Measured, int | None]:
        """One reconcile through the CLI, stopped at the time limit or, when the first run
        was, once it has re-scanned that run's part. Returns the run, and how many payments
        it got through if it was stopped."""
        count = RECONCILE_PAYMENTS
        fmt = "%Y-%m-%dT%H:%M:%S"
        command = [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "payments_service",
            "reconcile",
            "--from",
            window_from.strftime(fmt),
            "--to",
            window_to.strftime(fmt),
        ]
        sandbox_log = self.stack.log_dir / "sandbox.log"
        log_start = sandbox_log.stat().st_size
        applied_before = self._reconciled()
        before = self.monitor.snapshot()
        started = time.monotonic()
        limit = RECONCILE_MAX_SECONDS or math.inf
        with subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            env={**self.stack.env, "LOG_LEVEL": "WARNING"},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ) as process:
            stopped = False
            while process.poll() is None:
                scanned = _pages_scanned(sandbox_log, log_start)
                if time.monotonic() - started > limit or (rescan is not None and scanned >= rescan):
                    process.terminate()
                    stopped = True
                    break
                time.sleep(0.25)
            try:
                output, _ = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                output, _ = process.communicate()
        seconds = time.monotonic() - started
        applied = self._reconciled() - applied_before
        if not stopped:
            if process.returncode != 0:
                raise RuntimeError(f"reconcile exited with {process.returncode}")
            report = json.loads(output)
            result = LoadResult(report["seen"], seconds, None, None, report["errors"])
            check = (
                f"{seconds:.1f} s: {report['updated']:,} updated, {report['unchanged']:,} unchanged"
            )
            wanted = "updated" if first else "unchanged"
            ok = report["seen"] == count and report[wanted] == count and not report["errors"]
            measured = self.monitor.measure(result, before, check=check, unit="payments/s", ok=ok)
            return measured, None
        scanned = _pages_scanned(sandbox_log, log_start)
        result = LoadResult(scanned, seconds, None, None, 0)
        projected = f"~{count / result.rate:.0f} s for all" if result.rate else "no progress"
        why = "time limit" if rescan is None else "re-scanned run 1's part"
        check = (
            f"stopped at {seconds:.0f} s ({why}): {scanned:,} scanned, {applied:,} newly"
            f" applied; {projected}"
        )
        # A re-scan may apply the first few payments of the page run 1 was cut in.
        ok = None if first else applied <= 100 if rescan is not None else applied == 0
        measured = self.monitor.measure(result, before, check=check, unit="payments/s", ok=ok)
        return measured, scanned

    def _reconciled(self) -> int:
        return self.count(
            "SELECT count(*) FROM payments p JOIN orders o ON o.id = p.order_id"
            " WHERE o.site_id = %s",
            (RECONCILE_SITE,),
        )


_local = threading.local()


def _session() -> requests.Session:
    """One HTTP session per preparation thread (keep-alive where the server allows it)."""
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def _parallel(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    with ThreadPoolExecutor(PREP_THREADS) as pool:
        return list(pool.map(work, items))


def _delivery(event: dict[str, str]) -> Request:
    return Request(
        "POST",
        "/v1/webhooks/razorpay",
        {
            **JSON,
            "X-Razorpay-Signature": event["signature"],
            "X-Razorpay-Event-Id": event["id"],
        },
        event["body"],
    )


_PAGE = re.compile(rb"GET /v1/payments\?[^ ]*skip=(\d+)")


def _pages_scanned(sandbox_log: Path, offset: int) -> int:
    """Payments a running reconcile has got through: the start of the last page it asked
    the sandbox for (it finishes a page before asking for the next)."""
    with sandbox_log.open("rb") as file:
        file.seek(offset)
        skips = [int(found) for found in _PAGE.findall(file.read())]
    return max(skips, default=0)


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    default: float
    at_least: bool  # the figure must be >= the target (else <=)

    @property
    def value(self) -> float:
        return float(os.environ.get(f"BENCH_TARGET_{self.key.upper()}", self.default))


TARGETS = (
    Target("webhook_vs_trivial", "webhook ingest / trivial", 0.50, at_least=True),
    Target("webhook_vs_pgbench", "webhook ingest / pgbench", 0.15, at_least=True),
    Target("duplicates_vs_trivial", "duplicate webhooks / trivial", 0.80, at_least=True),
    Target("orders_vs_trivial", "orders / trivial", 0.30, at_least=True),
    Target("verify_vs_trivial", "verify / trivial", 0.30, at_least=True),
    Target(
        "orders_slow_vs_ideal",
        f"orders at +{SLOW_SANDBOX_MS} ms / ({CONNECTIONS} connections / "
        f"{SLOW_SANDBOX_MS / 1000:g} s = {CONNECTIONS * 1000 / SLOW_SANDBOX_MS:.0f}/s)",
        0.80,
        at_least=True,
    ),
    Target(
        "trail_p99_ms",
        f"money trail p99 at {LATENCY_CONNECTIONS} connections, ms (worst run)",
        20,
        at_least=False,
    ),
    Target(
        "reconcile_seconds",
        f"reconcile {RECONCILE_PAYMENTS:,} payments, s (run 1; projected if cut)",
        60,
        at_least=False,
    ),
    Target("sandbox_seed_rate", "sandbox seed, paid orders/s (one call)", 1000, at_least=True),
    Target("rss_mb", "API worker RSS, MB (max seen during the bench)", RSS_LIMIT_MB, False),
)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def figures(bench: Bench) -> dict[str, float | None]:
    """The figures the targets are about: throughputs are means of the runs."""

    def rate(key: str) -> float | None:
        scenario = bench.scenarios.get(key)
        return scenario.mean_rate() if scenario else None

    trail = bench.scenarios.get("trail_latency")
    return {
        "webhook_vs_trivial": _ratio(rate("webhooks"), rate("trivial")),
        "webhook_vs_pgbench": _ratio(rate("webhooks"), rate("pgbench")),
        "duplicates_vs_trivial": _ratio(rate("duplicates"), rate("trivial")),
        "orders_vs_trivial": _ratio(rate("orders"), rate("trivial")),
        "verify_vs_trivial": _ratio(rate("verify"), rate("trivial")),
        "orders_slow_vs_ideal": _ratio(rate("orders_slow"), CONNECTIONS * 1000 / SLOW_SANDBOX_MS),
        "trail_p99_ms": trail.worst_p99() if trail else None,
        "reconcile_seconds": bench.reconcile_seconds,
        "sandbox_seed_rate": bench.seed_rate,
        "rss_mb": bench.monitor.max_rss_kb / 1024 if bench.monitor.max_rss_kb else None,
    }


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _cpu_split(run: Measured) -> str:
    if run.cpu_ms is None or run.unit != "req/s":
        return "-"
    return "/".join(f"{value:.2f}" for value in run.cpu_ms)


def report(bench: Bench, rss: dict[int, int], failures: list[str]) -> str:
    lines: list[str] = []
    cpus = psutil.cpu_count() or 0
    lines.append(
        f"make bench: {RUNS} runs of {DURATION} s per figure; wrk -t1 -c{CONNECTIONS}; "
        f"gunicorn gthread {bench.stack.env['WEB_CONCURRENCY']} workers x "
        f"{bench.stack.env['GUNICORN_THREADS']} threads, DB_POOL_MAX "
        f"{bench.stack.env['DB_POOL_MAX']}; {cpus} CPUs; fresh embedded PostgreSQL; sandbox"
    )
    lines.append(
        "errors = non-2xx + socket errors; CPU ms/req = CPU time the API workers, the sandbox "
        "and PostgreSQL spent per request; DB conn/req = PostgreSQL sessions opened per "
        "request; restarts = gunicorn workers booted during the run; other CPU = share of "
        "the machine used by processes outside the bench; conns = wrk's connections held by "
        "each API worker mid-run"
    )
    width = max([len(s.title) for s in bench.scenarios.values()] + [20])
    header = (
        f"{'scenario':<{width}}  run {'rate':>14} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        f" {'CPU ms/req api/sbx/db':>21} {'DB conn/req':>11} {'restarts':>8} {'other CPU':>9}"
        "  check"
    )
    lines += ["", header, "-" * len(header)]
    for scenario in bench.scenarios.values():
        if not scenario.runs:
            lines.append(f"{scenario.title:<{width}}  {scenario.failure or 'not run'}")
            continue
        for n, run in enumerate(scenario.runs, start=1):
            result = run.result
            lines.append(
                f"{scenario.title if n == 1 else '':<{width}}  {n:>3}"
                f" {_number(result.rate):>7} {run.unit:<6}"
                f" {_number(result.p50_ms, 1):>8} {_number(result.p99_ms, 1):>8}"
                f" {result.errors:>7} {_cpu_split(run):>21}"
                f" {_number(run.sessions_per_request, 2):>11}"
                f" {_number(run.restarts):>8}"
                f" {_number(run.other_cpu):>8}%  {run.check}"
                + (f" (cycled: {result.distinct:,} distinct)" if result.cycled else "")
            )
        if scenario.failure:
            lines.append(f"{'':<{width}}  {scenario.failure}")
    busiest = max(
        (run.other_cpu or 0 for scenario in bench.scenarios.values() for run in scenario.runs),
        default=0,
    )
    if busiest > 10:
        lines.append(
            f"WARNING: processes outside the bench used up to {busiest:.0f}% of the CPU "
            "during a run: figures are lower than on an idle machine"
        )
    lines += ["", "Targets (throughput: mean of the runs; latency: worst run)"]
    values = figures(bench)
    for target in TARGETS:
        value = values[target.key]
        sign = ">=" if target.at_least else "<="
        if value is None:
            verdict = "n/a"
        else:
            passed = value >= target.value if target.at_least else value <= target.value
            verdict = "pass" if passed else "MISS"
        shown = _number(value, 3 if abs(value or 0) < 10 else 0)
        lines.append(f"  {target.label:<62} {shown:>9}  {sign} {target.value:<7g} {verdict}")
    unchanged = bench.reconcile_unchanged_verdict()
    lines.append(f"  {'second reconcile reports everything unchanged':<62} {unchanged:>9}")
    lines += ["", "API workers after the run (ps):"]
    for pid, kb in sorted(rss.items()):
        verdict = "pass" if kb / 1024 <= RSS_LIMIT_MB else "MISS"
        lines.append(f"  pid {pid}: RSS {kb / 1024:.1f} MB  (<= {RSS_LIMIT_MB} MB: {verdict})")
    if failures:
        lines += ["", "FAILED:", *(f"  {failure}" for failure in failures)]
    return "\n".join(lines)


def main() -> int:
    if not wrk_available():
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="payments-bench-"))
    failures: list[str] = []
    interrupted = False
    rss: dict[int, int] = {}
    log(f"starting the stack (logs in {workdir / 'logs'})")
    with running_stack(log_dir=workdir / "logs") as stack:
        create_sites(stack.dsn, [HISTORY_SITE, RECONCILE_SITE])
        bench = Bench(stack, workdir)
        phases: list[tuple[str, Callable[[], None]]] = [
            ("trivial", bench.trivial),
            ("pgbench", bench.pgbench),
            ("orders", bench.orders),
            ("verify", bench.verify_and_webhooks),
            ("trail", bench.trail),
            ("reconcile", bench.reconcile),
        ]
        chosen = os.environ.get("BENCH_PHASES")
        if chosen:
            phases = [(key, phase) for key, phase in phases if key in chosen.split(",")]
        try:
            for key, phase in phases:
                try:
                    phase()
                except Exception as exc:  # report it, go on with the other figures
                    failures.append(f"{key}: {type(exc).__name__}: {exc}")
                    log(f"{key} failed: {type(exc).__name__}: {exc}")
                    for scenario in bench.scenarios.values():
                        if len(scenario.runs) < RUNS and scenario.failure is None:
                            scenario.failure = f"FAILED: {type(exc).__name__} (see below)"
            rss = bench.monitor.worker_rss()
            bench.monitor.sample_rss()
        except KeyboardInterrupt:
            interrupted = True
            log("interrupted: stopping everything")
        finally:
            bench.close()
        log("stopping the stack")
    print(report(bench, rss, failures))
    if failures or interrupted:
        print(f"\nlogs kept in {workdir / 'logs'}", file=sys.stderr)
        return 130 if interrupted else 1
    _remove(workdir)
    return 0


def _remove(directory: Path) -> None:
    for path in sorted(directory.rglob("*"), reverse=True):
        if path.is_dir():
            path.rmdir()
        else:
            path.unlink()
    directory.rmdir()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; everything started was stopped", file=sys.stderr)
        sys.exit(130)
