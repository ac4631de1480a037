"""Fixtures of the sandbox tests: a sandbox per test on a free port, sending its webhooks
to a local receiver, and the official SDK and a plain HTTP session pointed at it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import razorpay
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from payments_service.sandbox import BackgroundSandbox, SandboxConfig, start_background
from tests.sandbox.helpers import KEY_ID, KEY_SECRET, Json, Received, WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A webhook receiver on 127.0.0.1 served from a thread."""
    lock = threading.Lock()
    state = WebhookReceiver(url="")

    @Request.application
    def record(request: Request) -> Response:
        with lock:
            state.received.append(Received(request.get_data(), dict(request.headers)))
            status = state.statuses.pop(0) if state.statuses else 200
        return Response("ok", status=status)

    server = make_server("127.0.0.1", 0, record, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.port}/webhooks/razorpay"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def start_sandbox(receiver: WebhookReceiver) -> Iterator[Callable[..., BackgroundSandbox]]:
    """Start sandboxes with sync webhooks to the receiver (plus any overrides); stops them all."""
    started: list[BackgroundSandbox] = []

    def start(**overrides: Any) -> BackgroundSandbox:
        settings: Json = {"webhook_urls": [receiver.url], "webhook_delivery": "sync"}
        sandbox = start_background(SandboxConfig(**{**settings, **overrides}))
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def fresh_sandbox(start_sandbox: Callable[..., BackgroundSandbox]) -> BackgroundSandbox:
    """A new sandbox with default settings and synchronous webhooks."""
    return start_sandbox()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A plain HTTP session for the control API and raw requests."""
    with requests.Session() as session:
        yield session


@pytest.fixture
def connect() -> Iterator[Callable[..., razorpay.Client]]:
    """Make official SDK clients for a sandbox (default credentials); closes their sessions."""
    sessions: list[requests.Session] = []

    def make(sandbox: BackgroundSandbox, auth: tuple[str, str] = (KEY_ID, KEY_SECRET)) -> Any:
        sessions.append(requests.Session())
        return razorpay.Client(session=sessions[-1], auth=auth, base_url=sandbox.url)

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def sdk(connect: Callable[..., razorpay.Client], fresh_sandbox: BackgroundSandbox) -> Any:
    """The official SDK pointed at the fresh sandbox."""
    return connect(fresh_sandbox)
