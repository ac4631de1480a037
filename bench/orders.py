"""Orders: POST /v1/orders through wrk, with and without an Idempotency-Key, and with the
sandbox answering slowly."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from bench.harness import Bench
from bench.load import Request
from bench.settings import (
    DURATION,
    JSON,
    KEYED_ORDERS_PER_SECOND,
    ORDER_BODY,
    RUNS,
    SLOW_SANDBOX_MS,
    WARMUP_SECONDS,
)


def orders(bench: Bench) -> None:
    order = Request(
        "POST", "/v1/orders", {**JSON, **bench.site_auth}, json.dumps(ORDER_BODY, indent=None)
    )
    file = bench.requests_file("orders", [order])

    bench.scenario("orders", "POST /v1/orders (sandbox answers at once)")
    bench.warm_up(file)
    for _ in range(RUNS):
        bench.wrk("orders", file, partial(_orders_added, bench, _api_orders(bench)))
    bench.scenario("orders_slow", f"POST /v1/orders (sandbox +{SLOW_SANDBOX_MS} ms per call)")
    bench.sandbox_config(latency_ms=SLOW_SANDBOX_MS)
    try:
        for _ in range(RUNS):
            bench.wrk("orders_slow", file, partial(_orders_added, bench, _api_orders(bench)))
    finally:
        bench.sandbox_config(latency_ms=0)
    keyed_orders(bench)


def keyed_orders(bench: Bench) -> None:
    """Orders as sites send them, each with a new Idempotency-Key: the key's bookkeeping
    is the difference from the runs without one. Every run gets keys of its own (wrk
    starts a request file from the top), so none is a replay."""
    bench.scenario("orders_keyed", "POST /v1/orders, a new Idempotency-Key each")
    bench.warm_up(keyed_orders_file(bench, "warm-up"))
    for run in range(RUNS):
        file = keyed_orders_file(bench, f"run{run}")
        check = partial(_orders_added, bench, _api_orders(bench))
        bench.wrk("orders_keyed", file, check, distinct=True)


def keyed_orders_file(bench: Bench, prefix: str) -> Path:
    body = json.dumps(ORDER_BODY, indent=None)
    headers = {**JSON, **bench.site_auth}
    orders = [
        Request("POST", "/v1/orders", {**headers, "Idempotency-Key": f"{prefix}-{n}"}, body)
        for n in range(KEYED_ORDERS_PER_SECOND * max(DURATION, WARMUP_SECONDS))
    ]
    return bench.requests_file(f"orders-keyed-{prefix}", orders)


def _api_orders(bench: Bench) -> int:
    return bench.count("SELECT count(*) FROM orders WHERE site_id = %s", (bench.stack.site_id,))


def _orders_added(bench: Bench, before: int) -> str:
    return f"+{_api_orders(bench) - before:,} orders"
