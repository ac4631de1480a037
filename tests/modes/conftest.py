"""Fixtures of the test-and-live tests: the same database seen by a service on live keys,
sites whose callbacks reach a local receiver, and the sandbox answering live keys."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from payments_service.sandbox import SandboxConfig
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials, register_site
from tests.site_notifications.receiving import Receiver

LIVE_KEY_ID = "rzp_live_SandboxKey0001"


@pytest.fixture
def live_app(make_app: Any) -> Flask:
    """The service on live keys, on the test's database: what switching the keys makes."""
    application: Flask = make_app(razorpay_key_id=LIVE_KEY_ID)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def live_checkout(live_app: Flask, sandbox: Any) -> Checkout:
    return Checkout(live_app.test_client(), sandbox)


@pytest.fixture
def live_webhooks(live_app: Flask, sandbox: Any) -> RazorpayWebhooks:
    return RazorpayWebhooks(live_app.test_client(), sandbox)


@pytest.fixture
def sandbox_keys(sandbox: Any) -> Iterator[Callable[[str], None]]:
    """Make the sandbox answer another key id (as Razorpay answers live keys once the
    account is activated); it answers the test key id again after the test."""
    yield lambda key_id: _set_key_id(sandbox, key_id)
    _set_key_id(sandbox, SandboxConfig().key_id)


def _set_key_id(sandbox: Any, key_id: str) -> None:
    requests.patch(
        f"{sandbox.url}/_sandbox/config", json={"key_id": key_id}, timeout=5
    ).raise_for_status()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    server = make_server("127.0.0.1", 0, hook, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.port}"
    yield hook
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def sites(app: Flask, receiver: Receiver) -> dict[str, SiteCredentials]:
    return {
        name: register_site(app, name, f"http://{name}.localhost", f"{receiver.url}/{name}")
        for name in ("new-site", "old-site")
    }
