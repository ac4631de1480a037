"""The limits gunicorn enforces before the app sees a request (gunicorn.conf.py), through the
real server: each is answered with the documented problem+json and a request id, and logged
as one line without a traceback. So is a chunked body over MAX_REQUEST_BYTES."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ADMIN_SECRET
from tests.contract.openapi import schema_errors

ROOT = Path(__file__).resolve().parents[1]
REQUEST_LINE_LIMIT = 4094  # gunicorn.conf.py, and openapi.yaml's description
FIELD_SIZE_LIMIT = 8190
FIELDS_LIMIT = 100


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def gunicorn_api(dsn: str, sandbox: Any, tmp_path: Path) -> Iterator[Server]:
    with serving_the_api(dsn, sandbox.url, tmp_path) as server:
        yield server


@contextmanager
def serving_the_api(dsn: str, sandbox_url: str, workdir: Path) -> Iterator[Server]:
    """The API under gunicorn with gunicorn.conf.py (one worker) on a free loopback port,
    run from ``workdir`` (empty, so that no .env is read); its output goes to a file."""
    server = Server("127.0.0.1", free_port(), workdir / "gunicorn.log")
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "ADMIN_JWT_SECRET": ADMIN_SECRET,
        "RAZORPAY_API_BASE_URL": sandbox_url,
        "GUNICORN_BIND": f"{server.host}:{server.port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
        # Off in production (the gateway logs requests); the gateway's tests read it to see
        # which requests reached the service.
        "GUNICORN_ACCESSLOG": "-",
    }
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
    command += ["--no-control-socket", "payments_service:create_app()"]
    with open(server.log, "wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_up(f"{server.url}/healthz", process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited"
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


def send(server: Server, method: str, target: str, headers: list[tuple[str, str]]) -> Any:
    """Send exactly this request line and these headers (no body); the response."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", server.host)
    for name, value in headers:
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, response.headers, body


DOCUMENTED = {
    400: "/components/responses/MalformedJson",
    401: "/components/responses/Unauthorized",
    414: "/components/responses/UriTooLong",
    431: "/components/responses/HeaderFieldsTooLarge",
}


def assert_problem(answer: Any, status: int, code: str) -> dict[str, Any]:
    """The answer is the problem openapi.yaml documents for ``status``."""
    got, headers, raw = answer
    assert got == status, raw
    assert headers["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(raw)
    schema = f"{DOCUMENTED[status]}/content/application~1problem+json/schema"
    assert not schema_errors(body, schema), body
    assert body["status"] == status and body["code"] == code
    assert body["request_id"] == headers["X-Request-Id"] and len(body["request_id"]) == 32
    return body


def assert_logged_without_traceback(server: Server, request_ids: list[str]) -> None:
    text = server.log_text()
    assert "Traceback" not in text
    logged = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    refused = [e["request_id"] for e in logged if "refused before the app" in e["message"]]
    assert refused == request_ids


def test_an_over_long_request_line_is_a_414_problem_through_gunicorn(
    gunicorn_api: Server,
) -> None:
    prefix = "GET /v1/orders?pad="
    suffix = " HTTP/1.1"
    longest = "x" * (REQUEST_LINE_LIMIT - len(prefix) - len(suffix))
    long_query = send(gunicorn_api, "GET", f"/v1/orders?pad={longest}x", [])
    long_path = send(gunicorn_api, "GET", "/v1/orders/ord_" + "x" * REQUEST_LINE_LIMIT, [])
    just_fits = send(gunicorn_api, "GET", f"/v1/orders?pad={longest}", [])

    first = assert_problem(long_query, 414, "uri_too_long")
    second = assert_problem(long_path, 414, "uri_too_long")
    assert str(REQUEST_LINE_LIMIT) in first["detail"]
    assert_problem(just_fits, 401, "unauthorized")  # reached the app
    assert_logged_without_traceback(gunicorn_api, [first["request_id"], second["request_id"]])


def test_over_long_or_too_many_headers_are_a_431_problem_through_gunicorn(
    gunicorn_api: Server,
) -> None:
    long_value = "x" * FIELD_SIZE_LIMIT
    one_long = send(gunicorn_api, "GET", "/healthz", [("X-Pad", long_value)])
    too_many = send(gunicorn_api, "GET", "/healthz", [(f"X-Pad-{i}", "x") for i in range(101)])
    just_fits = send(gunicorn_api, "GET", "/healthz", [("X-Pad", long_value[:8180])])

    first = assert_problem(one_long, 431, "header_fields_too_large")
    second = assert_problem(too_many, 431, "header_fields_too_large")
    assert str(FIELD_SIZE_LIMIT) in first["detail"] and str(FIELDS_LIMIT) in first["detail"]
    assert just_fits[0] == 200
    assert_logged_without_traceback(gunicorn_api, [first["request_id"], second["request_id"]])


def test_a_request_that_is_not_http_is_a_400_problem_through_gunicorn(
    gunicorn_api: Server,
) -> None:
    bad_method = send(gunicorn_api, "get", "/healthz", [])
    bad_header = send(gunicorn_api, "GET", "/healthz", [("X Bad Name", "1")])

    first = assert_problem(bad_method, 400, "bad_request")
    second = assert_problem(bad_header, 400, "bad_request")
    assert_logged_without_traceback(gunicorn_api, [first["request_id"], second["request_id"]])


def test_a_5_mb_chunked_webhook_is_a_413_problem_through_gunicorn(
    gunicorn_api: Server, db_rows: Any
) -> None:
    def five_megabytes() -> Iterator[bytes]:
        yield b'{"event": "payment.captured", "payload": "'
        for _ in range(5 * 16):
            yield b"x" * 65_536
        yield b'"}'

    answer = requests.post(
        f"{gunicorn_api.url}/v1/webhooks/razorpay",
        data=five_megabytes(),
        headers={"X-Razorpay-Signature": "0" * 64, "Content-Type": "application/json"},
        timeout=30,
    )

    assert answer.status_code == 413, answer.text
    assert answer.request.headers["Transfer-Encoding"] == "chunked"
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == "payload_too_large"
    assert db_rows("SELECT count(*) AS n FROM razorpay_events") == [{"n": 0}]
    assert "Traceback" not in gunicorn_api.log_text()
