"""The gateway's HTTP edge: where its calls go, given the environment it starts in."""

from __future__ import annotations

from typing import Any

import pytest

from payments_service.errors import GatewayUnavailable
from payments_service.razorpay_gateway import RazorpayGateway
from payments_service.settings import Settings

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
