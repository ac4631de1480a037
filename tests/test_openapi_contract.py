"""openapi.yaml is the contract: a valid OpenAPI 3.1 document, listing exactly the routes the
app serves, whose schemas describe the requests the app accepts and the responses it sends."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import requests
import yaml
from flask import Flask
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from payments_service.api.docs import OPENAPI_PATH
from payments_service.notifications import deliver_due
from payments_service.settings import SANDBOX_WEBHOOK_SECRET
from payments_service.signatures import checkout_signature
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials, order_body, register_site
from tests.test_create_order import socket_that_refuses

DOCUMENT: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
DOCUMENT_URI = "urn:payments-service:openapi"
REGISTRY: Registry[Any] = Registry().with_resource(
    DOCUMENT_URI, DRAFT202012.create_resource(DOCUMENT)
)
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
SITE_ORIGIN = "http://new.localhost:8022"  # new_site's registered origin (conftest)
ORDER_REQUEST = "/paths/~1v1~1orders/post/requestBody/content/application~1json/schema"
MINIMAL_ORDER = {
    "amount": 100,
    "product": {"sku": "go-1", "name": "Go"},
    "customer": {"email": "b@c.io"},
}
WEBHOOK = "/v1/webhooks/razorpay"
WEBHOOK_EVENTS = "/v1/webhook-events"
REAPPLY = "/v1/webhook-events/{event_id}/reapply"
RECONCILE = "/v1/reconcile"
RECONCILE_REQUEST = "/paths/~1v1~1reconcile/post/requestBody/content/application~1json/schema"
PAYMENTS = "/v1/payments"
REFUNDS = "/v1/refunds"
REFUND = "/v1/refunds/{refund_id}"
REFUND_REQUEST = "/paths/~1v1~1refunds/post/requestBody/content/application~1json/schema"
ENROLLMENTS = "/v1/enrollments"
GRANT_REQUEST = "/paths/~1v1~1enrollments/post/requestBody/content/application~1json/schema"
REVOKE = "/v1/enrollments/{enrollment_id}/revoke"
TRAIL = "/v1/customers/{email}/transactions"
NOTIFICATIONS = "/v1/notifications"
REDELIVER = "/v1/notifications/{notification_id}/redeliver"
SITE_NOTIFICATION = "/components/schemas/SiteNotification"
CALLBACK = "/webhooks/siteNotification/post"
CALLBACK_BODY = f"{CALLBACK}/requestBody/content/application~1json/schema"
UNKNOWN_PAYMENT = "pay_Unknown0000001"


# --- reading the document -------------------------------------------------------------


def escape(segment: str) -> str:
    """One JSON Pointer segment (RFC 6901)."""
    return segment.replace("~", "~0").replace("/", "~1")


def lookup(pointer: str) -> Any:
    """The node of the document at a JSON Pointer such as ``/components/schemas/Order``."""
    node: Any = DOCUMENT
    for segment in pointer.split("/")[1:]:
        node = node[segment.replace("~1", "/").replace("~0", "~")]
    return node


def follow(pointer: str) -> tuple[str, dict[str, Any]]:
    """The object at ``pointer`` after following ``$ref``s (responses, headers, examples)."""
    node = lookup(pointer)
    while "$ref" in node:
        pointer = node["$ref"].removeprefix("#")
        node = lookup(pointer)
    return pointer, node


def schema_errors(instance: Any, schema_pointer: str) -> list[str]:
    """Why ``instance`` breaks the schema at ``schema_pointer`` (empty when it conforms)."""
    validator = Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#{schema_pointer}"},
        registry=REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(instance)
    ]


def documented_routes() -> dict[str, set[str]]:
    return {
        path: {method.upper() for method in HTTP_METHODS & item.keys()}
        for path, item in DOCUMENT["paths"].items()
    }


def registered_routes(app: Flask) -> dict[str, set[str]]:
    """The app's routes in OpenAPI spelling, without HEAD and Flask's automatic OPTIONS."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("swagger_ui."):
            continue  # Swagger UI's page and assets are not part of the API
        methods = set(rule.methods or ()) - {"HEAD"}
        if getattr(rule, "provide_automatic_options", True):
            methods.discard("OPTIONS")
        path = re.sub(r"<(?:[^<>:]+:)?([^<>:]+)>", r"{\1}", rule.rule)
        routes.setdefault(path, set()).update(methods)
    return routes


def documented_operations() -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, operation) for every operation: the API's paths and the webhooks it sends."""
    for section in ("paths", "webhooks"):
        for name, item in DOCUMENT.get(section, {}).items():
            for method in sorted(HTTP_METHODS & item.keys()):
                yield f"/{section}/{escape(name)}/{method}", item[method]


def documented_examples() -> Iterator[tuple[str, Any]]:
    """(schema pointer, example) for every example written next to a request/response schema."""
    for pointer, operation in documented_operations():
        holders = [f"{pointer}/requestBody"] if "requestBody" in operation else []
        holders += [f"{pointer}/responses/{status}" for status in operation["responses"]]
        for holder in holders:
            described_pointer, described = follow(holder)
            for media_type, media in described.get("content", {}).items():
                media_pointer = f"{described_pointer}/content/{escape(media_type)}"
                if "example" in media:
                    yield f"{media_pointer}/schema", media["example"]
                for name in media.get("examples", {}):
                    _, example = follow(f"{media_pointer}/examples/{escape(name)}")
                    yield f"{media_pointer}/schema", example["value"]


# --- checking real responses ----------------------------------------------------------


def assert_conforms(response: Any, path: str, status: int) -> None:
    """``response`` has ``status`` and the media type, headers and body the document
    declares for that status of ``path`` and the request's method."""
    method = response.request.method.lower()
    body = response.get_data(as_text=True)
    assert response.status_code == status, body
    responses = f"/paths/{escape(path)}/{method}/responses"
    assert str(status) in lookup(responses), f"{method.upper()} {path} {status} is undocumented"
    pointer, described = follow(f"{responses}/{status}")
    for name in described.get("headers", {}):
        header_pointer, header = follow(f"{pointer}/headers/{escape(name)}")
        if name in response.headers:
            assert not schema_errors(response.headers[name], f"{header_pointer}/schema"), name
        else:
            assert not header.get("required"), f"required header {name} is missing"
    content = described.get("content", {})
    if not content:
        assert body == "", f"{status} declares no body but sent {body!r}"
        return
    assert response.mimetype in content, f"{response.mimetype} is not declared for {status}"
    if response.is_json:
        schema = f"{pointer}/content/{escape(response.mimetype)}/schema"
        errors = schema_errors(response.get_json(), schema)
        assert not errors, (errors, response.get_json())


def assert_problem(response: Any, path: str, status: int, code: str) -> None:
    assert_conforms(response, path, status)
    assert response.get_json()["code"] == code


# --- talking like Razorpay and like an operator ---------------------------------------


def webhook_signature(body: bytes, secret: str = SANDBOX_WEBHOOK_SECRET) -> str:
    """X-Razorpay-Signature as Razorpay computes it: hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def event_body(event: str, created_at: int = 1700000000, **entities: dict[str, Any]) -> bytes:
    """A Razorpay webhook envelope carrying ``entities`` (e.g. ``payment={...}``), as bytes."""
    envelope = {
        "entity": "event",
        "account_id": "acc_Sandbox0000001",
        "event": event,
        "contains": list(entities),
        "payload": {name: {"entity": entity} for name, entity in entities.items()},
        "created_at": created_at,
    }
    return json.dumps(envelope).encode()


def configure_sandbox(sandbox: Any, **knobs: Any) -> None:
    """Turn the sandbox's knobs (conftest puts them back after each test)."""
    requests.patch(f"{sandbox.url}/_sandbox/config", json=knobs, timeout=5).raise_for_status()


