"""The sandbox's payment and refund lists page newest first within a from/to window, as
Razorpay's do, however many payments it holds; driven with the official SDK over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox, SandboxConfig, start_background

Json = dict[str, Any]


@pytest.fixture
def own_sandbox() -> Iterator[BackgroundSandbox]:
    """A sandbox of this test's own, so it holds exactly the payments the test made."""
    with start_background(SandboxConfig(webhook_delivery="off")) as running:
        yield running


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def sdk(own_sandbox: BackgroundSandbox, http: requests.Session) -> Any:
    auth = (own_sandbox.config.key_id, own_sandbox.config.key_secret)
    return razorpay.Client(session=http, auth=auth, base_url=own_sandbox.url)


# Seeded history is dated by the test (created_at), an hour back and a minute apart, so
# nothing here depends on how long seeding takes (bench/run.py measures that).
HISTORY_START = int(time.time()) - 3600


def seed_in_one_second(
    http: requests.Session, sandbox: BackgroundSandbox, orders: int, second: int
) -> tuple[int, list[str]]:
    """Seed paid orders all created in ``second``; returns it and the payment ids in
    creation order."""
    answer = http.post(
        f"{sandbox.url}/_sandbox/seed", json={"orders": orders, "created_at": second}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return second, [item["payment_id"] for item in answer.json()["items"]]


def listed(sdk: Any, count: int, **query: int) -> list[str]:
    """Every payment id the list answers for the query, page by page of ``count``."""
    ids: list[str] = []
    while True:
        page = sdk.payment.all({**query, "count": count, "skip": len(ids)})
        assert page["count"] == len(page["items"]) <= count
        ids += [item["id"] for item in page["items"]]
        if len(page["items"]) < count:
            return ids


def test_payment_pages_run_newest_first_within_the_window(
    sdk: Any, http: requests.Session, own_sandbox: BackgroundSandbox
) -> None:
    first_at, first = seed_in_one_second(http, own_sandbox, 130, HISTORY_START)
    second_at, second = seed_in_one_second(http, own_sandbox, 70, HISTORY_START + 60)
    third_at, third = seed_in_one_second(http, own_sandbox, 45, HISTORY_START + 120)
    newest_first = [*reversed(third), *reversed(second), *reversed(first)]

    assert listed(sdk, 100) == newest_first
    assert listed(sdk, 37, **{"from": second_at}) == newest_first[:115]
    assert listed(sdk, 37, to=second_at) == newest_first[45:]
    assert listed(sdk, 1, **{"from": second_at, "to": second_at}) == list(reversed(second))
    assert listed(sdk, 100, **{"from": first_at - 5, "to": first_at - 1}) == []
    assert listed(sdk, 100, **{"from": third_at + 1}) == []

    window = {"from": first_at, "to": second_at}
    in_window = newest_first[45:]
    for skip, count in ((65, 10), (69, 1), (70, 1), (190, 100), (199, 5), (200, 10)):
        page = sdk.payment.all({**window, "count": count, "skip": skip})
        assert [item["id"] for item in page["items"]] == in_window[skip : skip + count]


def test_seeded_history_is_dated_when_asked_and_never_in_the_future(
    sdk: Any, http: requests.Session, own_sandbox: BackgroundSandbox
) -> None:
    _, payments = seed_in_one_second(http, own_sandbox, 3, HISTORY_START)
    for payment_id in payments:
        payment = sdk.payment.fetch(payment_id)
        assert payment["created_at"] == HISTORY_START
        assert sdk.order.fetch(payment["order_id"])["created_at"] == HISTORY_START

    url = f"{own_sandbox.url}/_sandbox/seed"
    for when in (int(time.time()) + 3600, 946684799, "1700000000", True, 1.5e9):
        refused = http.post(url, json={"orders": 1, "created_at": when}, timeout=10)
        assert refused.status_code == 400, when
        assert refused.json()["error"]["field"] == "created_at"
    assert len(listed(sdk, 100)) == 3


def test_refund_pages_run_newest_first(
    sdk: Any, http: requests.Session, own_sandbox: BackgroundSandbox
) -> None:
    _, payments = seed_in_one_second(http, own_sandbox, 5, HISTORY_START)
    refunds = [sdk.payment.refund(payment_id, {"amount": 100})["id"] for payment_id in payments]

    assert [item["id"] for item in sdk.refund.all({"count": 100})["items"]] == refunds[::-1]
    assert [item["id"] for item in sdk.refund.all({"count": 2, "skip": 1})["items"]] == [
        refunds[3],
        refunds[2],
    ]
    assert [item["id"] for item in sdk.payment.fetch_multiple_refund(payments[2])["items"]] == [
        refunds[2]
    ]


def test_an_order_lists_its_own_payments_among_many_oldest_first(
    sdk: Any, http: requests.Session, own_sandbox: BackgroundSandbox
) -> None:
    seed_in_one_second(http, own_sandbox, 50, HISTORY_START)
    order = sdk.order.create({"amount": 50000, "currency": "INR"})
    url = f"{own_sandbox.url}/_sandbox/orders/{order['id']}/pay"
    failed = http.post(url, json={"outcome": "failure"}, timeout=10).json()
    paid = http.post(url, json={"outcome": "success"}, timeout=10).json()

    assert [item["id"] for item in sdk.order.payments(order["id"])["items"]] == [
        failed["error"]["metadata"]["payment_id"],
        paid["razorpay_payment_id"],
    ]
    assert http.post(f"{own_sandbox.url}/_sandbox/reset", timeout=10).status_code == 200
    assert sdk.payment.all({"count": 100})["items"] == []
