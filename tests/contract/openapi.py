"""openapi.yaml as the tests read it: the document, JSON Pointers into it, its schemas as
validators, and assert_conforms/assert_problem, which check a real response against what
the document declares for it; plus how the contract tests talk like Razorpay and an operator."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import yaml
from flask import Flask
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from payments_service.api.docs import OPENAPI_PATH
from payments_service.settings import SANDBOX_WEBHOOK_SECRET

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