def settle_refund_at_razorpay(sandbox: Any, razorpay_refund_id: str, status: str) -> None:
    """Razorpay finishes a pending refund (and emits its webhook event)."""
    requests.post(
        f"{sandbox.url}/_sandbox/refunds/{razorpay_refund_id}/settle",
        json={"status": status},
        timeout=5,
    ).raise_for_status()


def window_around_now(minutes: int = 10) -> dict[str, str]:
    """A POST /v1/reconcile body for the minutes around now."""
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(minutes=minutes)).isoformat(),
        "to": (now + timedelta(minutes=minutes)).isoformat(),
    }


@pytest.fixture
def callback_url() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A site's callback endpoint on loopback: answers 204 (any 2xx is delivered) and
    records the (headers, raw body) of every callback it receives."""
    received: list[tuple[dict[str, str], bytes]] = []

    def endpoint(environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        received.append((dict(request.headers), request.get_data()))
        return Response(status=204)(environ, start_response)

    server = make_server("127.0.0.1", 0, endpoint, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}/payments/callback", received
    server.shutdown()
    server.server_close()
    thread.join()


def deliver_every_callback(app: Flask) -> None:
    """Run the worker's delivery until nothing is due (one order's events go one at a time)."""
    with requests.Session() as session:
        db = app.extensions["payments_service"].db
        while deliver_due(db, session, timeout=(0.5, 0.5)).delivered:
            pass


def callback_signature_holds(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """X-Payments-Signature as documented: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    match = re.fullmatch(r"t=([0-9]+),v1=([0-9a-f]{64})", headers["X-Payments-Signature"])
    assert match, headers["X-Payments-Signature"]
    sent_at, digest = match.groups()
    expected = hmac.new(secret.encode(), f"{sent_at}.".encode() + body, hashlib.sha256)
    recent = abs(datetime.now(UTC).timestamp() - int(sent_at)) < 300
    return recent and hmac.compare_digest(expected.hexdigest(), digest)


# --- the document itself --------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1() -> None:
    assert DOCUMENT["openapi"].startswith("3.1.")
    validate(DOCUMENT)


def test_every_route_is_documented_with_its_methods_and_nothing_more(app: Flask) -> None:
    assert registered_routes(app) == documented_routes()


def test_the_documents_examples_match_their_schemas() -> None:
    examples = list(documented_examples())
    assert len(examples) >= 6
    for schema_pointer, example in examples:
        assert not schema_errors(example, schema_pointer), (schema_pointer, example)


def test_every_operation_has_a_declared_tag_and_a_unique_operation_id() -> None:
    declared = {tag["name"] for tag in DOCUMENT["tags"]}
    operations = [operation for _, operation in documented_operations()]
    ids = [operation["operationId"] for operation in operations]
    assert len(ids) == len(set(ids)), ids
    for operation in operations:
        assert operation["tags"] and set(operation["tags"]) <= declared, operation["operationId"]


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        (order_body(), True),
        (MINIMAL_ORDER, True),
        (order_body(customer={"email": "A@B.CO", "name": None, "contact": "12345678"}), True),
        (
            order_body(amount=10**12, receipt=None, notes={f"k{i}": "v" * 256 for i in range(12)}),
            True,
        ),
        (order_body(amount=10**12 + 1), False),
        (order_body(amount=99), False),
        (order_body(amount=499.5), False),
        (order_body(amount="49900"), False),
        (order_body(amount=True), False),
        (order_body(currency=None), False),
        (order_body(currency="inr"), False),
        (order_body(receipt=""), False),
        (order_body(receipt="r" * 41), False),
        (order_body(notes={f"k{i}": "v" for i in range(13)}), False),
        (order_body(notes={"": "v"}), False),
        (order_body(notes={"k": {"nested": 1}}), False),
        (order_body(product={"sku": "Python 101!", "name": "x"}), False),
        (order_body(product={"sku": "python-101", "name": ""}), False),
        (order_body(customer={"email": "a@b.co", "contact": "call me"}), False),
        (order_body(customer={"email": "a@b.co", "age": 30}), False),
        ({k: v for k, v in order_body().items() if k != "customer"}, False),
        (order_body(surprise=1), False),
        (order_body(allow_owned=True), True),
        (order_body(allow_owned=False), True),
        (order_body(allow_owned="true"), False),
        (order_body(allow_owned=1), False),
    ],
)
def test_the_create_order_schema_accepts_what_the_api_accepts(
    client: Any, new_site: SiteCredentials, body: dict[str, Any], accepted: bool
) -> None:
    response = client.post("/v1/orders", json=body, headers=new_site.headers)

    errors = schema_errors(body, ORDER_REQUEST)
    assert response.status_code == (201 if accepted else 422), response.get_json()
    assert (not errors) is accepted, errors


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z"}, True),
        ({"from": "2020-01-01T05:30:00+05:30", "to": "2020-01-01T23:59:59.5-08:00"}, True),
        ({"from": "2020-01-01T00:00:00", "to": "2020-01-02T00:00:00"}, False),
        ({"from": "2020-01-01", "to": "2020-01-02"}, False),
        ({"from": 1577836800, "to": 1577923200}, False),
        ({"from": "2020-01-01T00:00:00Z"}, False),
        ({"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z", "site_id": "x"}, False),
    ],
)
def test_the_reconcile_schema_accepts_what_the_api_accepts(
    client: Any, admin_headers: dict[str, str], body: dict[str, Any], accepted: bool
) -> None:
    response = client.post(RECONCILE, json=body, headers=admin_headers)

    errors = schema_errors(body, RECONCILE_REQUEST)
    assert response.status_code == (200 if accepted else 422), response.get_json()
    assert (not errors) is accepted, errors


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({"payment_id": UNKNOWN_PAYMENT}, True),
        ({"order_id": "ord_Unknown0000001"}, True),
        (
            {
                "payment_id": UNKNOWN_PAYMENT,
                "order_id": "ord_Unknown0000001",
                "amount": 100,
                "currency": "INR",
                "reason": "r" * 500,
                "speed": "optimum",
                "revoke_access": False,
            },
            True,
        ),
        (
            {
                "payment_id": None,
                "order_id": "o" * 64,
                "amount": None,
                "currency": None,
                "reason": None,
            },
            True,
        ),
        ({"payment_id": "pay_" + "a" * 60}, True),
        ({"payment_id": "pay_" + "a" * 61}, False),
        ({"payment_id": "rfnd_Abc"}, False),
        ({"payment_id": ""}, False),
        ({"order_id": ""}, False),
        ({"order_id": "o" * 65}, False),
        ({}, False),
        ({"payment_id": None, "order_id": None}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "amount": 99}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "amount": 10**12 + 1}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "amount": 100.5}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "amount": "500"}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "amount": True}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "currency": "inr"}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "reason": ""}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "reason": "r" * 501}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "speed": "instant"}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "speed": None}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "revoke_access": None}, False),
        ({"payment_id": UNKNOWN_PAYMENT, "surprise": 1}, False),
    ],
)
def test_the_create_refund_schema_accepts_what_the_api_accepts(
    client: Any, new_site: SiteCredentials, body: dict[str, Any], accepted: bool
) -> None:
    # An accepted body names no payment of ours, so it gets as far as the 404.
    response = client.post(REFUNDS, json=body, headers=new_site.headers)

    errors = schema_errors(body, REFUND_REQUEST)
    assert response.status_code == (404 if accepted else 422), response.get_json()
    assert (not errors) is accepted, errors


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({"customer_email": "Guest@Example.com", "sku": "python-101", "reason": "r"}, True),
        ({"customer_email": "g@example.com", "sku": "go-1", "reason": "r" * 500}, True),
        ({"customer_email": "g@example.com", "sku": "go-1", "reason": ""}, False),
        ({"customer_email": "g@example.com", "sku": "go-1", "reason": "r" * 501}, False),
        ({"customer_email": "g@example.com", "sku": "go-1", "reason": None}, False),
        ({"customer_email": "g@example.com", "sku": "Go 1", "reason": "r"}, False),
        ({"customer_email": "g@example.com", "sku": "go-1"}, False),
        ({"customer_email": "g@example.com", "reason": "r"}, False),
        ({"sku": "go-1", "reason": "r"}, False),
        ({"customer_email": "g@example.com", "sku": "go-1", "reason": "r", "x": 1}, False),
    ],
)
def test_the_grant_enrollment_schema_accepts_what_the_api_accepts(
    client: Any, admin_headers: dict[str, str], body: dict[str, Any], accepted: bool
) -> None:
    response = client.post(ENROLLMENTS, json=body, headers=admin_headers)

    errors = schema_errors(body, GRANT_REQUEST)
    assert response.status_code == (201 if accepted else 422), response.get_json()
    assert (not errors) is accepted, errors


