"""The state file keeps plans, subscriptions, their invoices and the sandbox clock, so a
restarted sandbox goes on billing where it stopped; files written before them still load."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox, SandboxConfig, start_background
from tests.sandbox.helpers import KEY_ID, KEY_SECRET
from tests.sandbox.subscription_helpers import (
    CHARGED_EVENTS,
    active_subscription,
    advance,
    set_charge_outcome,
)

SUCCESS = {"outcome": "success"}


@pytest.fixture
def started() -> Iterator[list[BackgroundSandbox]]:
    sandboxes: list[BackgroundSandbox] = []
    yield sandboxes
    for sandbox in sandboxes:
        sandbox.stop()


def start(
    path: Path, started: list[BackgroundSandbox]
) -> tuple[BackgroundSandbox, razorpay.Client]:
    sandbox = start_background(SandboxConfig(webhook_delivery="off"), state_file=path)
    started.append(sandbox)
    return sandbox, razorpay.Client(auth=(KEY_ID, KEY_SECRET), base_url=sandbox.url)


def test_a_restart_keeps_subscriptions_and_the_clock(
    tmp_path: Path, http: requests.Session, started: list[BackgroundSandbox]
) -> None:
    path = tmp_path / "state.json"
    first, sdk = start(path, started)
    sub = active_subscription(sdk, http, first)
    set_charge_outcome(http, first, sub["id"], "failure")
    advance(http, first, to=sub["charge_at"])
    before = sdk.subscription.fetch(sub["id"])
    invoices = sdk.invoice.all({"subscription_id": sub["id"]})
    first.stop()
    started.remove(first)

    second, again = start(path, started)

    assert again.subscription.fetch(sub["id"]) == before
    assert again.invoice.all({"subscription_id": sub["id"]}) == invoices
    assert again.plan.fetch(sub["plan_id"])["id"] == sub["plan_id"]
    clock = http.get(f"{second.url}/_sandbox/clock").json()
    assert clock["offset_seconds"] > 0
    set_charge_outcome(http, second, sub["id"], "success")
    assert advance(http, second, days=1) == [
        "subscription.charged",
        "subscription.activated",
        *CHARGED_EVENTS[1:],
    ]


def test_a_state_file_from_before_subscriptions_still_loads(
    tmp_path: Path, http: requests.Session, started: list[BackgroundSandbox]
) -> None:
    path = tmp_path / "state.json"
    sandbox, sdk = start(path, started)
    order = sdk.order.create({"amount": 10000, "currency": "INR"})
    paid = http.post(
        f"{sandbox.url}/_sandbox/orders/{order['id']}/pay", json={"outcome": "success"}
    )
    started.pop().stop()
    document = json.loads(path.read_text())
    del document["subscriptions"]
    for payment in document["payments"]:
        del payment["invoice_id"], payment["customer_id"]
    path.write_text(json.dumps(document))

    _, again = start(path, started)

    payment = again.payment.fetch(paid.json()["razorpay_payment_id"])
    assert (payment["status"], payment["invoice_id"], payment["customer_id"]) == (
        "captured",
        None,
        None,
    )
    assert again.subscription.all()["count"] == 0
