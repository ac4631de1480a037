"""One Idempotency-Key, one Razorpay order, ever: the key is reserved before Razorpay is asked,
other requests wait for its holder (409 idempotency_key_in_use), and a key whose holder
died or lost Razorpay's answer is taken over once its lease runs out, reusing the order the
holder made (found at Razorpay by its receipt, our order id)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import razorpay
import requests
from flask import Flask

from tests.actions import Clock, SiteCredentials, order_body, use_clock
from tests.contract.openapi import assert_problem

ORDERS = "/v1/orders"
PAST_THE_LEASE = timedelta(seconds=31)  # the lease is 30 s (Settings' default)


def configure(sandbox: Any, **knobs: Any) -> None:
    requests.patch(f"{sandbox.url}/_sandbox/config", json=knobs, timeout=5).raise_for_status()


@pytest.fixture
def chaos(sandbox: Any) -> Iterator[Any]:
    """The sandbox, whose fault knobs the test may turn; all off again afterwards."""
    yield lambda **knobs: configure(sandbox, **knobs)
    configure(
        sandbox,
        api_failure_rate=0.0,
        api_timeout_rate=0.0,
        api_late_answer_rate=0.0,
        api_timeout_ms=30_000,
        seed=None,
    )


@pytest.fixture
def since() -> int:
    """The test's start in Razorpay's time (Unix seconds), to list only its orders."""
    return int(time.time()) - 1


def razorpay_orders(sandbox: Any, since: int) -> dict[str, list[dict[str, Any]]]:
    """The orders Razorpay holds that were made since ``since``, by their ``probe`` note."""
    sdk = razorpay.Client(
        auth=(sandbox.config.key_id, sandbox.config.key_secret), base_url=sandbox.url
    )
    found: dict[str, list[dict[str, Any]]] = {}
    skip = 0
    while True:
        page = sdk.order.all({"from": since, "count": 100, "skip": skip})["items"]
        for order in page:
            notes = order["notes"] if isinstance(order["notes"], dict) else {}
            if "probe" in notes:
                found.setdefault(notes["probe"], []).append(order)
        if len(page) < 100:
            return found
        skip += len(page)


def keyed(site: SiteCredentials, key: str) -> dict[str, str]:
    return {**site.headers, "Idempotency-Key": key}


def test_six_concurrent_orders_with_one_key_make_one_razorpay_order(
    app: Flask, new_site: SiteCredentials, sandbox: Any, since: int, db_rows: Any
) -> None:
    probe = uuid.uuid4().hex
    body, headers = order_body(notes={"probe": probe}), keyed(new_site, "double-click")
    configure(sandbox, latency_ms=300)  # the first request is still at Razorpay when the rest come
    start = threading.Barrier(6)
    answers: list[Any] = []

    def submit() -> None:
        client = app.test_client()
        start.wait()
        answers.append(client.post(ORDERS, json=body, headers=headers))

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = Counter(answer.status_code for answer in answers)
    assert statuses[201] == 1 and statuses[201] + statuses[200] + statuses[409] == 6
    (created,) = [answer.get_json() for answer in answers if answer.status_code == 201]
    for answer in answers:
        if answer.status_code == 409:  # the holder was still at Razorpay: retry, as told
            assert_problem(answer, ORDERS, 409, "idempotency_key_in_use")
            assert answer.headers["Retry-After"] == "1"
            answer = app.test_client().post(ORDERS, json=body, headers=headers)
        assert answer.status_code in (200, 201)
        assert answer.get_json()["id"] == created["id"]
    assert [order["id"] for order in razorpay_orders(sandbox, since)[probe]] == [
        created["razorpay_order_id"]
    ]
    assert db_rows("SELECT razorpay_order_id FROM orders") == [
        {"razorpay_order_id": created["razorpay_order_id"]}
    ]
    assert db_rows("SELECT site_id FROM order_reservations") == []


def test_a_retry_after_a_lost_answer_gets_the_order_razorpay_made_for_the_first_request(
    make_app: Any,
    new_site: SiteCredentials,
    sandbox: Any,
    chaos: Any,
    clock: Clock,
    since: int,
    db_rows: Any,
) -> None:
    client = use_clock(make_app(razorpay_timeout_seconds=0.3), clock).test_client()
    probe = uuid.uuid4().hex
    body, headers = order_body(notes={"probe": probe}), keyed(new_site, "lost-answer")
    chaos(api_late_answer_rate=1.0, api_timeout_ms=1000)
    lost = client.post(ORDERS, json=body, headers=headers)
    chaos(api_late_answer_rate=0.0)

    assert_problem(lost, ORDERS, 503, "gateway_unavailable")
    assert db_rows("SELECT id FROM orders") == []
    (made,) = razorpay_orders(sandbox, since)[probe]
    too_soon = client.post(ORDERS, json=body, headers=headers)
    assert_problem(too_soon, ORDERS, 409, "idempotency_key_in_use")
    assert 1 < int(too_soon.headers["Retry-After"]) <= 30  # the holder gave up: the lease decides
    another_body = client.post(ORDERS, json=order_body(amount=59900), headers=headers)
    assert_problem(another_body, ORDERS, 422, "idempotency_key_reused")
    clock.advance(timedelta(seconds=25))
    assert client.post(ORDERS, json=body, headers=headers).status_code == 409

    clock.advance(PAST_THE_LEASE - timedelta(seconds=25))
    taken_over = client.post(ORDERS, json=body, headers=headers)

    assert taken_over.status_code == 201
    order = taken_over.get_json()
    assert (order["razorpay_order_id"], order["id"]) == (made["id"], made["receipt"])
    assert len(razorpay_orders(sandbox, since)[probe]) == 1
    assert client.post(ORDERS, json=body, headers=headers).get_json()["id"] == order["id"]
    assert db_rows("SELECT site_id FROM order_reservations") == []


def test_a_key_whose_order_razorpay_never_made_is_taken_over_and_makes_one(
    make_app: Any,
    new_site: SiteCredentials,
    sandbox: Any,
    chaos: Any,
    clock: Clock,
    since: int,
    db_rows: Any,
) -> None:
    client = use_clock(make_app(razorpay_timeout_seconds=0.3), clock).test_client()
    probe = uuid.uuid4().hex
    body, headers = order_body(notes={"probe": probe}), keyed(new_site, "timed-out")
    chaos(api_timeout_rate=1.0, api_timeout_ms=1000)  # hangs, then 504: nothing made
    assert client.post(ORDERS, json=body, headers=headers).status_code == 503
    chaos(api_timeout_rate=0.0)
    (reserved,) = db_rows("SELECT order_id, outcome_unknown FROM order_reservations")
    assert reserved["outcome_unknown"] is True
    assert probe not in razorpay_orders(sandbox, since)

    clock.advance(PAST_THE_LEASE)
    taken_over = client.post(ORDERS, json=body, headers=headers)

    assert taken_over.status_code == 201
    assert taken_over.get_json()["id"] == reserved["order_id"]
    (made,) = razorpay_orders(sandbox, since)[probe]
    assert made["id"] == taken_over.get_json()["razorpay_order_id"]


def test_a_key_razorpay_refused_is_handed_on_at_once(
    make_app: Any, new_site: SiteCredentials, sandbox: Any, since: int, db_rows: Any
) -> None:
    probe = uuid.uuid4().hex
    body, headers = order_body(notes={"probe": probe}), keyed(new_site, "refused")
    wrong_key = make_app(razorpay_key_secret="not-the-sandbox-secret").test_client()
    refused = wrong_key.post(ORDERS, json=body, headers=headers)
    assert_problem(refused, ORDERS, 502, "gateway_error")

    retried = make_app().test_client().post(ORDERS, json=body, headers=headers)

    assert retried.status_code == 201
    assert [o["id"] for o in razorpay_orders(sandbox, since)[probe]] == [
        retried.get_json()["razorpay_order_id"]
    ]
    assert db_rows("SELECT site_id FROM order_reservations") == []


KEYS = 50
ROUNDS = 25


def test_under_late_answers_faults_and_retries_each_key_makes_one_razorpay_order(
    make_app: Any,
    new_site: SiteCredentials,
    sandbox: Any,
    chaos: Any,
    clock: Clock,
    since: int,
    db_rows: Any,
) -> None:
    """The outside review's probe, smaller: sites retrying with the same key (two requests
    per key each round, one while the other may still be at Razorpay) against a Razorpay
    that fails, times out and answers late."""
    app = use_clock(make_app(razorpay_timeout_seconds=0.3), clock)
    run = uuid.uuid4().hex[:8]
    keys = [f"{run}-{n}" for n in range(KEYS)]
    received: dict[str, set[str]] = {key: set() for key in keys}
    chaos(
        api_late_answer_rate=0.2,
        api_failure_rate=0.05,
        api_timeout_rate=0.05,
        api_timeout_ms=600,
        seed=12,
    )

    def submit(key: str) -> tuple[str, Any]:
        body = order_body(notes={"probe": key})
        return key, app.test_client().post(ORDERS, json=body, headers=keyed(new_site, key))

    pending = list(keys)
    for _ in range(ROUNDS):
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(submit, [key for key in pending for _ in range(2)]))
        for key, answer in answers:
            outcome = (answer.status_code, answer.get_json().get("code"))
            if answer.status_code in (200, 201):
                received[key].add(answer.get_json()["id"])
            else:
                assert outcome in {(503, "gateway_unavailable"), (409, "idempotency_key_in_use")}
        pending = [key for key in keys if not received[key]]
        if not pending:
            break
        clock.advance(PAST_THE_LEASE)  # every call of the round is over: leases may end
    chaos(api_late_answer_rate=0.0, api_failure_rate=0.0, api_timeout_rate=0.0)

    assert pending == []
    assert all(len(ids) == 1 for ids in received.values())
    at_razorpay = razorpay_orders(sandbox, since)
    assert {key: len(at_razorpay.get(key, [])) for key in keys} == dict.fromkeys(keys, 1)
    stored = db_rows("SELECT id, razorpay_order_id, idempotency_key FROM orders")
    assert {row["idempotency_key"]: (row["id"], row["razorpay_order_id"]) for row in stored} == {
        key: (at_razorpay[key][0]["receipt"], at_razorpay[key][0]["id"]) for key in keys
    }
