"""The gateway's HTTP edge: where its calls go, given the environment it starts in."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from payments_service.errors import GatewayUnavailable, GatewayUnreached
from payments_service.razorpay_gateway import RazorpayGateway
from payments_service.settings import Settings
from tests.test_create_order import socket_that_refuses

UNREACHABLE = "http://api.razorpay.invalid"  # .invalid never resolves (RFC 2606)


def gateway(base_url: str) -> RazorpayGateway:
    settings = Settings(admin_jwt_secret="x" * 32, database_url="postgresql:///unused")
    return RazorpayGateway(
        settings.razorpay_key_id,
        settings.razorpay_key_secret,
        base_url,
        timeout_seconds=2.0,
        read_attempts=1,
    )


def test_calls_go_through_the_proxy_the_environment_names_at_start(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", sandbox.url)  # the sandbox answers proxy-style requests
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    through_proxy = gateway(UNREACHABLE)
    monkeypatch.delenv("HTTP_PROXY")

    order = through_proxy.create_order(amount=100, currency="INR", receipt="r1", notes={})

    assert order["id"].startswith("order_") and order["amount"] == 100


def test_no_proxy_in_the_environment_means_a_direct_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)

    with pytest.raises(GatewayUnavailable):
        gateway(UNREACHABLE).fetch_order("order_Missing0000001")


def test_a_connection_never_made_is_told_apart_from_a_lost_answer(sandbox: Any) -> None:
    with socket_that_refuses() as dead_url, pytest.raises(GatewayUnreached):
        gateway(dead_url).create_order(amount=100, currency="INR", receipt="r2", notes={})
    requests.patch(
        f"{sandbox.url}/_sandbox/config",
        json={"api_late_answer_rate": 1.0, "api_timeout_ms": 1000},
        timeout=5,
    ).raise_for_status()
    impatient = RazorpayGateway(
        "rzp_test_SandboxKey0001", "sandbox_key_secret", sandbox.url, 0.2, read_attempts=1
    )
    try:
        with pytest.raises(GatewayUnavailable) as lost:
            impatient.create_order(amount=100, currency="INR", receipt="r3", notes={})
    finally:
        requests.patch(
            f"{sandbox.url}/_sandbox/config", json={"api_late_answer_rate": 0.0}, timeout=5
        ).raise_for_status()
    assert not isinstance(lost.value, GatewayUnreached)


def test_orders_are_found_by_their_receipt(sandbox: Any) -> None:
    receipt = f"ord_{uuid.uuid4().hex[:14]}"
    client = gateway(sandbox.url)
    made = client.create_order(amount=100, currency="INR", receipt=receipt, notes={})
    client.create_order(amount=100, currency="INR", receipt=f"{receipt}x", notes={})

    assert [order["id"] for order in client.find_orders_by_receipt(receipt)] == [made["id"]]
    assert client.find_orders_by_receipt(f"{receipt}-none") == []
