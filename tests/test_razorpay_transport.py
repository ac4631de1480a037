"""The gateway's own HTTP session, over real HTTP to a local server that counts the
connections it accepts: calls reuse keep-alive connections, one per thread however many
threads call at once, the requests on the wire are the SDK's, and every failure (timeout,
lost answer, refused connection, error answer) is told as before."""

from __future__ import annotations

import base64
import json
import logging
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from payments_service.errors import (
    GatewayBusy,
    GatewayError,
    GatewayUnavailable,
    GatewayUnreached,
)
from payments_service.razorpay_gateway import RazorpayGateway
from tests.test_create_order import socket_that_refuses

KEY_ID, KEY_SECRET = "rzp_test_TransportKey01", "transport_key_secret"
ORDER = {"id": "order_Transport000001", "entity": "order", "amount": 100, "status": "created"}
PAYMENT = {"id": "pay_Transport0000001", "entity": "payment", "status": "captured"}


@dataclass
class Seen:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    """What the server does with a request: answer (status, JSON or raw body), after a
    pause; or hang up without answering."""

    status: int = 200
    body: Any = field(default_factory=lambda: ORDER)
    pause: float = 0.0
    hang_up: bool = False
    close: bool = False


class CountingServer(ThreadingHTTPServer):
    """HTTP/1.1 keep-alive, as Razorpay is; counts the connections it accepts."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.seen: list[Seen] = []
        self.answer: Callable[[Seen], Answer] = lambda _: Answer()
        self.barrier: threading.Barrier | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def get_request(self) -> Any:
        accepted = super().get_request()
        with self._lock:
            self.connections += 1
        return accepted

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a slow answer: expected here

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CountingServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, *_: Any) -> None:
        pass

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        seen = Seen(self.command, self.path, dict(self.headers), body)
        self.server.record(seen)
        if self.server.barrier is not None:  # hold every request until all are in flight
            self.server.barrier.wait(timeout=10)
        answer = self.server.answer(seen)
        time.sleep(answer.pause)
        if answer.hang_up:
            self.close_connection = True
            return
        raw = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        if answer.close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture
def server() -> Iterator[CountingServer]:
    yield from serving(CountingServer())


def serving(running: CountingServer) -> Iterator[CountingServer]:
    thread = threading.Thread(target=running.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield running
    running.shutdown()
    running.server_close()
    thread.join()


def gateway(url: str, timeout: float = 2.0, **options: Any) -> RazorpayGateway:
    return RazorpayGateway(KEY_ID, KEY_SECRET, url, timeout, **options)


def test_sequential_calls_share_one_keep_alive_connection(server: CountingServer) -> None:
    client = gateway(server.url)

    for _ in range(10):
        client.create_order(amount=100, currency="INR", receipt="r1", notes={})
        client.fetch_payment("pay_Transport0000001")

    assert len(server.seen) == 20
    assert server.connections == 1


def test_concurrent_calls_beyond_ten_keep_every_connection(
    server: CountingServer, caplog: pytest.LogCaptureFixture
) -> None:
    threads = 16  # a gunicorn worker's; `requests` kept 10 per host and discarded the rest
    client = gateway(server.url, pool_size=threads)
    server.answer = lambda _: Answer(body=PAYMENT)
    caplog.set_level(logging.WARNING, logger="urllib3")

    for _ in range(3):  # all 16 in flight at once, three times over
        server.barrier = threading.Barrier(threads)
        with ThreadPoolExecutor(threads) as pool:
            fetched = list(pool.map(client.fetch_payment, ["pay_Transport0000001"] * threads))
        assert [payment["id"] for payment in fetched] == [PAYMENT["id"]] * threads

    assert server.connections == threads
    assert "pool is full" not in caplog.text


def test_the_server_sees_the_sdks_requests(server: CountingServer) -> None:
    client = gateway(server.url)
    server.answer = lambda seen: Answer(
        body={"entity": "collection", "count": 0, "items": []} if seen.method == "GET" else ORDER
    )

    client.create_order(amount=100, currency="INR", receipt="r 1", notes={"sku": "a"})
    client.find_orders_by_receipt("r 1&x")
    client.create_refund(
        "pay_Transport0000001", amount=50, speed="normal", notes={}, idempotency_key="k-1"
    )

    created, listed, refunded = server.seen
    basic = "Basic " + base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
    for seen in server.seen:
        assert seen.headers["Authorization"] == basic
        assert seen.headers["User-Agent"].startswith("Razorpay-Python/")
        assert "payments_service/0.1" in seen.headers["User-Agent"]
    assert (created.method, created.path) == ("POST", "/v1/orders")
    assert created.headers["Content-type"] == "application/json"
    assert json.loads(created.body) == {
        "amount": 100,
        "currency": "INR",
        "receipt": "r 1",
        "notes": {"sku": "a"},
    }
    assert (listed.method, listed.path) == ("GET", "/v1/orders?receipt=r+1%26x&count=100")
    assert listed.body == b""
    assert (refunded.method, refunded.path) == ("POST", "/v1/payments/pay_Transport0000001/refund")
    assert refunded.headers["X-Refund-Idempotency"] == "k-1"
    assert json.loads(refunded.body) == {"amount": 50, "speed": "normal", "notes": {}}


def test_a_read_timeout_is_a_lost_answer_and_only_reads_are_retried(
    server: CountingServer,
) -> None:
    slept: list[float] = []
    client = gateway(server.url, timeout=0.2, sleep=slept.append)
    server.answer = lambda _: Answer(pause=0.6)

    with pytest.raises(GatewayUnavailable) as lost_read:
        client.fetch_payment("pay_Transport0000001")
    reads = len(server.seen)
    with pytest.raises(GatewayUnavailable) as lost_create:
        client.create_order(amount=100, currency="INR", receipt="r2", notes={})

    assert reads == 3 and len(slept) == 2  # read_attempts=3, a backoff between each
    assert len(server.seen) == 4  # the order was sent once: a retry could make a second
    for lost in (lost_read, lost_create):
        assert not isinstance(lost.value, GatewayUnreached)


def test_an_answer_lost_when_the_server_hangs_up_is_unavailable_and_retried(
    server: CountingServer,
) -> None:
    slept: list[float] = []
    client = gateway(server.url, sleep=slept.append)
    hang_ups = iter([True, True, False])
    server.answer = lambda _: Answer(body=PAYMENT, hang_up=next(hang_ups))

    assert client.fetch_payment("pay_Transport0000001")["id"] == PAYMENT["id"]
    assert len(server.seen) == 3 and len(slept) == 2

    server.answer = lambda _: Answer(hang_up=True)
    with pytest.raises(GatewayUnavailable) as lost:
        client.capture_payment("pay_Transport0000001", 100, "INR")
    assert not isinstance(lost.value, GatewayUnreached)
    assert len(server.seen) == 4  # a capture is not retried


def test_a_refused_connection_is_unreached_and_reads_are_retried() -> None:
    slept: list[float] = []
    with socket_that_refuses() as dead_url:
        client = gateway(dead_url, read_attempts=2, sleep=slept.append)
        with pytest.raises(GatewayUnreached):
            client.fetch_order("order_Transport000001")
        with pytest.raises(GatewayUnreached):
            client.create_order(amount=100, currency="INR", receipt="r3", notes={})
    assert len(slept) == 1


def test_error_answers_are_told_as_before(server: CountingServer) -> None:
    client = gateway(server.url, read_attempts=1)

    def razorpay_error(status: int, code: str) -> Callable[[Seen], Answer]:
        return lambda _: Answer(status, {"error": {"code": code, "description": f"{code} it"}})

    server.answer = razorpay_error(400, "BAD_REQUEST_ERROR")
    with pytest.raises(GatewayError) as refused:
        client.fetch_payment("pay_Transport0000001")
    assert not isinstance(refused.value, GatewayUnavailable)
    assert refused.value.extra == {"reason": "BAD_REQUEST_ERROR it"}

    for status, code in ((500, "SERVER_ERROR"), (502, "GATEWAY_ERROR")):
        server.answer = razorpay_error(status, code)
        with pytest.raises(GatewayUnavailable):
            client.fetch_payment("pay_Transport0000001")

    server.answer = lambda _: Answer(502, b"<html>Bad Gateway</html>")
    with pytest.raises(GatewayUnavailable, match="unreadable"):
        client.fetch_payment("pay_Transport0000001")

    server.answer = razorpay_error(409, "BAD_REQUEST_ERROR")  # the response hook sees 409
    with pytest.raises(GatewayBusy):
        client.create_refund(
            "pay_Transport0000001", amount=50, speed="normal", notes={}, idempotency_key="k-2"
        )
    assert server.connections == 1  # error answers keep the connection too


def test_a_connection_the_server_closes_is_replaced(server: CountingServer) -> None:
    client = gateway(server.url)
    server.answer = lambda _: Answer(close=True)

    for _ in range(3):
        client.create_order(amount=100, currency="INR", receipt="r4", notes={})

    assert server.connections == 3  # as with the sandbox, whose dev server closes them all


def test_https_is_verified_with_the_sdks_ca_bundle(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    command = ["openssl", "req", "-x509", "-nodes", "-days", "1", "-newkey", "rsa:2048"]
    command += ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    command += ["-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
        timeout=60,
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    plain = CountingServer()
    plain.socket = tls.wrap_socket(plain.socket, server_side=True)
    for running in serving(plain):
        https_url = running.url.replace("http://", "https://")
        with pytest.raises(GatewayUnavailable) as refused:
            gateway(https_url, read_attempts=1).fetch_payment("pay_Transport0000001")
        assert "CERTIFICATE_VERIFY_FAILED" in repr(refused.value.__cause__)
        assert running.seen == []  # a certificate Razorpay's bundle does not vouch for
