"""The money trail over a seeded history: throughput, and latency at a few connections."""

from __future__ import annotations

import random
import time

from bench.harness import Bench
from bench.load import Request
from bench.seed import seed_history
from bench.settings import (
    HISTORY_CUSTOMERS,
    HISTORY_ORDERS,
    HISTORY_SITE,
    LATENCY_CONNECTIONS,
    RUNS,
    log,
)


def trail(bench: Bench) -> None:
    scenario = bench.scenario(
        "trail",
        f"GET /v1/customers/{{email}}/transactions ({HISTORY_ORDERS:,} orders)",
    )
    log(f"seeding {HISTORY_ORDERS:,} orders of {HISTORY_CUSTOMERS:,} customers by SQL")
    started = time.monotonic()
    counts = seed_history(bench.stack.dsn, HISTORY_SITE, HISTORY_ORDERS, HISTORY_CUSTOMERS)
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
                bench.admin_auth,
            )
            for _ in range(count)
        ]

    bench.warm_up(bench.requests_file("trail-warmup", requests_for(2000)))
    file = bench.requests_file("trail", requests_for(50_000))
    for _ in range(RUNS):
        bench.wrk("trail", file, distinct=True)
    # Latency, not throughput: at 16 connections the service is saturated and p99 is
    # the queue wrk builds; a few connections show what one request costs.
    bench.scenario(
        "trail_latency",
        f"GET /v1/customers/{{email}}/transactions at {LATENCY_CONNECTIONS} connections",
    )
    file = bench.requests_file("trail-latency", requests_for(50_000))
    for _ in range(RUNS):
        bench.wrk("trail_latency", file, distinct=True, connections=LATENCY_CONNECTIONS)
