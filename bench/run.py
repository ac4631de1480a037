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
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import psycopg2
import psycopg2.extensions
import requests

from bench.load import LoadResult, Request, run_pgbench, run_wrk, write_requests, wrk_available
from bench.monitor import Measured, Monitor, Scenario
from bench.report import report
from bench.seed import create_sites, insert_reconcile_orders, seed_history
from bench.settings import (
    CONNECTIONS,
    DUPLICATE_EVENTS,
    DURATION,
    HISTORY_CUSTOMERS,
    HISTORY_ORDERS,
    HISTORY_SITE,
    JSON,
    KEYED_ORDERS_PER_SECOND,
    LATENCY_CONNECTIONS,
    ORDER_AMOUNT,
    ORDER_BODY,
    PREP_THREADS,
    RECONCILE_MAX_SECONDS,
    RECONCILE_PAYMENTS,
    RECONCILE_SITE,
    RUNS,
    SLOW_SANDBOX_MS,
    WARMUP_SECONDS,
    log,
)
from bench.stack import PG_BIN, Stack, running_stack

T = TypeVar("T")
R = TypeVar("R")


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
