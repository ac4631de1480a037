"""The API gateway as shipped (docker/nginx.conf), run by Debian's nginx in front of the API
under gunicorn (or, where the test must see what the gateway forwards, a server that echoes
it): request ids, /metrics kept inside, the body limit, the per-client rate limits and the
client's address. Each nginx is stopped, with its workers, at the end of its test."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.nginx_gateway import (
    NGINX,
    Answer,
    Gateway,
    assert_documented,
    assert_problem,
    is_running,
    request_ids,
    running_gateway,
    send,
    send_raw,
    serving_forwarded_for,
    wait_until,
    workers_of,
)
from tests.test_gunicorn_limits import Server, serving_the_api

pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx; .ci/run does)"
)

VERIFY = "/v1/payments/verify"
WEBHOOK = "/v1/webhooks/razorpay"
JSON = {"Content-Type": "application/json"}
BURST = 20  # docker/nginx.conf: burst=20 on verify and on the public operations
FRESH_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def api_gateway(dsn: str, sandbox: Any, tmp_path: Path) -> Iterator[tuple[Gateway, Server]]:
    """The shipped gateway in front of the API under gunicorn."""
    (tmp_path / "api").mkdir()
    with (
        serving_the_api(dsn, sandbox.url, tmp_path / "api") as api,
        running_gateway(api.port, tmp_path / "nginx") as gateway,
    ):
        yield gateway, api


@pytest.fixture
def echo_gateway(tmp_path: Path) -> Iterator[Gateway]:
    """The shipped gateway in front of a server that echoes the X-Forwarded-For it got."""
    with serving_forwarded_for() as port, running_gateway(port, tmp_path / "nginx") as gateway:
        yield gateway


def until_refused(gateway: Gateway, method: str, path: str, **request: Any) -> list[Answer]:
    """Send the same request until the gateway refuses one (bounded); every answer."""
    answers: list[Answer] = []
    while len(answers) < 3 * BURST and not any(a.status == 429 for a in answers):
        answers.append(send(gateway, method, path, **request))
    return answers


def served(api: Server, request: str, times: int) -> list[str]:
    """The requests ("METHOD target") in gunicorn's access log, what reached the service,
    once ``request`` is there ``times`` times (gunicorn logs a request after answering)."""

    def requests_served() -> list[str]:
        return re.findall(r'"([A-Z]+ \S+) HTTP/1\.[01]"', api.log_text())

    wait_until(lambda: requests_served().count(request) >= times)
    return requests_served()


# --- request ids ------------------------------------------------------------------------


def test_the_gateway_makes_a_request_id_when_none_is_sent_and_the_service_uses_it(
    api_gateway: tuple[Gateway, Server],
) -> None:
    gateway, _ = api_gateway

    answer = send(gateway, "GET", "/v1/orders")  # the service's 401 problem, with the id

    assert answer.status == 401
    [request_id] = request_ids(answer)
    assert FRESH_ID.fullmatch(request_id)
    assert answer.json()["request_id"] == request_id
    assert gateway.access_log(1)[-1]["request_id"] == request_id  # made by nginx


@pytest.mark.parametrize("sent", ["bad id!", "x" * 129, "", "trace/1"])
def test_the_gateway_replaces_a_request_id_the_service_would_not_keep(
    api_gateway: tuple[Gateway, Server], sent: str
) -> None:
    gateway, _ = api_gateway

    answer = send(gateway, "GET", "/v1/orders", {"X-Request-Id": sent})

    [request_id] = request_ids(answer)
    assert FRESH_ID.fullmatch(request_id) and request_id != sent
    assert answer.json()["request_id"] == request_id
    assert gateway.access_log(1)[-1]["request_id"] == request_id


def test_the_gateway_keeps_a_valid_request_id_on_the_services_answers_and_its_own(
    api_gateway: tuple[Gateway, Server],
) -> None:
    gateway, _ = api_gateway
    sample, longest = "trace-01.AB_c", "a" * 128

    for sent in (sample, longest):
        service = send(gateway, "GET", "/v1/orders", {"X-Request-Id": sent})
        own = send(gateway, "GET", "/metrics", {"X-Request-Id": sent})

        assert request_ids(service) == [sent] and service.json()["request_id"] == sent
        assert request_ids(own) == [sent] and own.json()["request_id"] == sent
    assert [entry["request_id"] for entry in gateway.access_log(4)] == [sample] * 2 + [longest] * 2


# --- /metrics and the body limit ----------------------------------------------------------


def test_metrics_is_a_403_problem_through_the_gateway_however_it_is_spelled(
    api_gateway: tuple[Gateway, Server],
) -> None:
    gateway, api = api_gateway

    for path in ("/metrics", "/metrics?name[]=x", "//metrics", "/%6Detrics", "/./metrics"):
        answer = send(gateway, "GET", path)
        assert_problem(answer, 403, "forbidden")
        assert_documented(answer, "GET", "/metrics", 403)
    assert requests.get(f"{api.url}/metrics", timeout=10).status_code == 200  # inside: fine
    reached = served(api, "GET /metrics", 1)
    assert [line for line in reached if "etrics" in line] == ["GET /metrics"]  # that one


def test_a_body_over_64_kib_is_a_413_problem_at_the_gateway_chunked_or_not(
    api_gateway: tuple[Gateway, Server],
) -> None:
    gateway, api = api_gateway
    signed = {**JSON, "X-Razorpay-Signature": "0" * 64}

    def five_megabytes() -> Iterator[bytes]:
        for _ in range(5 * 16):
            yield b"x" * 65_536

    at_the_limit = send(gateway, "POST", WEBHOOK, signed, b"x" * 65_536)
    over = send(gateway, "POST", WEBHOOK, signed, b"x" * 65_537)
    chunked = send(gateway, "POST", WEBHOOK, signed, five_megabytes())

    assert at_the_limit.status == 403  # reached the service, whose limit is the same
    assert at_the_limit.json()["code"] == "invalid_signature"
    for answer in (over, chunked):
        assert_problem(answer, 413, "payload_too_large")
        assert_documented(answer, "POST", WEBHOOK, 413)
    assert served(api, f"POST {WEBHOOK}", 1).count(f"POST {WEBHOOK}") == 1


def test_the_gateways_own_refusals_of_malformed_http_are_problems(
    api_gateway: tuple[Gateway, Server],
) -> None:
    gateway, api = api_gateway
    pad = "x" * 20_000  # beyond nginx's 16k buffers

    not_http = send_raw(gateway, b"GET /healthz HTTP/1.1\r\nHost: a\r\nno colon\r\n\r\n")
    long_line = send_raw(gateway, f"GET /healthz?{pad} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
    long_header = send(gateway, "GET", "/healthz", {"X-Pad": pad})
    unknown = send(gateway, "GET", "/_problem/forbidden")  # the problem pages are internal
    longer_than_gunicorn_reads = send(gateway, "GET", f"/healthz?{pad[:5000]}")

    assert_problem(not_http, 400, "bad_request")
    assert_problem(long_line, 414, "uri_too_long")
    assert_problem(long_header, 431, "header_fields_too_large")
    assert_problem(unknown, 404, "not_found")
    assert_problem(longer_than_gunicorn_reads, 414, "uri_too_long")  # gunicorn's
    assert "refused before the app" in api.log_text()


# --- rate limits ----------------------------------------------------------------------------


def test_a_burst_of_verify_calls_from_one_client_is_refused_with_429_and_retry_after(
    api_gateway: tuple[Gateway, Server],
) -> None:
    gateway, _ = api_gateway

    answers = until_refused(gateway, "POST", VERIFY, headers=JSON, body=b"{}")
    *allowed, refused = answers
    preflight = send(gateway, "OPTIONS", VERIFY, {"Origin": "http://new.localhost:8022"})

    assert len(allowed) >= BURST + 1
    assert {answer.status for answer in allowed} == {422}  # the service's answers
    for answer, method in ((refused, "POST"), (preflight, "OPTIONS")):
        assert_problem(answer, 429, "rate_limited")
        assert_documented(answer, method, VERIFY, 429)
    time.sleep(int(refused.headers["Retry-After"]))
    assert send(gateway, "POST", VERIFY, JSON, b"{}").status == 422
    entry = gateway.access_log(len(answers) + 2)[len(allowed)]
    assert (entry["status"], entry["request_id"]) == (429, refused.json()["request_id"])


def test_webhooks_are_never_rate_limited_even_from_a_client_verify_refuses(
    api_gateway: tuple[Gateway, Server],
) -> None:
    gateway, api = api_gateway
    refused = until_refused(gateway, "POST", VERIFY, headers=JSON, body=b"{}")
    assert refused[-1].status == 429

    signed = {**JSON, "X-Razorpay-Signature": "0" * 64}
    webhooks = [send(gateway, "POST", WEBHOOK, signed, b'{"event": "x"}') for _ in refused]

    assert {answer.status for answer in webhooks} == {403}  # all reached the service
    assert served(api, f"POST {WEBHOOK}", len(refused)).count(f"POST {WEBHOOK}") == len(refused)


def test_the_public_operations_share_a_generous_limit_and_token_calls_have_none(
    api_gateway: tuple[Gateway, Server],
) -> None:
    gateway, _ = api_gateway

    *allowed, refused = until_refused(gateway, "GET", "/healthz")
    others = {path: send(gateway, "GET", path) for path in ("/", "/readyz", "/openapi.yaml")}
    docs = send(gateway, "GET", "/docs/")
    token_calls = [send(gateway, "GET", "/v1/orders") for _ in range(2 * BURST)]

    assert len(allowed) >= BURST + 1 and {answer.status for answer in allowed} == {200}
    assert_documented(refused, "GET", "/healthz", 429)
    for path, answer in others.items():
        assert_documented(answer, "GET", path, 429)
    assert docs.status == 429
    assert {answer.status for answer in token_calls} == {401}
    assert send(gateway, "POST", VERIFY, JSON, b"{}").status == 422  # a limit of its own


# --- the client's address -------------------------------------------------------------------


def test_the_service_is_told_the_clients_address_never_one_the_client_wrote(
    echo_gateway: Gateway,
) -> None:
    spoofed = {"X-Forwarded-For": "203.0.113.7"}

    direct = send(echo_gateway, "GET", "/v1/orders", spoofed, source="127.0.0.2")
    # From 127.0.0.1, a trusted proxy (a TLS terminator) in front of the gateway: it names
    # the client, after whatever the client itself wrote (6.6.6.6).
    proxied = send(echo_gateway, "GET", "/v1/orders", spoofed)
    appended = send(echo_gateway, "GET", "/v1/orders", {"X-Forwarded-For": "6.6.6.6, 203.0.113.8"})

    assert direct.json() == {"X-Forwarded-For": ["127.0.0.2"]}
    assert proxied.json() == {"X-Forwarded-For": ["203.0.113.7"]}
    assert appended.json() == {"X-Forwarded-For": ["203.0.113.8"]}
    clients = [entry["client"] for entry in echo_gateway.access_log(3)]
    assert clients == ["127.0.0.2", "203.0.113.7", "203.0.113.8"]


def test_the_rate_limit_is_per_client_and_x_forwarded_for_does_not_escape_it(
    echo_gateway: Gateway,
) -> None:
    answers: list[Answer] = []  # one client, writing a new X-Forwarded-For every time
    while len(answers) < 3 * BURST and not any(a.status == 429 for a in answers):
        spoofed = {"X-Forwarded-For": f"198.51.100.{len(answers)}"}
        answers.append(send(echo_gateway, "POST", VERIFY, spoofed, b"{}", source="127.0.0.2"))
    first_client = until_refused(
        echo_gateway, "POST", VERIFY, headers={"X-Forwarded-For": "203.0.113.1"}, body=b"{}"
    )
    second_client = send(echo_gateway, "POST", VERIFY, {"X-Forwarded-For": "203.0.113.2"}, b"{}")

    assert answers[-1].status == 429 and len(answers) >= BURST + 2
    assert first_client[-1].status == 429
    assert second_client.status == 200  # another client behind the same proxy


def test_the_gateway_leaves_no_nginx_process_behind(tmp_path: Path) -> None:
    with running_gateway(9, tmp_path / "nginx") as gateway:  # upstream never contacted
        processes = {gateway.pid, *workers_of(gateway.pid)}
        names = {Path(f"/proc/{pid}/comm").read_text().strip() for pid in processes}
        assert len(processes) >= 2 and names == {"nginx"}  # the master and its workers

    assert not [pid for pid in processes if is_running(pid)]
