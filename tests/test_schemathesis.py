"""Property-based contract run: Schemathesis generates requests for every operation in
openapi.yaml and sends them over HTTP to the app served on loopback (``live_api``).

Every response must be no 5xx and have a documented status code, media type and headers
and a body that matches the schema documented for that status. Requests are generated
both valid (positive) and invalid (negative: fuzzed bodies, parameters and headers) in the
examples, coverage and fuzzing phases, with a fixed seed, derandomized, and at most
``MAX_EXAMPLES`` fuzzed examples per operation.

Each operation is its own test, with its own fresh database (``live_api``), seeded first
(paid and unpaid orders, a refund, a manual grant, a stored Razorpay event, pending site
notifications) so that lists return real items and path parameters name real records as
well as generated strings.

Authentication follows each operation's ``security``: the first scheme listed that we hold
a token for, so an operation open to ``siteJwt`` (whether or not also to ``adminJwt``)
gets the site token and an admin-only one the admin token; a case in which negative
generation removed the credentials is sent without them (and must get the documented
401). Razorpay's webhook is signed with the webhook secret over the exact bytes sent, so
fuzzed events get past the signature into event handling; a case whose signature header
negative generation left out is sent unsigned and must get the documented 400
``invalid_signature``.

Why a module-level schema and not ``schemathesis.pytest.from_fixture``: with pytest 9.2,
schemathesis 4.32.5's lazy (fixture) loader fails on ``Function._nodeid``, which pytest
removed. The per-test tokens and ids therefore reach the schema's auth provider and hooks
through ``RUN``, which the ``contract_run`` fixture fills for the test and empties after.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import strategies as st
from schemathesis import AuthContext, Case, HookContext
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from payments_service.api.docs import OPENAPI_PATH
from tests.conftest import Checkout, RazorpayWebhooks, SiteCredentials, register_site

SEED = 20240531
MAX_EXAMPLES = 30  # per operation in the fuzzing phase, positive and negative together
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
WEBHOOK_OPERATION = "receiveRazorpayWebhook"
SIGNATURE_HEADER = "X-Razorpay-Signature"
# Nothing listens on loopback port 9: notifications to this site stay pending, never sent.
UNREACHABLE_CALLBACK = "http://127.0.0.1:9/payments/callback"

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",  # positive and negative
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",  # no .hypothesis directory, nothing replayed between runs
        },
        "phases": {"stateful": {"enabled": False}},
        "request-timeout": 20,
    }
)
schema = schemathesis.openapi.from_path(OPENAPI_PATH, config=CONFIG)


@dataclass
class ContractRun:
    """What this test's generated requests use: tokens per security scheme, real ids."""

    tokens: dict[str, str] = field(default_factory=dict)
    known: dict[str, list[str]] = field(default_factory=dict)
    webhook_secret: str = ""


RUN = ContractRun()


def operation_id(case: Case) -> str:
    return str(case.operation.definition.raw.get("operationId", ""))


@schema.auth(refresh_interval=None)
class BearerBySecurity:
    """The token of the first security scheme of the operation that we hold one for."""

    def get(self, case: Case, context: AuthContext) -> str | None:
        for requirement in context.operation.definition.raw.get("security", []):
            for scheme in requirement:
                if scheme in RUN.tokens:
                    return RUN.tokens[scheme]
        return None  # no bearer scheme (verify, webhook, health): no credentials

    def set(self, case: Case, data: str, context: AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.hook
def flatmap_path_parameters(context: HookContext, path_parameters: dict[str, Any]) -> Any:
    """As often as not, name a record that exists instead of the generated value."""
    real = [
        {**path_parameters, name: value}
        for name in path_parameters or {}
        for value in RUN.known.get(name, [])
    ]
    if not real:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), st.sampled_from(real))


def seed_records(
    app: Flask,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    site: SiteCredentials,
    admin_headers: dict[str, str],
) -> dict[str, list[str]]:
    """Records of every kind, by path parameter name, so lists have items to return."""
    register_site(app, "callback-site", "http://cb.localhost:8023", UNREACHABLE_CALLBACK)
    paid = checkout.buy(site)
    unpaid = checkout.create_order(site, customer={"email": "ravi@example.com"})
    refund = checkout.refund(site.headers, payment_id=paid["payment_id"], amount=10000)
    assert refund.status_code == 201, refund.get_json()
    grant = checkout.client.post(
        "/v1/enrollments",
        json={"customer_email": "guest@example.com", "sku": "go-1", "reason": "gift"},
        headers=admin_headers,
    )
    assert grant.status_code == 201, grant.get_json()
    event = webhooks.event(paid["checkout"]["order_id"], "payment.captured")
    delivered = webhooks.deliver(event)
    assert delivered.status_code == 200, delivered.get_json()

    notifications = checkout.client.get("/v1/notifications", headers=admin_headers)
    enrollments = [
        checkout.client.get(f"/v1/enrollments?sku={sku}", headers=admin_headers).get_json()
        for sku in ("python-101", "go-1")
    ]
    return {
        "order_id": [paid["id"], unpaid["id"]],
        "refund_id": [refund.get_json()["id"]],
        "enrollment_id": [item["id"] for page in enrollments for item in page["items"]],
        "event_id": [delivered.get_json()["id"]],
        "notification_id": [item["id"] for item in notifications.get_json()["items"]],
        "email": ["asha@example.com", "guest@example.com"],
    }


@pytest.fixture
def contract_run(
    app: Flask,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> Iterator[ContractRun]:
    RUN.known = seed_records(app, checkout, webhooks, new_site, admin_headers)
    RUN.tokens = {
        "siteJwt": new_site.token,
        "adminJwt": admin_headers["Authorization"].removeprefix("Bearer "),
    }
    RUN.webhook_secret = app.extensions["payments_service"].settings.razorpay_webhook_secrets[0]
    yield RUN
    RUN.tokens, RUN.known, RUN.webhook_secret = {}, {}, ""


def signed_webhook(case: Case, secret: str) -> dict[str, Any]:
    """The body as the exact bytes sent, with Razorpay's signature over them."""
    if SIGNATURE_HEADER not in (case.headers or {}):
        return {}  # negative generation left the signature out: sent as generated
    raw = json.dumps(case.body).encode()
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"data": raw, "headers": {SIGNATURE_HEADER: signature}}


@schema.parametrize()
def test_operation_honours_the_contract(
    case: Case, live_api: str, contract_run: ContractRun
) -> None:
    kwargs: dict[str, Any] = {}
    if operation_id(case) == WEBHOOK_OPERATION:
        kwargs = signed_webhook(case, contract_run.webhook_secret)
    case.call_and_validate(base_url=live_api, checks=CHECKS, **kwargs)
