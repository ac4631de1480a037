"""`make bench`'s settings, read once from the environment (see bench/run.py), and its
progress log."""

from __future__ import annotations

import os
import sys
import time


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
# The side-by-side with the seller's Express backend (bench/peer.py): interleaved rounds,
# each at every connection count listed.
PEER_ROUNDS = max(1, _setting("BENCH_PEER_ROUNDS", 3))
PEER_CONNECTIONS = tuple(
    int(value) for value in os.environ.get("BENCH_PEER_CONNECTIONS", "32,16").split(",") if value
)
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
RSS_LIMIT_MB = 150


def log(message: str) -> None:
    """Progress, on stderr, so stdout holds only the report."""
    print(f"[{time.monotonic() - STARTED:6.0f} s] {message}", file=sys.stderr, flush=True)


STARTED = time.monotonic()