# --- real responses -------------------------------------------------------------------


def test_real_order_responses_match_the_contract(
    client: Any, checkout: Checkout, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    keyed = {**new_site.headers, "Idempotency-Key": "contract-1"}
    created = client.post("/v1/orders", json=order_body(), headers=keyed)
    assert_conforms(created, "/v1/orders", 201)
    assert_conforms(client.post("/v1/orders", json=order_body(), headers=keyed), "/v1/orders", 200)
    minimal = client.post("/v1/orders", json=MINIMAL_ORDER, headers=new_site.headers)
    assert_conforms(minimal, "/v1/orders", 201)
    assert minimal.get_json()["checkout"]["prefill"] == {"email": "b@c.io"}

    order = created.get_json()
    assert_conforms(checkout.verify(checkout.pay(order)), "/v1/payments/verify", 200)
    fetched = client.get(f"/v1/orders/{order['id']}", headers=new_site.headers)
    assert_conforms(fetched, "/v1/orders/{order_id}", 200)
    assert fetched.get_json()["paid_at"] is not None

    first = client.get("/v1/orders?limit=1", headers=new_site.headers)
    assert_conforms(first, "/v1/orders", 200)
    cursor = first.get_json()["next_cursor"]
    assert cursor is not None
    last = client.get(f"/v1/orders?limit=1&cursor={cursor}", headers=new_site.headers)
    assert_conforms(last, "/v1/orders", 200)
    assert last.get_json()["next_cursor"] is None
    query = "status=paid&customer_email=asha@example.com&site_id=new-site"
    paid = client.get(f"/v1/orders?{query}", headers=admin_headers)
    assert_conforms(paid, "/v1/orders", 200)
    assert [o["id"] for o in paid.get_json()["items"]] == [order["id"]]


def test_real_checkout_responses_match_the_contract(
    client: Any, checkout: Checkout, new_site: SiteCredentials
) -> None:
    origin = {"Origin": SITE_ORIGIN}
    preflight = client.options(
        "/v1/payments/verify", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert_conforms(preflight, "/v1/payments/verify", 204)

    first = checkout.create_order(new_site)
    paid = client.post("/v1/payments/verify", json=checkout.pay(first), headers=origin)
    assert_conforms(paid, "/v1/payments/verify", 200)
    assert paid.headers["Access-Control-Allow-Origin"] == SITE_ORIGIN
    assert paid.get_json()["enrollment"]["order_id"] == first["id"]

    # Buying a course the buyer already owns pays the order but grants nothing new.
    again = checkout.verify(checkout.pay(checkout.create_order(new_site, allow_owned=True)))
    assert_conforms(again, "/v1/payments/verify", 200)
    assert again.get_json()["enrollment"] is None


def test_real_enrollment_and_operations_responses_match_the_contract(
    client: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    dsn: str,
) -> None:
    checkout.verify(checkout.pay(checkout.create_order(new_site)))
    for query in ("customer_email=ASHA@example.com", "customer_email=a@b.io&status=revoked"):
        found = client.get(f"/v1/enrollments?{query}", headers=new_site.headers)
        assert_conforms(found, "/v1/enrollments", 200)
    (as_a_site,) = client.get(
        "/v1/enrollments?customer_email=asha@example.com", headers=new_site.headers
    ).get_json()["items"]
    assert not schema_errors(as_a_site, "/components/schemas/SiteEnrollment")
    every_owner = client.get("/v1/enrollments?sku=python-101", headers=new_site.headers)
    assert_problem(every_owner, "/v1/enrollments", 403, "forbidden")
    by_admin = client.get("/v1/enrollments?sku=python-101", headers=admin_headers)
    assert_conforms(by_admin, "/v1/enrollments", 200)
    (in_full,) = by_admin.get_json()["items"]
    assert not schema_errors(in_full, "/components/schemas/Enrollment")

    assert_conforms(client.get("/healthz"), "/healthz", 200)
    assert_conforms(client.get("/readyz"), "/readyz", 200)
    document = client.get("/openapi.yaml")
    assert_conforms(document, "/openapi.yaml", 200)
    assert document.data == OPENAPI_PATH.read_bytes()
    with psycopg.connect(dsn) as conn:
        conn.execute("DELETE FROM schema_migrations")
    assert_conforms(client.get("/readyz"), "/readyz", 503)


def test_the_bare_address_answers_where_the_docs_are(client: Any) -> None:
    index = client.get("/")

    assert_conforms(index, "/", 200)
    assert client.get(index.get_json()["docs"]).status_code == 200
    assert client.get(index.get_json()["openapi"]).data == OPENAPI_PATH.read_bytes()


def test_order_error_responses_match_the_contract(
    client: Any, make_app: Any, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    orders, site = "/v1/orders", new_site.headers
    assert_problem(client.get(orders), orders, 401, "unauthorized")
    bad_token = {"Authorization": "Bearer not.a.jwt"}
    assert_problem(
        client.post(orders, json=order_body(), headers=bad_token), orders, 401, "unauthorized"
    )
    invalid = order_body(amount=99, customer={"email": "nope"}, notes={"k": "v" * 257}, x=1)
    rejected = client.post(orders, json=invalid, headers=site)
    assert_problem(rejected, orders, 422, "validation_error")
    assert set(rejected.get_json()["errors"]) == {"amount", "customer", "notes", "x"}
    not_an_object = client.post(orders, json=[1], headers=site)
    assert_problem(not_an_object, orders, 422, "validation_error")
    assert set(not_an_object.get_json()["errors"]) == {"_schema"}
    bad_key = {**site, "Idempotency-Key": "has space"}
    assert_problem(
        client.post(orders, json=order_body(), headers=bad_key), orders, 422, "validation_error"
    )
    keyed = {**site, "Idempotency-Key": "k-1"}
    client.post(orders, json=order_body(), headers=keyed)
    assert_problem(
        client.post(orders, json=order_body(amount=59900), headers=keyed),
        orders,
        422,
        "idempotency_key_reused",
    )
    # The role is checked before the body: an admin gets 403 whatever it sends.
    for admin_body in ({"json": order_body()}, {"json": [1]}, {"data": "amount=1"}):
        assert_problem(
            client.post(orders, headers=admin_headers, **admin_body), orders, 403, "forbidden"
        )
    assert_problem(
        client.post(orders, data=b"{", headers={**site, "Content-Type": "application/json"}),
        orders,
        400,
        "bad_request",
    )
    assert_problem(
        client.post(orders, data="amount=1", headers=site), orders, 415, "unsupported_media_type"
    )
    assert_problem(
        client.post(
            orders,
            data=b"[" + b" " * 70_000 + b"]",
            headers={**site, "Content-Type": "application/json"},
        ),
        orders,
        413,
        "payload_too_large",
    )

    assert_problem(
        client.get(f"{orders}?cursor=garbage", headers=site), orders, 422, "validation_error"
    )
    unknown_parameter = client.get(f"{orders}?limit=0&colour=red", headers=site)
    assert_problem(unknown_parameter, orders, 422, "validation_error")
    assert set(unknown_parameter.get_json()["errors"]) == {"limit"}
    assert_problem(
        client.get(f"{orders}/ord_Missing0000000", headers=site),
        "/v1/orders/{order_id}",
        404,
        "not_found",
    )

    with socket_that_refuses() as dead_url:
        down = make_app(razorpay_api_base_url=dead_url).test_client()
        unavailable = down.post(orders, json=order_body(), headers=site)
    assert_problem(unavailable, orders, 503, "gateway_unavailable")


def test_checkout_error_responses_match_the_contract(
    client: Any, checkout: Checkout, new_site: SiteCredentials, sandbox: Any
) -> None:
    verify, origin = "/v1/payments/verify", {"Origin": SITE_ORIGIN}
    order = checkout.create_order(new_site)
    result = checkout.pay(order)
    forged = {
        **result,
        "razorpay_signature": checkout_signature(
            "not-the-key-secret", result["razorpay_order_id"], result["razorpay_payment_id"]
        ),
    }
    assert_problem(checkout.verify(forged), verify, 403, "invalid_signature")

    other = checkout.create_order(new_site, amount=100)
    foreign = {
        "razorpay_order_id": other["razorpay_order_id"],
        "razorpay_payment_id": result["razorpay_payment_id"],
        "razorpay_signature": checkout_signature(
            sandbox.config.key_secret, other["razorpay_order_id"], result["razorpay_payment_id"]
        ),
    }
    assert_problem(checkout.verify(foreign), verify, 400, "payment_mismatch")

    failed = checkout.create_order(new_site)
    payment_id = checkout.pay(failed, outcome="failure")["error"]["metadata"]["payment_id"]
    unsuccessful = checkout.verify(
        {
            "razorpay_order_id": failed["razorpay_order_id"],
            "razorpay_payment_id": payment_id,
            "razorpay_signature": checkout_signature(
                sandbox.config.key_secret, failed["razorpay_order_id"], payment_id
            ),
        }
    )
    assert_problem(unsuccessful, verify, 400, "payment_not_successful")
    assert unsuccessful.get_json()["payment_status"] == "failed"

    unknown = {
        "razorpay_order_id": "order_Unknown0000001",
        "razorpay_payment_id": "pay_Unknown00000001",
        "razorpay_signature": "0" * 64,
    }
    assert_problem(checkout.verify(unknown), verify, 404, "not_found")
    incomplete = client.post(verify, json={"razorpay_order_id": "order_X"}, headers=origin)
    assert_problem(incomplete, verify, 422, "validation_error")
    assert incomplete.headers["Access-Control-Allow-Origin"] == SITE_ORIGIN
    assert_problem(
        client.post(verify, data=b"{", content_type="application/json"), verify, 400, "bad_request"
    )
    assert_problem(client.post(verify, data="x=1"), verify, 415, "unsupported_media_type")
    stranger = client.options(verify, headers={"Origin": "https://evil.example"})
    assert_problem(stranger, verify, 403, "forbidden")


def test_enrollment_error_responses_match_the_contract(
    client: Any, new_site: SiteCredentials
) -> None:
    enrollments = "/v1/enrollments"
    assert_problem(client.get(enrollments, headers=new_site.headers), enrollments, 403, "forbidden")
    assert_problem(
        client.get(f"{enrollments}?sku=Not A Sku", headers=new_site.headers),
        enrollments,
        422,
        "validation_error",
    )
    assert_problem(client.get(f"{enrollments}?sku=python-101"), enrollments, 401, "unauthorized")


def test_real_webhook_responses_match_the_contract(
    client: Any, checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials
) -> None:
    order = checkout.create_order(new_site)
    checkout.pay(order)  # the buyer closes the tab: only the webhook reports the payment
    captured = webhooks.event(order["razorpay_order_id"], "payment.captured")

    first = webhooks.deliver(captured)
    assert_conforms(first, WEBHOOK, 200)
    assert first.get_json() == {"id": captured["id"], "status": "applied", "duplicate": False}
    again = webhooks.deliver(captured)
    assert_conforms(again, WEBHOOK, 200)
    assert again.get_json() == {"id": captured["id"], "status": "applied", "duplicate": True}

    # Whatever becomes of a verified event, Razorpay gets a 200 and does not retry.
    not_ours = {"id": "pay_NotOurs0000001", "order_id": "order_NotOurs000001"}
    outcomes = {
        "unmatched": event_body("payment.captured", payment=not_ours),
        "failed": event_body("payment.captured"),
        "ignored": event_body("settlement.processed"),
    }
    for status, body in outcomes.items():
        answer = webhooks.post(body, webhook_signature(body), f"evt_contract_{status}")
        assert_conforms(answer, WEBHOOK, 200)
        assert answer.get_json()["status"] == status

    # The raw bytes are what is signed: Content-Type is not inspected, and without an
    # event id the body's digest names the event.
    body = event_body("refund.speed_changed")
    as_text = client.post(
        WEBHOOK,
        data=body,
        headers={"Content-Type": "text/plain", "X-Razorpay-Signature": webhook_signature(body)},
    )
    assert_conforms(as_text, WEBHOOK, 200)
    assert as_text.get_json()["id"] == f"sha256:{hashlib.sha256(body).hexdigest()}"


def test_real_webhook_event_responses_match_the_contract(
    client: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    silence = client.get(WEBHOOK_EVENTS, headers=admin_headers)
    assert_conforms(silence, WEBHOOK_EVENTS, 200)
    assert silence.get_json() == {"items": [], "next_cursor": None, "last_received_at": None}

    order = checkout.create_order(new_site)
    checkout.pay(order)
    events = webhooks.events_for(order["razorpay_order_id"])
    for event in events:
        webhooks.deliver(event)

    first = client.get(f"{WEBHOOK_EVENTS}?limit=2", headers=admin_headers)
    assert_conforms(first, WEBHOOK_EVENTS, 200)
    cursor = first.get_json()["next_cursor"]
    assert cursor is not None and first.get_json()["last_received_at"] is not None
    last = client.get(f"{WEBHOOK_EVENTS}?limit=2&cursor={cursor}", headers=admin_headers)
    assert_conforms(last, WEBHOOK_EVENTS, 200)
    assert len(events) == 3 and len(last.get_json()["items"]) == 1
    assert last.get_json()["next_cursor"] is None

    query = "status=applied&event_type=payment.captured"
    filtered = client.get(f"{WEBHOOK_EVENTS}?{query}", headers=admin_headers)
    assert_conforms(filtered, WEBHOOK_EVENTS, 200)
    (captured,) = filtered.get_json()["items"]
    assert captured["order_id"] == order["id"]

    reapplied = client.post(f"{WEBHOOK_EVENTS}/{captured['id']}/reapply", headers=admin_headers)
    assert_conforms(reapplied, REAPPLY, 200)
    assert reapplied.get_json()["status"] == "applied"
    assert reapplied.get_json()["attempts"] == 2

    ready = client.get("/readyz")
    assert_conforms(ready, "/readyz", 200)
    assert ready.get_json()["last_webhook_received_at"] is not None

    # An implausible created_at (year 5138) is stored in the payload but not believed.
    far_future = event_body("settlement.processed", created_at=10**11)
    webhooks.post(far_future, webhook_signature(far_future), "evt_contract_far_future")
    stored = client.get(f"{WEBHOOK_EVENTS}?event_type=settlement.processed", headers=admin_headers)
    assert_conforms(stored, WEBHOOK_EVENTS, 200)
    (future,) = stored.get_json()["items"]
    assert future["razorpay_created_at"] is None
    assert future["payload"]["created_at"] == 10**11


def test_real_reconcile_responses_match_the_contract(
    client: Any, checkout: Checkout, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    order = checkout.create_order(new_site)
    checkout.pay(order)  # neither verify nor a webhook reaches the service
    window = window_around_now()

    healed = client.post(RECONCILE, json=window, headers=admin_headers)
    assert_conforms(healed, RECONCILE, 200)
    assert (healed.get_json()["updated"], healed.get_json()["unchanged"]) == (1, 0)
    again = client.post(RECONCILE, json=window, headers=admin_headers)
    assert_conforms(again, RECONCILE, 200)
    assert (again.get_json()["updated"], again.get_json()["unchanged"]) == (0, 1)
    paid = client.get(f"/v1/orders/{order['id']}", headers=new_site.headers)
    assert paid.get_json()["status"] == "paid"


def test_webhook_error_responses_match_the_contract(webhooks: RazorpayWebhooks) -> None:
    body = event_body("payment.captured")
    for signature in (None, "0" * 64, webhook_signature(body, "another-secret")):
        forged = webhooks.post(body, signature, "evt_contract_forged")
        assert_problem(forged, WEBHOOK, 403, "invalid_signature")
        assert forged.get_json()["field"] == "X-Razorpay-Signature"
    nul = event_body("payment.captured", payment={"id": "pay_\u0000", "order_id": "order_X"})
    assert b"\\u0000" in nul
    for not_an_event in (b"not json", b"[1, 2, 3]", b'{"no": "event"}', nul):
        signed = webhooks.post(not_an_event, webhook_signature(not_an_event), "evt_contract_junk")
        assert_problem(signed, WEBHOOK, 400, "malformed_webhook")
    huge = b'{"event": "payment.captured", "pad": "' + b"x" * 70_000 + b'"}'
    assert_problem(
        webhooks.post(huge, webhook_signature(huge), "evt_contract_huge"),
        WEBHOOK,
        413,
        "payload_too_large",
    )


def test_webhook_event_error_responses_match_the_contract(
    client: Any, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    site, admin = new_site.headers, admin_headers
    assert_problem(client.get(WEBHOOK_EVENTS), WEBHOOK_EVENTS, 401, "unauthorized")
    assert_problem(client.get(WEBHOOK_EVENTS, headers=site), WEBHOOK_EVENTS, 403, "forbidden")
    for query in ("status=lost", "limit=0", "cursor=garbage"):
        assert_problem(
            client.get(f"{WEBHOOK_EVENTS}?{query}", headers=admin),
            WEBHOOK_EVENTS,
            422,
            "validation_error",
        )

    unknown = f"{WEBHOOK_EVENTS}/evt_Unknown000001/reapply"
    assert_problem(client.post(unknown), REAPPLY, 401, "unauthorized")
    assert_problem(client.post(unknown, headers=site), REAPPLY, 403, "forbidden")
    assert_problem(client.post(unknown, headers=admin), REAPPLY, 404, "not_found")


def test_reconcile_error_responses_match_the_contract(
    client: Any, make_app: Any, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    window, admin = window_around_now(), admin_headers
    assert_problem(client.post(RECONCILE, json=window), RECONCILE, 401, "unauthorized")
    assert_problem(
        client.post(RECONCILE, json=window, headers=new_site.headers), RECONCILE, 403, "forbidden"
    )

    backwards = {"from": window["to"], "to": window["from"]}
    start = datetime(2025, 1, 1, tzinfo=UTC)
    too_long = {
        "from": start.isoformat(),
        "to": (start + timedelta(days=400, seconds=1)).isoformat(),
    }
    for body in (backwards, too_long):
        refused = client.post(RECONCILE, json=body, headers=admin)
        assert_problem(refused, RECONCILE, 422, "validation_error")
        assert refused.get_json()["field"] == "from"
    naive = {"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00"}
    refused = client.post(RECONCILE, json=naive, headers=admin)
    assert_problem(refused, RECONCILE, 422, "validation_error")
    assert set(refused.get_json()["errors"]) == {"from", "to"}

    json_headers = {**admin, "Content-Type": "application/json"}
    assert_problem(
        client.post(RECONCILE, data=b"{", headers=json_headers), RECONCILE, 400, "bad_request"
    )
    assert_problem(
        client.post(RECONCILE, data="from=yesterday", headers=admin),
        RECONCILE,
        415,
        "unsupported_media_type",
    )

    with socket_that_refuses() as dead_url:
        down = make_app(razorpay_api_base_url=dead_url).test_client()
        unavailable = down.post(RECONCILE, json=window, headers=admin)
    assert_problem(unavailable, RECONCILE, 503, "gateway_unavailable")


def test_real_payment_list_responses_match_the_contract(
    client: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    first = checkout.buy(new_site)
    second = checkout.buy(new_site, product={"sku": "data-201", "name": "Data 201"})
    theirs = checkout.buy(old_site, customer={"email": "other@example.com"})

    page = client.get(f"{PAYMENTS}?limit=1", headers=new_site.headers)
    assert_conforms(page, PAYMENTS, 200)
    cursor = page.get_json()["next_cursor"]
    assert cursor is not None
    last = client.get(f"{PAYMENTS}?limit=1&cursor={cursor}", headers=new_site.headers)
    assert_conforms(last, PAYMENTS, 200)
    assert last.get_json()["next_cursor"] is None
    seen = {p["id"] for p in page.get_json()["items"] + last.get_json()["items"]}
    assert seen == {first["payment_id"], second["payment_id"]}  # not the other site's

    by_order = client.get(f"{PAYMENTS}?order_id={first['id']}", headers=new_site.headers)
    assert_conforms(by_order, PAYMENTS, 200)
    (payment,) = by_order.get_json()["items"]
    assert (payment["id"], payment["status"]) == (first["payment_id"], "captured")
    query = "customer_email=OTHER@example.com&status=captured"
    by_admin = client.get(f"{PAYMENTS}?{query}", headers=admin_headers)
    assert_conforms(by_admin, PAYMENTS, 200)
    assert [p["id"] for p in by_admin.get_json()["items"]] == [theirs["payment_id"]]


def test_payment_list_error_responses_match_the_contract(
    client: Any, new_site: SiteCredentials
) -> None:
    assert_problem(client.get(PAYMENTS), PAYMENTS, 401, "unauthorized")
    for query in ("status=paid", "customer_email=nope", "limit=201", "cursor=garbage"):
        assert_problem(
            client.get(f"{PAYMENTS}?{query}", headers=new_site.headers),
            PAYMENTS,
            422,
            "validation_error",
        )


def test_real_refund_responses_match_the_contract(
    client: Any,
    checkout: Checkout,
    sandbox: Any,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    order = checkout.buy(new_site)
    keyed = {**new_site.headers, "Idempotency-Key": "contract-refund-1"}
    body = {
        "payment_id": order["payment_id"],
        "amount": 20000,
        "reason": "half",
        "speed": "optimum",
    }
    first = client.post(REFUNDS, json=body, headers=keyed)
    assert_conforms(first, REFUNDS, 201)
    assert first.get_json()["status"] == "processed"
    replay = client.post(REFUNDS, json=body, headers=keyed)
    assert_conforms(replay, REFUNDS, 200)
    assert replay.get_json()["id"] == first.get_json()["id"]

    configure_sandbox(sandbox, refund_outcome="pending")
    pending = checkout.refund(new_site.headers, order_id=order["id"], amount=10000)
    assert_conforms(pending, REFUNDS, 201)
    assert (pending.get_json()["status"], pending.get_json()["processed_at"]) == ("pending", None)
    configure_sandbox(sandbox, refund_outcome="processed")
    rest = checkout.refund(
        admin_headers, payment_id=order["payment_id"], order_id=order["id"], currency="INR"
    )
    assert_conforms(rest, REFUNDS, 201)
    assert (rest.get_json()["amount"], rest.get_json()["requested_by"]) == (19900, "admin:tester")
    assert rest.get_json()["revoked_access"] is True  # pending + processed cover the order
    refunded = client.get(f"/v1/orders/{order['id']}", headers=new_site.headers)
    assert_conforms(refunded, "/v1/orders/{order_id}", 200)
    assert (refunded.get_json()["status"], refunded.get_json()["amount_refunded"]) == (
        "refunded",
        49900,
    )
    payments = client.get(f"{PAYMENTS}?status=refunded", headers=new_site.headers)
    assert_conforms(payments, PAYMENTS, 200)
    assert [p["amount_refunded"] for p in payments.get_json()["items"]] == [49900]

    fetched = client.get(f"{REFUNDS}/{first.get_json()['id']}", headers=new_site.headers)
    assert_conforms(fetched, REFUND, 200)
    assert fetched.get_json() == first.get_json()
    page = client.get(f"{REFUNDS}?limit=2", headers=new_site.headers)
    assert_conforms(page, REFUNDS, 200)
    cursor = page.get_json()["next_cursor"]
    assert cursor is not None
    last = client.get(f"{REFUNDS}?limit=2&cursor={cursor}", headers=new_site.headers)
    assert_conforms(last, REFUNDS, 200)
    assert len(last.get_json()["items"]) == 1 and last.get_json()["next_cursor"] is None
    query = f"status=pending&payment_id={order['payment_id']}&order_id={order['id']}"
    filtered = client.get(f"{REFUNDS}?{query}", headers=admin_headers)
    assert_conforms(filtered, REFUNDS, 200)
    assert [r["id"] for r in filtered.get_json()["items"]] == [pending.get_json()["id"]]


def test_refund_error_responses_match_the_contract(
    client: Any,
    make_app: Any,
    checkout: Checkout,
    sandbox: Any,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    site = new_site.headers
    order = checkout.buy(new_site)
    payment_id = order["payment_id"]
    assert_problem(
        client.post(REFUNDS, json={"payment_id": payment_id}), REFUNDS, 401, "unauthorized"
    )
    invalid = client.post(REFUNDS, json={"amount": 99, "speed": "warp", "x": 1}, headers=site)
    assert_problem(invalid, REFUNDS, 422, "validation_error")
    assert set(invalid.get_json()["errors"]) == {"amount", "speed", "x"}
    unnamed = client.post(REFUNDS, json={"amount": 100}, headers=site)
    assert_problem(unnamed, REFUNDS, 422, "validation_error")
    assert set(unnamed.get_json()["errors"]) == {"payment_id"}
    bad_key = {**site, "Idempotency-Key": "has space"}
    assert_problem(
        client.post(REFUNDS, json={"payment_id": payment_id}, headers=bad_key),
        REFUNDS,
        422,
        "validation_error",
    )
    json_headers = {**site, "Content-Type": "application/json"}
    assert_problem(
        client.post(REFUNDS, data=b"{", headers=json_headers), REFUNDS, 400, "bad_request"
    )
    assert_problem(
        client.post(REFUNDS, data="payment_id=x", headers=site),
        REFUNDS,
        415,
        "unsupported_media_type",
    )

    theirs = checkout.buy(old_site, customer={"email": "other@example.com"})
    unpaid = checkout.create_order(new_site, allow_owned=True)
    for missing in (
        {"payment_id": UNKNOWN_PAYMENT},
        {"payment_id": theirs["payment_id"]},  # another site's
        {"order_id": unpaid["id"]},  # no captured payment
    ):
        assert_problem(client.post(REFUNDS, json=missing, headers=site), REFUNDS, 404, "not_found")

    other_currency = checkout.refund(site, payment_id=payment_id, currency="USD")
    assert_problem(other_currency, REFUNDS, 409, "not_refundable")
    assert other_currency.get_json()["field"] == "currency"
    other_order = checkout.refund(site, payment_id=payment_id, order_id=unpaid["id"])
    assert_problem(other_order, REFUNDS, 404, "not_found")
    assert other_order.get_json()["field"] == "order_id"

    too_much = checkout.refund(site, payment_id=payment_id, amount=49901)
    assert_problem(too_much, REFUNDS, 409, "not_refundable")
    assert too_much.get_json()["refundable"] == 49900
    keyed = {**site, "Idempotency-Key": "contract-refund-2"}
    assert checkout.refund(keyed, payment_id=payment_id, amount=49850).status_code == 201
    reused = checkout.refund(keyed, payment_id=payment_id, amount=100)
    assert_problem(reused, REFUNDS, 422, "idempotency_key_reused")
    assert reused.get_json()["field"] == "Idempotency-Key"
    crumbs = checkout.refund(site, payment_id=payment_id)  # 50 left, under the minimum
    assert_problem(crumbs, REFUNDS, 409, "not_refundable")
    assert crumbs.get_json()["refundable"] == 50
    assert checkout.refund(admin_headers, order_id=theirs["id"]).status_code == 201
    spent = checkout.refund(admin_headers, order_id=theirs["id"])
    assert_problem(spent, REFUNDS, 409, "not_refundable")
    assert "refundable" not in spent.get_json()

    configure_sandbox(sandbox, auto_capture=False)
    authorized = checkout.create_order(new_site, product={"sku": "data-201", "name": "Data 201"})
    result = checkout.pay(authorized)
    webhooks.deliver(webhooks.event(authorized["razorpay_order_id"], "payment.authorized"))
    uncaptured = checkout.refund(site, payment_id=result["razorpay_payment_id"])
    assert_problem(uncaptured, REFUNDS, 409, "not_refundable")
    assert "refundable" not in uncaptured.get_json()

    configure_sandbox(sandbox, auto_capture=True, merchant_balance=1000)
    fresh = checkout.buy(new_site, product={"sku": "ml-301", "name": "ML 301"})
    refused = checkout.refund(site, payment_id=fresh["payment_id"])
    assert_problem(refused, REFUNDS, 502, "gateway_error")
    configure_sandbox(sandbox, merchant_balance=10_000_000_00)

    lost_key = {**site, "Idempotency-Key": "contract-refund-lost"}
    with socket_that_refuses() as dead_url:
        down = make_app(razorpay_api_base_url=dead_url).test_client()
        lost = down.post(REFUNDS, json={"payment_id": fresh["payment_id"]}, headers=lost_key)
    assert_problem(lost, REFUNDS, 503, "gateway_unavailable")
    reserved = client.get(f"{REFUNDS}?payment_id={fresh['payment_id']}", headers=site)
    assert_conforms(reserved, REFUNDS, 200)
    assert [r["status"] for r in reserved.get_json()["items"]] == ["requested"]
    retried = checkout.refund(lost_key, payment_id=fresh["payment_id"])
    assert_conforms(retried, REFUNDS, 200)
    assert retried.get_json()["status"] == "processed"
    once = client.get(f"{REFUNDS}?payment_id={fresh['payment_id']}", headers=site)
    assert [r["id"] for r in once.get_json()["items"]] == [retried.get_json()["id"]]

    assert_problem(client.get(REFUNDS), REFUNDS, 401, "unauthorized")
    for query in ("status=lost", "limit=0", "cursor=garbage"):
        assert_problem(
            client.get(f"{REFUNDS}?{query}", headers=site), REFUNDS, 422, "validation_error"
        )
    their_refund = client.get(f"{REFUNDS}?order_id={theirs['id']}", headers=admin_headers)
    (their_refund_id,) = [r["id"] for r in their_refund.get_json()["items"]]
    for refund_id in ("rfd_Missing0000000", their_refund_id):
        assert_problem(client.get(f"{REFUNDS}/{refund_id}"), REFUND, 401, "unauthorized")
        assert_problem(client.get(f"{REFUNDS}/{refund_id}", headers=site), REFUND, 404, "not_found")


def test_real_enrollment_grant_and_revoke_responses_match_the_contract(
    client: Any, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    body = {"customer_email": "Guest@Example.com", "sku": "python-101", "reason": "speaker"}
    granted = client.post(ENROLLMENTS, json=body, headers=admin_headers)
    assert_conforms(granted, ENROLLMENTS, 201)
    enrollment = granted.get_json()
    assert (enrollment["customer_email"], enrollment["source"]) == ("guest@example.com", "manual")
    assert (enrollment["order_id"], enrollment["granted_by"]) == (None, "admin:tester")

    seen = client.get(f"{ENROLLMENTS}?customer_email=guest@example.com", headers=new_site.headers)
    assert_conforms(seen, ENROLLMENTS, 200)
    admin_only = {"granted_by", "grant_reason", "revoked_by", "revoke_reason"}
    assert seen.get_json()["items"] == [
        {k: v for k, v in enrollment.items() if k not in admin_only}
    ]
    by_admin = client.get(f"{ENROLLMENTS}?customer_email=guest@example.com", headers=admin_headers)
    assert by_admin.get_json()["items"] == [enrollment]
    revoked = client.post(
        f"{ENROLLMENTS}/{enrollment['id']}/revoke",
        json={"reason": "talk cancelled"},
        headers=admin_headers,
    )
    assert_conforms(revoked, REVOKE, 200)
    assert (revoked.get_json()["status"], revoked.get_json()["revoke_reason"]) == (
        "revoked",
        "talk cancelled",
    )
    # Once revoked, the same grant is possible again.
    assert_conforms(client.post(ENROLLMENTS, json=body, headers=admin_headers), ENROLLMENTS, 201)


def test_enrollment_grant_and_revoke_error_responses_match_the_contract(
    client: Any, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    site, admin = new_site.headers, admin_headers
    body = {"customer_email": "guest@example.com", "sku": "python-101", "reason": "speaker"}
    assert_problem(client.post(ENROLLMENTS, json=body), ENROLLMENTS, 401, "unauthorized")
    for sent in ({"json": body}, {"json": {}}, {"data": "sku=x"}):  # the role comes first
        assert_problem(
            client.post(ENROLLMENTS, headers=site, **sent), ENROLLMENTS, 403, "forbidden"
        )
    invalid = {"customer_email": "nope", "sku": "Not A Sku", "reason": "", "x": 1}
    rejected = client.post(ENROLLMENTS, json=invalid, headers=admin)
    assert_problem(rejected, ENROLLMENTS, 422, "validation_error")
    assert set(rejected.get_json()["errors"]) == {"customer_email", "sku", "reason", "x"}
    json_headers = {**admin, "Content-Type": "application/json"}
    assert_problem(
        client.post(ENROLLMENTS, data=b"{", headers=json_headers), ENROLLMENTS, 400, "bad_request"
    )
    assert_problem(
        client.post(ENROLLMENTS, data="sku=x", headers=admin),
        ENROLLMENTS,
        415,
        "unsupported_media_type",
    )
    granted = client.post(ENROLLMENTS, json=body, headers=admin).get_json()
    assert_problem(client.post(ENROLLMENTS, json=body, headers=admin), ENROLLMENTS, 409, "conflict")

    revoke = f"{ENROLLMENTS}/{granted['id']}/revoke"
    reason = {"reason": "talk cancelled"}
    assert_problem(client.post(revoke, json=reason), REVOKE, 401, "unauthorized")
    assert_problem(client.post(revoke, json=reason, headers=site), REVOKE, 403, "forbidden")
    no_reason = client.post(revoke, json={"reason": ""}, headers=admin)
    assert_problem(no_reason, REVOKE, 422, "validation_error")
    assert set(no_reason.get_json()["errors"]) == {"reason"}
    assert_problem(client.post(revoke, data=b"{", headers=json_headers), REVOKE, 400, "bad_request")
    assert_problem(
        client.post(revoke, data="reason=x", headers=admin), REVOKE, 415, "unsupported_media_type"
    )
    assert_problem(
        client.post(f"{ENROLLMENTS}/enr_Missing0000000/revoke", json=reason, headers=admin),
        REVOKE,
        404,
        "not_found",
    )
    assert_conforms(client.post(revoke, json=reason, headers=admin), REVOKE, 200)
    assert_problem(client.post(revoke, json=reason, headers=admin), REVOKE, 409, "conflict")


def test_real_money_trail_responses_match_the_contract(
    client: Any,
    checkout: Checkout,
    sandbox: Any,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    old_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    order = checkout.create_order(new_site)
    checkout.pay(order, outcome="failure", error_reason="card_declined")
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.failed"))
    result = checkout.pay(order)
    assert checkout.verify(result).status_code == 200
    other = checkout.buy(old_site, product={"sku": "data-201", "name": "Data 201"})

    configure_sandbox(sandbox, refund_outcome="pending")
    doomed = checkout.refund(old_site.headers, order_id=other["id"]).get_json()  # revokes access
    settle_refund_at_razorpay(sandbox, doomed["razorpay_refund_id"], "failed")
    (failed,) = [
        e
        for e in webhooks.events_for(doomed["razorpay_refund_id"])
        if e["event"] == "refund.failed"
    ]
    webhooks.deliver(failed)
    checkout.refund(new_site.headers, payment_id=result["razorpay_payment_id"], amount=10000)
    configure_sandbox(sandbox, refund_outcome="processed")
    checkout.refund(admin_headers, order_id=order["id"], amount=20000, reason="goodwill")
    gift = {"customer_email": "asha@example.com", "sku": "ml-301", "reason": "beta tester"}
    assert client.post(ENROLLMENTS, json=gift, headers=admin_headers).status_code == 201

    # An admin reads any customer's trail, whichever case the email is written in.
    by_admin = client.get("/v1/customers/ASHA@Example.COM/transactions", headers=admin_headers)
    assert_conforms(by_admin, TRAIL, 200)
    answer = by_admin.get_json()
    assert answer["customer_email"] == "asha@example.com" and answer["is_truncated"] is False
    kinds = {entry["kind"] for entry in answer["entries"]}
    assert kinds == set(lookup("/components/schemas/MoneyTrailKind")["enum"])
    assert answer["totals"] == [
        {"currency": "INR", "paid": 99800, "refunded": 20000, "refund_pending": 10000, "net": 69800}
    ]
    # A site that sold to her reads the same trail with fewer details in each entry.
    trail = client.get("/v1/customers/asha@example.com/transactions", headers=old_site.headers)
    assert_conforms(trail, TRAIL, 200)
    as_a_site = trail.get_json()
    assert as_a_site["totals"] == answer["totals"]
    assert [{**e, "details": None} for e in as_a_site["entries"]] == [
        {**e, "details": None} for e in answer["entries"]
    ]

    stranger = client.get("/v1/customers/nobody@example.com/transactions", headers=new_site.headers)
    assert_problem(stranger, TRAIL, 404, "not_found")
    nobody = client.get("/v1/customers/nobody@example.com/transactions", headers=admin_headers)
    assert_conforms(nobody, TRAIL, 200)
    assert nobody.get_json() == {
        "customer_email": "nobody@example.com",
        "entries": [],
        "totals": [],
        "is_truncated": False,
    }


def test_money_trail_error_responses_match_the_contract(
    client: Any, new_site: SiteCredentials
) -> None:
    assert_problem(
        client.get("/v1/customers/a@example.com/transactions"), TRAIL, 401, "unauthorized"
    )
    malformed = client.get("/v1/customers/not-an-email/transactions", headers=new_site.headers)
    assert_problem(malformed, TRAIL, 422, "validation_error")
    assert set(malformed.get_json()["errors"]) == {"email"}


def test_real_notification_responses_match_the_contract(
    app: Flask,
    client: Any,
    checkout: Checkout,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    dsn: str,
) -> None:
    hooked = register_site(
        app, "hooked-site", "http://hooked.localhost", "https://hooked.example/payments/callback"
    )
    checkout.buy(new_site)  # new_site has no callback URL: only hooked-site hears of it
    order = checkout.buy(hooked, product={"sku": "data-201", "name": "Data 201"})

    listed = client.get(NOTIFICATIONS, headers=admin_headers)
    assert_conforms(listed, NOTIFICATIONS, 200)
    items = listed.get_json()["items"]
    assert [(n["site_id"], n["event_type"]) for n in items] == [
        ("hooked-site", "enrollment.granted"),
        ("hooked-site", "order.paid"),
        ("hooked-site", "enrollment.granted"),
    ]
    assert {(n["status"], n["attempts"]) for n in items} == {("pending", 0)}
    for notification in items:
        body = json.loads(notification["body"])
        assert not schema_errors(body, SITE_NOTIFICATION), body
        assert (body["id"], body["type"]) == (notification["id"], notification["event_type"])
        created = (body["created_at"], notification["created_at"])
        assert len({datetime.fromisoformat(at) for at in created}) == 1
    paid = json.loads(items[1]["body"])["data"]
    assert (paid["order"]["id"], paid["payment"]["id"]) == (order["id"], order["payment_id"])

    page = client.get(f"{NOTIFICATIONS}?limit=2", headers=admin_headers)
    assert_conforms(page, NOTIFICATIONS, 200)
    cursor = page.get_json()["next_cursor"]
    assert cursor is not None
    last = client.get(f"{NOTIFICATIONS}?limit=2&cursor={cursor}", headers=admin_headers)
    assert_conforms(last, NOTIFICATIONS, 200)
    assert [n["id"] for n in last.get_json()["items"]] == [items[2]["id"]]
    assert last.get_json()["next_cursor"] is None

    for query, expected in (
        ("event_type=enrollment.granted", [items[0]["id"], items[2]["id"]]),
        ("status=pending&event_type=order.paid&site_id=hooked-site", [items[1]["id"]]),
        ("site_id=new-site", []),
        ("status=delivered", []),
    ):
        filtered = client.get(f"{NOTIFICATIONS}?{query}", headers=admin_headers)
        assert_conforms(filtered, NOTIFICATIONS, 200)
        assert [n["id"] for n in filtered.get_json()["items"]] == expected, query

    with psycopg.connect(dsn) as conn:  # the site stayed down for 24 hours
        conn.execute(
            "UPDATE notifications SET status = 'dead', attempts = 38, last_status_code = 503,"
            " last_error = 'answered HTTP 503' WHERE id = %s",
            (items[1]["id"],),
        )
    dead = client.get(f"{NOTIFICATIONS}?status=dead", headers=admin_headers)
    assert_conforms(dead, NOTIFICATIONS, 200)
    assert [n["id"] for n in dead.get_json()["items"]] == [items[1]["id"]]
    redeliver = f"{NOTIFICATIONS}/{items[1]['id']}/redeliver"
    redelivered = client.post(redeliver, headers=admin_headers)
    assert_conforms(redelivered, REDELIVER, 200)
    again = redelivered.get_json()
    assert (again["status"], again["attempts"], again["last_status_code"]) == ("pending", 38, 503)
    assert again["body"] == items[1]["body"]


def test_notification_error_responses_match_the_contract(
    client: Any, new_site: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    site, admin = new_site.headers, admin_headers
    # The token is checked first, then its role, then the query.
    assert_problem(client.get(NOTIFICATIONS), NOTIFICATIONS, 401, "unauthorized")
    assert_problem(client.get(f"{NOTIFICATIONS}?status=lost"), NOTIFICATIONS, 401, "unauthorized")
    assert_problem(client.get(NOTIFICATIONS, headers=site), NOTIFICATIONS, 403, "forbidden")
    assert_problem(
        client.get(f"{NOTIFICATIONS}?status=lost", headers=site), NOTIFICATIONS, 403, "forbidden"
    )
    for query in (
        "status=lost",
        "status=failed",
        "event_type=order.created",
        "limit=0",
        "limit=201",
        "cursor=garbage",
    ):
        assert_problem(
            client.get(f"{NOTIFICATIONS}?{query}", headers=admin),
            NOTIFICATIONS,
            422,
            "validation_error",
        )

    unknown = f"{NOTIFICATIONS}/evt_Unknown0000001/redeliver"
    assert_problem(client.post(unknown), REDELIVER, 401, "unauthorized")
    assert_problem(client.post(unknown, headers=site), REDELIVER, 403, "forbidden")
    assert_problem(client.post(unknown, headers=admin), REDELIVER, 404, "not_found")


def test_real_site_callbacks_match_the_webhook_contract(
    app: Flask,
    client: Any,
    checkout: Checkout,
    sandbox: Any,
    webhooks: RazorpayWebhooks,
    admin_headers: dict[str, str],
    callback_url: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    url, received = callback_url
    site = register_site(app, "hooked-site", "http://hooked.localhost", url)
    order = checkout.buy(site)  # order.paid, enrollment.granted
    unpaid = checkout.create_order(site, product={"sku": "data-201", "name": "Data 201"})
    checkout.pay(unpaid, outcome="failure", error_reason="card_declined")
    webhooks.deliver(webhooks.event(unpaid["razorpay_order_id"], "payment.failed"))
    configure_sandbox(sandbox, refund_outcome="pending")
    doomed = checkout.refund(site.headers, payment_id=order["payment_id"], amount=10000)
    settle_refund_at_razorpay(sandbox, doomed.get_json()["razorpay_refund_id"], "failed")
    (failed,) = [
        e
        for e in webhooks.events_for(doomed.get_json()["razorpay_refund_id"])
        if e["event"] == "refund.failed"
    ]
    webhooks.deliver(failed)  # refund.failed
    configure_sandbox(sandbox, refund_outcome="processed")
    rest = checkout.refund(site.headers, order_id=order["id"])  # refund.processed, revoked
    assert rest.get_json()["revoked_access"] is True

    deliver_every_callback(app)

    bodies = {}
    for headers, raw in received:
        body = json.loads(raw)
        assert not schema_errors(body, CALLBACK_BODY), body
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Payments-Event-Id"] == body["id"]
        assert callback_signature_holds(site.callback_secret, headers, raw)
        bodies[body["id"]] = raw
    types = [json.loads(raw)["type"] for raw in bodies.values()]
    assert len(types) == len(received)  # each delivered once
    assert set(types) == set(lookup("/components/schemas/NotificationEventType")["enum"])
    about_order = [t for t in types if t.startswith(("order.", "refund."))]
    assert about_order == ["order.paid", "refund.failed", "refund.processed"]

    listed = client.get(NOTIFICATIONS, headers=admin_headers)
    assert_conforms(listed, NOTIFICATIONS, 200)
    items = listed.get_json()["items"]
    assert {(n["status"], n["last_status_code"]) for n in items} == {("delivered", 204)}
    assert {n["id"]: n["body"].encode() for n in items} == bodies  # byte for byte
