"""The sandbox's chaos knobs: validated and shown, from the environment and flags; duplicated,
shuffled, dropped and delayed webhooks; failed, hung and late API calls; a refund key still
being processed answered 409 as Razorpay does."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import razorpay
import requests
from razorpay.errors import GatewayError, ServerError

from payments_service.sandbox import BackgroundSandbox, SandboxConfig
from payments_service.sandbox.__main__ import build_config, parse_arguments
from payments_service.sandbox.config import ConfigError
from tests.sandbox.helpers import (
    KEY_ID,
    KEY_SECRET,
    WebhookReceiver,
    assert_same_shape,
    paid_payment,
    pay,
    sample,
)


def test_chaos_settings_are_validated_and_shown(
    fresh_sandbox: BackgroundSandbox, http: requests.Session
) -> None:
    url = f"{fresh_sandbox.url}/_sandbox/config"
    defaults = {
        "webhook_duplicates": 1,
        "webhook_shuffle": False,
        "webhook_delay_ms": 0,
        "webhook_drop_rate": 0.0,
        "api_failure_rate": 0.0,
        "api_timeout_rate": 0.0,
        "api_timeout_ms": 30000,
        "api_late_answer_rate": 0.0,
        "seed": None,
    }
    assert http.get(url).json().items() >= defaults.items()
    changed = http.patch(url, json={"webhook_drop_rate": 1, "seed": 42, "webhook_duplicates": 10})
    assert changed.json()["webhook_drop_rate"] == 1.0 and changed.json()["seed"] == 42
    assert fresh_sandbox.config.webhook_duplicates == 10
    for bad in (
        {"webhook_duplicates": 0},
        {"webhook_duplicates": 11},
        {"webhook_shuffle": "yes"},
        {"webhook_delay_ms": -1},
        {"webhook_drop_rate": 1.5},
        {"api_failure_rate": "0.5"},
        {"api_timeout_rate": True},
        {"api_timeout_ms": 600_000},
        {"api_late_answer_rate": -0.1},
        {"seed": "lucky"},
    ):
        response = http.patch(url, json=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["field"] == next(iter(bad))
    assert http.patch(url, json={"seed": None}).json()["seed"] is None


def test_chaos_settings_come_from_environment_and_flags() -> None:
    environ = {
        "SANDBOX_WEBHOOK_DUPLICATES": "3",
        "SANDBOX_WEBHOOK_SHUFFLE": "yes",
        "SANDBOX_WEBHOOK_DROP_RATE": "0.25",
        "SANDBOX_API_TIMEOUT_MS": "500",
        "SANDBOX_SEED": "7",
    }
    flags = ["--webhook-duplicates", "2", "--no-webhook-shuffle", "--api-failure-rate", "0.5"]
    config = build_config(parse_arguments(flags, environ), environ)
    assert (config.webhook_duplicates, config.webhook_shuffle) == (2, False)
    assert (config.webhook_drop_rate, config.api_failure_rate) == (0.25, 0.5)
    assert (config.api_timeout_ms, config.seed) == (500, 7)
    with pytest.raises(ConfigError, match="api_timeout_rate"):
        SandboxConfig.from_environment({"SANDBOX_API_TIMEOUT_RATE": "often"})
    with pytest.raises(ConfigError, match="webhook_duplicates"):
        build_config(parse_arguments(["--webhook-duplicates", "11"], {}), {})


def test_duplicates_are_identical_copies(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    receiver: WebhookReceiver,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(webhook_duplicates=3)
    order = connect(sandbox).order.create({"amount": 10000, "currency": "INR"})
    pay(http, sandbox, order["id"], outcome="failure")

    assert receiver.events() == ["payment.failed"] * 3
    (event,) = http.get(f"{sandbox.url}/_sandbox/events").json()
    for delivery in receiver.received:
        assert delivery.body == event["body"].encode()
        assert delivery.headers["X-Razorpay-Event-Id"] == event["id"]
        assert delivery.headers["X-Razorpay-Signature"] == event["signature"]
    records = http.get(f"{sandbox.url}/_sandbox/webhooks").json()
    assert [(record["copy"], record["delivered"]) for record in records] == [
        (1, True),
        (2, True),
        (3, True),
    ]


def test_shuffle_with_a_seed_reorders_the_same_events_repeatably(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    receiver: WebhookReceiver,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(webhook_shuffle=True, seed=1234)
    sdk = connect(sandbox)

    def orders_of_four_checkouts() -> list[list[str]]:
        orders = []
        for _ in range(4):
            receiver.received.clear()
            paid_payment(sdk, http, sandbox)
            orders.append(receiver.events())
        return orders

    first_run = orders_of_four_checkouts()
    natural = ["payment.authorized", "payment.captured", "order.paid"]
    assert all(sorted(names) == sorted(natural) for names in first_run)
    assert any(names != natural for names in first_run)
    recorded = http.get(f"{sandbox.url}/_sandbox/events").json()
    assert [event["event"] for event in recorded[:3]] == natural

    http.post(f"{sandbox.url}/_sandbox/reset").raise_for_status()
    assert orders_of_four_checkouts() == first_run


def test_drop_rate_one_drops_every_event_and_zero_none(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    receiver: WebhookReceiver,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(webhook_drop_rate=1.0)
    sdk = connect(sandbox)
    paid_payment(sdk, http, sandbox)
    assert receiver.received == []
    assert len(http.get(f"{sandbox.url}/_sandbox/events").json()) == 3
    records = http.get(f"{sandbox.url}/_sandbox/webhooks").json()
    assert [(r["dropped"], r["attempts"], r["delivered"]) for r in records] == [
        (True, 0, False)
    ] * 3

    http.patch(f"{sandbox.url}/_sandbox/config", json={"webhook_drop_rate": 0.0})
    paid_payment(sdk, http, sandbox)
    assert receiver.events() == ["payment.authorized", "payment.captured", "order.paid"]
    records = http.get(f"{sandbox.url}/_sandbox/webhooks").json()[3:]
    assert [(r["dropped"], r["delivered"]) for r in records] == [(False, True)] * 3


def test_webhook_delay_applies_to_async_delivery_only(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    receiver: WebhookReceiver,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(webhook_delay_ms=10_000)
    order = connect(sandbox).order.create({"amount": 10000, "currency": "INR"})
    started = time.monotonic()
    pay(http, sandbox, order["id"], outcome="failure")
    assert time.monotonic() - started < 5 and receiver.events() == ["payment.failed"]

    http.patch(
        f"{sandbox.url}/_sandbox/config",
        json={"webhook_delivery": "async", "webhook_delay_ms": 200},
    )
    started = time.monotonic()
    pay(http, sandbox, order["id"], outcome="failure")
    assert len(receiver.received) == 1
    deadline = started + 5
    while len(receiver.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert receiver.events() == ["payment.failed"] * 2
    assert time.monotonic() - started >= 0.2


def test_api_failure_rate_fails_calls_before_any_change(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(api_failure_rate=1.0, seed=3)
    sdk = connect(sandbox)
    with pytest.raises((ServerError, GatewayError)):
        sdk.order.create({"amount": 10000, "currency": "INR"})
    statuses = set()
    for _ in range(12):
        response = http.post(
            f"{sandbox.url}/v1/orders",
            json={"amount": 10000, "currency": "INR"},
            auth=(KEY_ID, KEY_SECRET),
        )
        code = "SERVER_ERROR" if response.status_code == 500 else "GATEWAY_ERROR"
        assert response.json()["error"]["code"] == code
        assert_same_shape(response.json(), sample("docs-api/error.sample.error.json"))
        statuses.add(response.status_code)
    assert statuses == {500, 502, 504}
    assert http.get(f"{sandbox.url}/v1/orders", auth=(KEY_ID, "wrong")).status_code == 401
    assert http.get(f"{sandbox.url}/_sandbox/config").status_code == 200
    assert http.get(f"{sandbox.url}/v1/checkout.js").status_code == 200

    http.patch(f"{sandbox.url}/_sandbox/config", json={"api_failure_rate": 0})
    assert sdk.order.all()["count"] == 0


def test_api_timeout_rate_hangs_calls_without_any_change(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(api_timeout_rate=1.0, api_timeout_ms=300)
    sdk = connect(sandbox)
    with pytest.raises(requests.Timeout):
        sdk.order.create({"amount": 10000, "currency": "INR"}, timeout=0.1)
    started = time.monotonic()
    patient = http.post(
        f"{sandbox.url}/v1/orders",
        json={"amount": 10000, "currency": "INR"},
        auth=(KEY_ID, KEY_SECRET),
        timeout=5,
    )
    assert time.monotonic() - started >= 0.3
    assert patient.status_code == 504 and patient.json()["error"]["code"] == "GATEWAY_ERROR"

    http.patch(f"{sandbox.url}/_sandbox/config", json={"api_timeout_rate": 0.0})
    assert sdk.order.all()["count"] == 0


def test_api_late_answer_rate_serves_calls_but_holds_their_answers_back(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(api_late_answer_rate=1.0, api_timeout_ms=300)
    sdk = connect(sandbox)
    with pytest.raises(requests.Timeout):
        sdk.order.create({"amount": 10000, "currency": "INR", "receipt": "lost-1"}, timeout=0.1)
    patient = http.post(
        f"{sandbox.url}/v1/orders",
        json={"amount": 20000, "currency": "INR", "receipt": "late-1"},
        auth=(KEY_ID, KEY_SECRET),
        timeout=5,
    )
    assert patient.status_code == 200 and patient.json()["receipt"] == "late-1"

    http.patch(f"{sandbox.url}/_sandbox/config", json={"api_late_answer_rate": 0.0})
    lost = sdk.order.all({"receipt": "lost-1"})["items"]
    assert [(order["amount"], order["receipt"]) for order in lost] == [(10000, "lost-1")]
    assert sdk.order.all()["count"] == 2


def test_a_refund_key_still_being_processed_gets_razorpays_409(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(api_timeout_ms=1000)
    sdk = connect(sandbox)
    payment_id = paid_payment(sdk, http, sandbox)["id"]
    refund_url = f"{sandbox.url}/v1/payments/{payment_id}/refund"
    key = {"X-Refund-Idempotency": "refund-key-0001"}
    http.patch(f"{sandbox.url}/_sandbox/config", json={"api_timeout_rate": 1.0})
    with pytest.raises(requests.Timeout):  # the first hangs at Razorpay
        http.post(
            refund_url, json={"amount": 1000}, headers=key, auth=(KEY_ID, KEY_SECRET), timeout=0.2
        )
    http.patch(f"{sandbox.url}/_sandbox/config", json={"api_timeout_rate": 0.0})

    again = http.post(refund_url, json={"amount": 1000}, headers=key, auth=(KEY_ID, KEY_SECRET))
    other_key = {"X-Refund-Idempotency": "refund-key-0002"}
    other = http.post(
        refund_url, json={"amount": 1000}, headers=other_key, auth=(KEY_ID, KEY_SECRET)
    )

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "BAD_REQUEST_ERROR"
    assert other.status_code == 200
    deadline = time.monotonic() + 5
    while again.status_code == 409 and time.monotonic() < deadline:
        time.sleep(0.1)
        again = http.post(refund_url, json={"amount": 1000}, headers=key, auth=(KEY_ID, KEY_SECRET))
    assert again.status_code == 200  # the hung one changed nothing: this one is made
    assert sdk.payment.fetch_multiple_refund(payment_id)["count"] == 2
