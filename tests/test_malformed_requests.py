"""However malformed a request, the answer is a 4xx problem and the log has no traceback:
absurd nesting, NUL and half surrogate pairs, invalid UTF-8, forged cursors, unknown
methods. (Bodies over the limit without a Content-Length are in test_chunked_bodies.py; the
limits gunicorn enforces itself are tested through the real server in
test_gunicorn_limits.py.)"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import string
from typing import Any

import pytest

from payments_service.bounded_json import MAX_DEPTH, nests_deeper_than, parse
from payments_service.settings import SANDBOX_WEBHOOK_SECRET
from tests.actions import SiteCredentials, order_body
from tests.contract.openapi import schema_errors

DEEP = b'{"reason": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
WEBHOOK = "/v1/webhooks/razorpay"
# Every operation that reads a JSON body, and who may call it.
JSON_ENDPOINTS = [
    ("/v1/orders", "site"),
    ("/v1/payments/verify", None),
    ("/v1/refunds", "site"),
    ("/v1/enrollments", "admin"),
    ("/v1/enrollments/enr_Unknown0000001/revoke", "admin"),
    ("/v1/reconcile", "admin"),
]
LIST_ENDPOINTS = [
    ("/v1/orders", "site"),
    ("/v1/payments", "site"),
    ("/v1/refunds", "site"),
    ("/v1/webhook-events", "admin"),
    ("/v1/notifications", "admin"),
]


def _sign(body: bytes) -> str:
    return hmac.new(SANDBOX_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def as_caller(new_site: SiteCredentials, admin_headers: dict[str, str]) -> Any:
    def headers(caller: str | None) -> dict[str, str]:
        return {"site": new_site.headers, "admin": admin_headers}.get(caller or "", {})

    return headers


def assert_problem(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"
    body: dict[str, Any] = answer.get_json()
    assert body["code"] == code and body["request_id"] == answer.headers["X-Request-Id"]
    return body


def assert_no_traceback(captured: str) -> None:
    assert "Traceback" not in captured
    lines = [json.loads(line) for line in captured.splitlines() if line.startswith("{")]
    assert not [line for line in lines if "exception" in line or line["level"] == "ERROR"]


@pytest.mark.parametrize(("path", "caller"), JSON_ENDPOINTS)
def test_json_nested_10000_deep_is_a_400_problem_without_a_traceback(
    client: Any, as_caller: Any, capsys: pytest.CaptureFixture[str], path: str, caller: str | None
) -> None:
    capsys.readouterr()
    headers = {**as_caller(caller), "Content-Type": "application/json"}

    answer = client.post(path, data=DEEP, headers=headers)

    body = assert_problem(answer, 400, "bad_request")
    assert f"deeper than {MAX_DEPTH}" in body["detail"]
    assert_no_traceback(capsys.readouterr().err)


def test_signed_webhook_nested_10000_deep_is_malformed_and_stores_nothing(
    client: Any, db_rows: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    body = b'{"event": "payment.captured", "payload": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"

    signed = client.post(WEBHOOK, data=body, headers={"X-Razorpay-Signature": _sign(body)})
    unsigned = client.post(WEBHOOK, data=body, headers={"X-Razorpay-Signature": "0" * 64})

    assert f"deeper than {MAX_DEPTH}" in assert_problem(signed, 400, "malformed_webhook")["detail"]
    assert_problem(unsigned, 403, "invalid_signature")
    assert db_rows("SELECT count(*) AS n FROM razorpay_events") == [{"n": 0}]
    assert_no_traceback(capsys.readouterr().err)


def test_a_token_whose_header_nests_10000_deep_is_a_401(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    header = base64.urlsafe_b64encode(b"[" * 5_000 + b"]" * 5_000).decode().rstrip("=")

    answer = client.get("/v1/orders", headers={"Authorization": f"Bearer {header}.e30.c2ln"})

    assert_problem(answer, 401, "unauthorized")
    assert_no_traceback(capsys.readouterr().err)


def test_nesting_is_measured_outside_strings_only() -> None:
    assert not nests_deeper_than(json.dumps({"a": "[" * 100, "b": "{" * 100}), 2)
    assert not nests_deeper_than(json.dumps({"a": [['\\"[[[[[']]}), 3)
    assert nests_deeper_than(json.dumps({"a": [['\\"[[[[[']]}), 2)
    assert not nests_deeper_than("[" * MAX_DEPTH + "]" * MAX_DEPTH, MAX_DEPTH)
    assert nests_deeper_than("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), MAX_DEPTH)


def test_a_body_nested_as_deep_as_allowed_still_reaches_validation(
    client: Any, new_site: SiteCredentials
) -> None:
    nested: Any = "x"
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]
    answer = client.post("/v1/orders", json=order_body(receipt=nested), headers=new_site.headers)

    assert "receipt" in assert_problem(answer, 422, "validation_error")["errors"]


def _series(client: Any) -> set[str]:
    text = client.get("/metrics").get_data(as_text=True)
    return {line.rpartition(" ")[0] for line in text.splitlines() if not line.startswith("#")}


def test_a_thousand_random_method_names_add_no_metrics_series(client: Any) -> None:
    names = random.Random(20240531)
    _series(client)  # the first scrape adds its own series (GET /metrics 200)
    before = _series(client)

    def send_a_thousand() -> None:
        for index in range(1000):
            method = "".join(names.choices(string.ascii_uppercase, k=10))
            path = "/v1/orders" if index % 2 else f"/v1/{method.lower()}"
            assert client.open(path, method=method).status_code in (404, 405)

    send_a_thousand()
    after_first = _series(client)
    send_a_thousand()
    after_second = _series(client)

    assert after_second == after_first
    added = after_first - before
    assert added and all('method="other"' in s for s in added if "http_request" in s), added
    assert len(added) < 60, len(added)  # two statuses x (counter + histogram), not 1,000


@pytest.mark.parametrize(("path", "caller"), LIST_ENDPOINTS)
@pytest.mark.parametrize(
    "raw",
    [
        b"2026-01-01T00:00:00+00:00|ord_\x00x",
        b"\xff\xfe|ord_x",
        b"2026-01-01T00:00:00+00:00|ord_\xed\xa0\x80",
    ],
    ids=["nul", "not-utf8", "surrogate"],
)
def test_a_forged_cursor_is_a_422_on_every_list_endpoint(
    client: Any, as_caller: Any, path: str, caller: str, raw: bytes
) -> None:
    answer = client.get(path, query_string={"cursor": _cursor(raw)}, headers=as_caller(caller))

    assert assert_problem(answer, 422, "validation_error")["field"] == "cursor"


@pytest.mark.parametrize(("path", "caller"), LIST_ENDPOINTS)
def test_nul_and_invalid_utf8_in_a_query_are_422_on_every_list_endpoint(
    client: Any, as_caller: Any, path: str, caller: str
) -> None:
    for query in ("cursor=a%00b", "cursor=%ff%fe", "limit=%ff", "status=paid%00"):
        answer = client.get(f"{path}?{query}", headers=as_caller(caller))
        name = query.split("=")[0]
        assert name in assert_problem(answer, 422, "validation_error")["errors"], query


@pytest.mark.parametrize(
    ("path", "caller", "body", "field"),
    [
        ("/v1/orders", "site", order_body(receipt="r\x00"), "receipt"),
        ("/v1/orders", "site", order_body(receipt="r\ud800"), "receipt"),
        ("/v1/orders", "site", order_body(notes={"\udc00": "v"}), "notes"),
        ("/v1/refunds", "site", {"payment_id": "pay_X", "reason": "a\x00"}, "reason"),
        ("/v1/refunds", "site", {"payment_id": "pay_X", "reason": "\udfff"}, "reason"),
        ("/v1/enrollments", "admin", {"customer_email": "a@b.co", "reason": "\ud800"}, "reason"),
        ("/v1/payments/verify", None, {"razorpay_order_id": "order_\x00"}, "razorpay_order_id"),
        ("/v1/reconcile", "admin", {"from": "2026-01-01T00:00:00\ud800"}, "from"),
    ],
)
def test_nul_and_half_surrogate_pairs_in_json_text_are_422(
    client: Any,
    as_caller: Any,
    db_rows: Any,
    path: str,
    caller: str | None,
    body: dict[str, Any],
    field: str,
) -> None:
    raw = json.dumps(body).encode()  # ASCII: the NUL and surrogates travel as \u escapes

    answer = client.post(
        path, data=raw, headers={**as_caller(caller), "Content-Type": "application/json"}
    )

    assert field in assert_problem(answer, 422, "validation_error")["errors"]
    assert db_rows("SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM refunds) AS n")[
        0
    ] == {"n": 0}


def test_a_body_that_is_not_utf8_is_a_422(client: Any, new_site: SiteCredentials) -> None:
    raw = json.dumps(order_body(receipt="cart-\u00e9"), ensure_ascii=False).encode("latin-1")

    answer = client.post(
        "/v1/orders", data=raw, headers={**new_site.headers, "Content-Type": "application/json"}
    )

    assert "_body" in assert_problem(answer, 422, "validation_error")["errors"]


def test_a_signed_webhook_with_text_postgresql_cannot_hold_is_malformed(
    client: Any, db_rows: Any
) -> None:
    for text in ("a\x00b", "a\ud800b"):
        body = json.dumps({"event": "payment.captured", "payload": {"note": text}}).encode()
        answer = client.post(WEBHOOK, data=body, headers={"X-Razorpay-Signature": _sign(body)})
        assert_problem(answer, 400, "malformed_webhook")
    assert db_rows("SELECT count(*) AS n FROM razorpay_events") == [{"n": 0}]


@pytest.mark.parametrize("number", [b"NaN", b"-Infinity", b"1e999"])
def test_numbers_json_has_no_room_for_are_refused_not_stored(
    client: Any, new_site: SiteCredentials, db_rows: Any, number: bytes
) -> None:
    event = b'{"event": "payment.captured", "created_at": ' + number + b"}"
    order = b'{"amount": ' + number + b"}"

    webhook = client.post(WEBHOOK, data=event, headers={"X-Razorpay-Signature": _sign(event)})
    create = client.post(
        "/v1/orders", data=order, headers={**new_site.headers, "Content-Type": "application/json"}
    )

    assert_problem(webhook, 400, "malformed_webhook")
    assert_problem(create, 400, "bad_request")
    assert db_rows("SELECT count(*) AS n FROM razorpay_events") == [{"n": 0}]


def test_whole_numbers_become_exact_integers_for_request_bodies_not_webhooks() -> None:
    text = b"[49900.0, 4.99e4, -0.0, 49900.5, 49900.0000000000001, 1e-999999999]"

    assert parse(text, whole_numbers_as_int=True) == [49900, 49900, 0, 49900.5, 49900.0, 0.0]
    assert [type(n) for n in parse(text, whole_numbers_as_int=True)] == [int] * 3 + [float] * 3
    assert all(type(n) is float for n in parse(text))  # a webhook's payload, stored as sent


@pytest.mark.parametrize("given", ["<script>", "x" * 129, "a b", "ünï", ""])
def test_a_request_id_outside_the_documented_pattern_is_replaced_never_refused(
    client: Any, given: str
) -> None:
    answer = client.get("/healthz", headers={"X-Request-Id": given})

    assert not schema_errors(given, "/components/parameters/RequestId/schema")  # documented
    assert answer.status_code == 200
    echoed = answer.headers["X-Request-Id"]
    assert echoed != given and len(echoed) == 32
    assert not schema_errors(echoed, "/components/headers/X-Request-Id/schema")
