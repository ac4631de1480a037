"""A body sent without a Content-Length (chunked transfer encoding) over real HTTP is held
to the same limit as any other: over it, a 413 problem and nothing stored; at it, read
whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import requests

from tests.actions import SiteCredentials, order_body
from tests.test_malformed_requests import WEBHOOK, _sign


def _chunked(url: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    """POST ``body`` over HTTP with chunked transfer encoding: no Content-Length."""

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(body), 16_384):
            yield body[start : start + 16_384]

    return requests.post(url, data=pieces(), headers=headers, timeout=30)


def assert_http_problem(answer: requests.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == code


def test_a_chunked_body_over_the_limit_is_a_413_and_one_at_the_limit_is_read_whole(
    live_api: str, app: Any, db_rows: Any
) -> None:
    limit = app.extensions["payments_service"].settings.max_request_bytes
    event = json.dumps({"event": "payment.dispute.created", "payload": {}}).encode()
    at_limit = event + b" " * (limit - len(event))
    over_limit = at_limit + b" "
    url = f"{live_api}{WEBHOOK}"

    too_long = _chunked(url, over_limit, {"X-Razorpay-Signature": _sign(over_limit)})
    whole = _chunked(url, at_limit, {"X-Razorpay-Signature": _sign(at_limit)})

    assert_http_problem(too_long, 413, "payload_too_large")
    assert whole.status_code == 200, whole.text
    assert db_rows("SELECT count(*) AS n FROM razorpay_events") == [{"n": 1}]


def test_a_chunked_json_body_over_the_limit_is_a_413(
    live_api: str, new_site: SiteCredentials
) -> None:
    body = json.dumps(order_body(receipt="x" * 70_000)).encode()
    headers = {**new_site.headers, "Content-Type": "application/json"}

    assert_http_problem(_chunked(f"{live_api}/v1/orders", body, headers), 413, "payload_too_large")
