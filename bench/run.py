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
subset of trivial,pgbench,orders,verify,trail,reconcile,peer) and BENCH_TARGET_* for the
targets listed in TARGETS.

The phase `peer` (bench/peer.py) runs the seller's Express backend (bench/peer/) beside
this service on one fake Razorpay and one PostgreSQL and prints their figures side by side:
BENCH_PEER_ROUNDS (3 interleaved rounds) at each of BENCH_PEER_CONNECTIONS (32,16), each
run BENCH_DURATION long. `BENCH_PHASES=peer` runs only that comparison.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bench import baseline, orders, payments, peer, reconcile, trail
from bench.harness import Bench
from bench.load import wrk_available
from bench.report import report
from bench.seed import create_sites
from bench.settings import (
    HISTORY_SITE,
    RECONCILE_SITE,
    RUNS,
    log,
)
from bench.stack import running_stack

T = TypeVar("T")
R = TypeVar("R")


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
        try:
            for key, phase in _chosen_phases():
                _run_phase(bench, key, phase, failures)
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


def _chosen_phases() -> list[tuple[str, Callable[[Bench], None]]]:
    """Every phase, in order, or those BENCH_PHASES names."""
    phases: list[tuple[str, Callable[[Bench], None]]] = [
        ("trivial", baseline.trivial),
        ("pgbench", baseline.pgbench),
        ("orders", orders.orders),
        ("verify", payments.verify_and_webhooks),
        ("trail", trail.trail),
        ("reconcile", reconcile.reconcile),
        ("peer", peer.compare),
    ]
    chosen = os.environ.get("BENCH_PHASES")
    if chosen:
        phases = [(key, phase) for key, phase in phases if key in chosen.split(",")]
    return phases


def _run_phase(bench: Bench, key: str, phase: Callable[[Bench], None], failures: list[str]) -> None:
    """Run one phase; a failure is reported, and the other figures still made."""
    try:
        phase(bench)
    except Exception as exc:  # report it, go on with the other figures
        failures.append(f"{key}: {type(exc).__name__}: {exc}")
        log(f"{key} failed: {type(exc).__name__}: {exc}")
        for scenario in bench.scenarios.values():
            if len(scenario.runs) < RUNS and scenario.failure is None:
                scenario.failure = f"FAILED: {type(exc).__name__} (see below)"


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
