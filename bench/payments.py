"""Paid orders: Checkout verify and Razorpay webhooks (new and duplicate deliveries) at load."""

from __future__ import annotations

import json
from functools import partial

from bench.harness import Bench, parallel, session
from bench.load import Request
from bench.settings import (
    DUPLICATE_EVENTS,
    JSON,
    ORDER_BODY,
    RUNS,
    log,
)


def paid_orders(bench: Bench, count: int) -> list[dict[str, str]]:
    """``count`` orders made through the API and paid on the sandbox, each once: the
    verify bodies Checkout would hand the browser. Orders left unpaid by the order runs
    are used first."""
    ids = [
        row[0]
        for row in bench.query(
            "SELECT razorpay_order_id FROM orders WHERE site_id = %s AND status = 'created'"
            " ORDER BY created_at LIMIT %s",
            (bench.stack.site_id, count),
        )
    ]
    missing = count - len(ids)
    if missing > 0:
        log(f"creating {missing} more orders through the API")
        ids += parallel(partial(_create_order, bench), range(missing))
    log(f"paying {len(ids)} orders on the sandbox")
    return parallel(partial(_pay, bench), ids)


def _create_order(bench: Bench, _: int) -> str:
    answer = session().post(
        f"{bench.stack.api}/v1/orders", json=ORDER_BODY, headers=bench.site_auth, timeout=60
    )
    answer.raise_for_status()
    return str(answer.json()["razorpay_order_id"])


def _pay(bench: Bench, razorpay_order_id: str) -> dict[str, str]:
    answer = session().post(
        f"{bench.stack.sandbox}/_sandbox/orders/{razorpay_order_id}/pay",
        json={"outcome": "success"},
        timeout=60,
    )
    answer.raise_for_status()
    body: dict[str, str] = answer.json()
    if "razorpay_signature" not in body:
        raise RuntimeError(f"paying {razorpay_order_id} failed: {body}")
    return body


def verify_and_webhooks(bench: Bench) -> None:
    # A webhook needs less work than an order (about half): its runs get more orders.
    # Not many more than needed: paying one on the sandbox scans all its payments.
    verify_pool, webhook_pool = bench.pool_size(1.3), bench.pool_size(2.2)
    paid = paid_orders(bench, RUNS * (verify_pool + webhook_pool))
    verify_sets = [paid[n * verify_pool : (n + 1) * verify_pool] for n in range(RUNS)]
    verify(bench, verify_sets)
    webhooks(bench, paid[RUNS * verify_pool :], webhook_pool)


def verify(bench: Bench, sets: list[list[dict[str, str]]]) -> None:
    bench.scenario("verify", "POST /v1/payments/verify (each a new paid order)")
    for n, bodies in enumerate(sets):
        file = bench.requests_file(
            f"verify-{n}",
            [Request("POST", "/v1/payments/verify", JSON, json.dumps(b)) for b in bodies],
        )
        ids = [b["razorpay_order_id"] for b in bodies]
        bench.wrk("verify", file, partial(_paid, bench, ids), distinct=True)


def _paid(bench: Bench, razorpay_order_ids: list[str]) -> str:
    paid = bench.count(
        "SELECT count(*) FROM orders WHERE razorpay_order_id = ANY(%s) AND status = 'paid'",
        (razorpay_order_ids,),
    )
    return f"{paid:,} orders paid"


def webhooks(bench: Bench, paid: list[dict[str, str]], pool: int) -> None:
    wanted = {body["razorpay_order_id"] for body in paid}
    answer = bench.http.get(f"{bench.stack.sandbox}/_sandbox/events", timeout=120)
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
    bench.scenario("webhooks", "POST /v1/webhooks/razorpay (distinct payment.captured)")
    for n in range(RUNS):
        chunk = deliveries[n * pool : (n + 1) * pool]
        ids = [event["id"] for event in events[n * pool : (n + 1) * pool]]
        file = bench.requests_file(f"webhooks-{n}", chunk)
        bench.wrk("webhooks", file, partial(_applied, bench, ids), distinct=True)
    # Duplicates: a few events already stored, sent again and again.
    repeated = deliveries[:DUPLICATE_EVENTS]
    for request, event in zip(repeated, events, strict=False):
        headers = dict(request.headers)
        bench.http.post(
            bench.stack.api + request.path, data=event["body"], headers=headers, timeout=30
        ).raise_for_status()
    bench.scenario("duplicates", "POST /v1/webhooks/razorpay (100% duplicates)")
    file = bench.requests_file("duplicates", repeated)
    for _ in range(RUNS):
        bench.wrk("duplicates", file, partial(_events_added, bench, _events_stored(bench)))


def _events_stored(bench: Bench) -> int:
    return bench.count("SELECT count(*) FROM razorpay_events")


def _events_added(bench: Bench, before: int) -> str:
    return f"+{_events_stored(bench) - before} events stored"


def _applied(bench: Bench, event_ids: list[str]) -> str:
    applied = bench.count(
        "SELECT count(*) FROM razorpay_events WHERE id = ANY(%s) AND status = 'applied'",
        (event_ids,),
    )
    return f"{applied:,} events applied"


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
