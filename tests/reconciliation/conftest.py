"""Fixtures of the reconciliation tests: a sandbox of their own (they list every payment in
a window), and the service and shop pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from payments_service.sandbox import SandboxConfig, start_background
from tests.actions import Checkout


@pytest.fixture
def own_sandbox() -> Iterator[Any]:
    """A sandbox holding only this test's payments, so counts are exact."""
    running = start_background(SandboxConfig(webhook_delivery="off"))
    yield running
    running.stop()


@pytest.fixture
def rapp(make_app: Any, own_sandbox: Any) -> Flask:
    app: Flask = make_app(razorpay_api_base_url=own_sandbox.url)
    return app


@pytest.fixture
def shop(rapp: Flask, own_sandbox: Any) -> Checkout:
    return Checkout(rapp.test_client(), own_sandbox)
