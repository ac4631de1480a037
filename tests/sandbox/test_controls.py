"""The sandbox's controls: its configuration read and patched, added latency, and events
redelivered on request."""

from __future__ import annotations

import time
from collections.abc import Callable

import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.helpers import (
    KEY_ID,
    KEY_SECRET,
    WebhookReceiver,
    pay,
)


def test_config_can_be_read_and_patched_except_secrets(
    fresh_sandbox: BackgroundSandbox, http: requests.Session
) -> None:
    url = f"{fresh_sandbox.url}/_sandbox/config"
    shown = http.get(url).json()
    assert "key_secret" not in shown and "webhook_secret" not in shown
    assert http.patch(url, json={"auto_capture": False}).json()["auto_capture"] is False
    assert fresh_sandbox.config.auto_capture is False
    assert http.patch(url, json={"key_secret": "stolen"}).status_code == 400
    assert http.patch(url, json={"webhook_delivery": "carrier-pigeon"}).status_code == 400


def test_latency_delays_api_calls(
    start_sandbox: Callable[..., BackgroundSandbox], http: requests.Session
) -> None:
    sandbox = start_sandbox(latency_ms=150)
    started = time.monotonic()
    http.get(f"{sandbox.url}/v1/orders", auth=(KEY_ID, KEY_SECRET)).raise_for_status()
    assert time.monotonic() - started >= 0.15


def test_events_can_be_redelivered(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    order = sdk.order.create({"amount": 10000, "currency": "INR"})
    pay(http, fresh_sandbox, order["id"], outcome="failure")
    (event,) = http.get(f"{fresh_sandbox.url}/_sandbox/events").json()

    url = f"{fresh_sandbox.url}/_sandbox/events/{event['id']}/redeliver"
    (record,) = http.post(url).json()
    assert (record["event_id"], record["redelivery"], record["delivered"]) == (
        event["id"],
        True,
        True,
    )
    first, again = receiver.received
    assert again.body == first.body
    for header in ("X-Razorpay-Event-Id", "X-Razorpay-Signature"):
        assert again.headers[header] == first.headers[header]
    assert len(http.get(f"{fresh_sandbox.url}/_sandbox/webhooks").json()) == 2
    unknown = http.post(f"{fresh_sandbox.url}/_sandbox/events/AAAAAAAAAAAAAA/redeliver")
    assert unknown.status_code == 400
