"""How the sandbox is served: like Razorpay it keeps HTTP/1.1 connections alive, so the
service's pooled transport sends many calls over one connection; a burst of calls held by
chaos does not starve other calls; and stop() ends held calls, closes the listening socket
and every kept-alive connection, and leaves no thread behind."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from payments_service.razorpay_gateway import RazorpayGateway
from payments_service.sandbox import BackgroundSandbox, SandboxConfig, start_background
from tests.sandbox.helpers import KEY_ID, KEY_SECRET

HELD_CALLS = 32  # as many concurrent calls as the heaviest tests fire at the sandbox


class Watch:
    """WSGI middleware on a started sandbox: the client ports of the calls it served and
    how many calls are inside the app right now."""

    def __init__(self, sandbox: BackgroundSandbox) -> None:
        self._app = sandbox.app.wsgi_app
        self._lock = threading.Lock()
        self.ports: list[str] = []
        self.inside = 0
        sandbox.app.wsgi_app = self  # type: ignore[method-assign]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self._lock:
            self.ports.append(environ["REMOTE_PORT"])
            self.inside += 1
        try:
            return self._app(environ, start_response)
        finally:
            with self._lock:
                self.inside -= 1


def host_and_port(sandbox: BackgroundSandbox) -> tuple[str, int]:
    host, port = sandbox.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.fixture
def quiet_sandbox() -> Iterator[BackgroundSandbox]:
    """A sandbox of its own (no webhooks), stopped by the test or at the end."""
    sandbox = start_background(SandboxConfig())
    yield sandbox
    sandbox.stop()


def test_the_url_names_the_port_really_chosen(quiet_sandbox: BackgroundSandbox) -> None:
    host, port = host_and_port(quiet_sandbox)
    assert host == "127.0.0.1" and port > 0
    assert requests.get(f"{quiet_sandbox.url}/_sandbox/config", timeout=5).ok


def test_gateway_calls_share_one_kept_alive_connection(quiet_sandbox: BackgroundSandbox) -> None:
    watch = Watch(quiet_sandbox)
    gateway = RazorpayGateway(KEY_ID, KEY_SECRET, quiet_sandbox.url, 5.0)

    order = gateway.create_order(amount=10000, currency="INR", receipt="r-keep", notes={})
    for _ in range(5):
        assert gateway.fetch_order(order["id"])["id"] == order["id"]
    assert [found["id"] for found in gateway.find_orders_by_receipt("r-keep")] == [order["id"]]

    assert len(watch.ports) == 7
    assert len(set(watch.ports)) == 1, watch.ports


def test_plain_http_connection_stays_open_between_calls(
    quiet_sandbox: BackgroundSandbox,
) -> None:
    connection = http.client.HTTPConnection(*host_and_port(quiet_sandbox), timeout=5)
    try:
        sockets = []
        for path in ("/_sandbox/config", "/v1/orders/order_Unknown0000001", "/_sandbox/events"):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            assert response.version == 11
            assert (response.getheader("Connection") or "").lower() != "close"
            assert not response.will_close
            sockets.append(connection.sock)
        assert sockets[0] is not None and sockets.count(sockets[0]) == 3
    finally:
        connection.close()


def held_calls(sandbox: BackgroundSandbox, count: int) -> Iterable[Any]:
    """Fire ``count`` order creations at once; each answer, or the error that ended it."""

    def create(_: int) -> Any:
        try:
            return requests.post(
                f"{sandbox.url}/v1/orders",
                json={"amount": 100, "currency": "INR"},
                auth=(KEY_ID, KEY_SECRET),
                timeout=30,
            ).status_code
        except requests.RequestException as error:
            return error

    pool = ThreadPoolExecutor(count)
    results = pool.map(create, range(count))
    pool.shutdown(wait=False)
    return results


def test_held_calls_neither_starve_others_nor_delay_stop() -> None:
    """32 calls held by chaos for a minute: the control API still answers, and stop() ends
    them, closes the listening socket and joins every thread it started."""
    threads_before = set(threading.enumerate())
    sandbox = start_background(SandboxConfig(api_timeout_rate=1.0, api_timeout_ms=60_000))
    watch = Watch(sandbox)
    results = held_calls(sandbox, HELD_CALLS)
    wait_until(lambda: watch.inside == HELD_CALLS)

    config = requests.get(f"{sandbox.url}/_sandbox/config", timeout=5)
    assert config.json()["api_timeout_ms"] == 60_000

    stopping = threading.Thread(target=sandbox.stop)
    stopping.start()
    stopping.join(timeout=15)  # far below the minute the calls are held for
    assert not stopping.is_alive()
    assert list(results) == [504] * HELD_CALLS  # each hang ended and answered
    with pytest.raises(ConnectionRefusedError), socket.create_connection(host_and_port(sandbox)):
        pass
    wait_until(lambda: set(threading.enumerate()) <= threads_before | {threading.current_thread()})


def test_stop_closes_kept_alive_connections(quiet_sandbox: BackgroundSandbox) -> None:
    connection = http.client.HTTPConnection(*host_and_port(quiet_sandbox), timeout=5)
    try:
        connection.request("GET", "/_sandbox/config")
        connection.getresponse().read()
        assert connection.sock is not None
        idle = connection.sock
        quiet_sandbox.stop()
        idle.settimeout(5)
        assert idle.recv(1) == b""  # the server closed its end
    finally:
        connection.close()


def test_an_absolute_form_target_is_served_as_its_path(
    quiet_sandbox: BackgroundSandbox,
) -> None:
    """What a client that has the sandbox as its HTTP proxy sends (RFC 9112, 3.2.2)."""
    connection = http.client.HTTPConnection(*host_and_port(quiet_sandbox), timeout=5)
    try:
        connection.request("GET", "http://api.razorpay.invalid/_sandbox/config?x=1")
        response = connection.getresponse()
        assert response.status == 200
        assert b'"api_timeout_ms"' in response.read()
    finally:
        connection.close()
