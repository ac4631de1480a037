"""openapi.yaml is the contract: a valid OpenAPI 3.1 document, listing exactly the routes the
app serves, whose schemas describe the requests the app accepts and the responses it sends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import yaml
from flask import Flask
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from payments_service.api.docs import OPENAPI_PATH
from payments_service.signatures import checkout_signature
from tests.conftest import Checkout, SiteCredentials, order_body
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
        if rule.endpoint == "static":
            continue
        methods = set(rule.methods or ()) - {"HEAD"}
        if getattr(rule, "provide_automatic_options", True):
            methods.discard("OPTIONS")
        path = re.sub(r"<(?:[^<>:]+:)?([^<>:]+)>", r"{\1}", rule.rule)
        routes.setdefault(path, set()).update(methods)
    return routes


def documented_examples() -> Iterator[tuple[str, Any]]:
    """(schema pointer, example) for every example written next to a request/response schema."""
    for path, item in DOCUMENT["paths"].items():
        for method in HTTP_METHODS & item.keys():
            operation = f"/paths/{escape(path)}/{method}"
            holders = [f"{operation}/requestBody"] if "requestBody" in item[method] else []
            holders += [f"{operation}/responses/{status}" for status in item[method]["responses"]]
            for holder in holders:
                pointer, described = follow(holder)
                for media_type, media in described.get("content", {}).items():
                    media_pointer = f"{pointer}/content/{escape(media_type)}"
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
    ],
)
def test_the_create_order_schema_accepts_what_the_api_accepts(
    client: Any, new_site: SiteCredentials, body: dict[str, Any], accepted: bool
) -> None:
    response = client.post("/v1/orders", json=body, headers=new_site.headers)

    errors = schema_errors(body, ORDER_REQUEST)
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
    again = checkout.verify(checkout.pay(checkout.create_order(new_site)))
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
    for query in ("customer_email=ASHA@example.com", "sku=python-101&status=revoked"):
        found = client.get(f"/v1/enrollments?{query}", headers=new_site.headers)
        assert_conforms(found, "/v1/enrollments", 200)
    by_admin = client.get("/v1/enrollments?sku=python-101", headers=admin_headers)
    assert_conforms(by_admin, "/v1/enrollments", 200)
    assert len(by_admin.get_json()["items"]) == 1

    assert_conforms(client.get("/healthz"), "/healthz", 200)
    assert_conforms(client.get("/readyz"), "/readyz", 200)
    document = client.get("/openapi.yaml")
    assert_conforms(document, "/openapi.yaml", 200)
    assert document.data == OPENAPI_PATH.read_bytes()
    with psycopg.connect(dsn) as conn:
        conn.execute("DELETE FROM schema_migrations")
    assert_conforms(client.get("/readyz"), "/readyz", 503)


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
    assert_problem(
        client.post(orders, json=order_body(), headers=admin_headers), orders, 403, "forbidden"
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
    assert_problem(checkout.verify(forged), verify, 400, "invalid_signature")

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
    assert_problem(
        client.get(enrollments, headers=new_site.headers), enrollments, 422, "validation_error"
    )
    assert_problem(
        client.get(f"{enrollments}?sku=Not A Sku", headers=new_site.headers),
        enrollments,
        422,
        "validation_error",
    )
    assert_problem(client.get(f"{enrollments}?sku=python-101"), enrollments, 401, "unauthorized")
