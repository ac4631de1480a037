"""How long the webhook receiver takes to verify, store, dedupe and apply an event.

Prepares N paid orders (their payment.captured events recorded by the sandbox), then
delivers the events to the API under gunicorn with C concurrent senders, and prints
latency percentiles. Razorpay treats no answer within ~5 s as a failure.

    .venv/bin/python bench/webhook_latency.py [N] [C]
"""

from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import requests

from bench.stack import Stack, running_stack


def main(total: int = 400, concurrency: int = 8) -> None:
    with running_stack() as stack, requests.Session() as http:
        _pay_orders(stack, http, total)
        events = [
            e
            for e in http.get(f"{stack.sandbox}/_sandbox/events", timeout=30).json()
            if e["event"] == "payment.captured"
        ]
        with ThreadPoolExecutor(concurrency) as pool:
            started = time.perf_counter()
            latencies = sorted(pool.map(partial(_deliver, stack.api), events))
            elapsed = time.perf_counter() - started
    cut = statistics.quantiles(latencies, n=100)
    print(f"{len(latencies)} payment.captured deliveries, {concurrency} concurrent senders")
    print(
        f"throughput {len(latencies) / elapsed:.0f}/s   p50 {cut[49] * 1000:.1f} ms   "
        f"p99 {cut[98] * 1000:.1f} ms   max {latencies[-1] * 1000:.1f} ms"
    )


def _pay_orders(stack: Stack, http: requests.Session, total: int) -> None:
    """``total`` orders, each paid in the sandbox (which records its payment.captured)."""
    auth = {"Authorization": f"Bearer {stack.site_token}"}
    for n in range(total):
        order = http.post(
            f"{stack.api}/v1/orders",
            headers=auth,
            timeout=10,
            json={
                "amount": 49900,
                "product": {"sku": f"bench-{n % 50}", "name": "Bench"},
                "customer": {"email": f"buyer{n}@example.com"},
            },
        ).json()
        http.post(
            f"{stack.sandbox}/_sandbox/orders/{order['razorpay_order_id']}/pay",
            json={"outcome": "success"},
            timeout=10,
        )


def _deliver(api: str, event: dict[str, str]) -> float:
    """Send one recorded event as Razorpay would; the seconds the API took to answer 200."""
    started = time.perf_counter()
    answer = requests.post(
        f"{api}/v1/webhooks/razorpay",
        data=event["body"].encode(),
        timeout=10,
        headers={
            "Content-Type": "application/json",
            "X-Razorpay-Signature": event["signature"],
            "X-Razorpay-Event-Id": event["id"],
        },
    )
    if answer.status_code != 200:
        raise SystemExit(f"webhook answered {answer.status_code}: {answer.text}")
    return time.perf_counter() - started


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
