"""Property-based contract run: Schemathesis generates requests for every operation in
openapi.yaml and sends them over HTTP to the app served on loopback (``live_api``), with
every check it has (contract_fuzzing.CHECKS).

Every response must be no 5xx and have a documented status code, media type and headers
and a body that matches the schema documented for that status; every request valid by the
document must be accepted (2xx, or a 401, 403, 404 or 409 about who asks or what exists)
and every invalid one refused with a 4xx; credentials must be enforced. Requests are
generated both valid (positive) and invalid (negative: fuzzed bodies, parameters and
headers) in the examples, coverage and fuzzing phases, with a fixed seed, derandomized, and
at most ``MAX_EXAMPLES`` fuzzed examples per operation; then, in one bounded stateful run,
as sequences that feed one answer's ids into the next request.

Each operation is its own test, with its own fresh database (``live_api``), seeded first
(paid and unpaid orders, a refund, a manual grant, a stored Razorpay event, pending site
notifications) so that lists return real items; in the fuzzing phase, path parameters,
query filters and body fields name those records as often as not (``payment_id``,
``customer_email``, ...), so requests get past "not found" as well as to it. The hooks
doing so (contract_fuzzing) never make a case valid or invalid by the document that was
generated the other way.

Authentication follows each operation's ``security``: Schemathesis applies the first
scheme listed that it has credentials for, so an operation open to ``siteJwt`` (whether or
not also to ``adminJwt``) gets the site token and an admin-only one the admin token. Part
of the cases (examples and coverage phases) are built when tests are collected, before any
site or token exists, so the configuration holds stand-ins and each request swaps in this
test's real token for its stand-in. A case whose credentials negative generation removed
or mangled is sent as generated and must get the documented 401.

Razorpay's webhook is sent as the exact bytes of its body, signed over them with the
webhook secret, so fuzzed events get past the signature into event handling (stored,
applied, unmatched or ``malformed_webhook``); a case whose signature negative generation
removed or mangled must get the documented 403 ``invalid_signature``.

Why a module-level schema and not ``schemathesis.pytest.from_fixture``: schemathesis
4.32.5's fixture-based (lazy) loader sets ``Function._nodeid``, which pytest 9.2 no longer
has, and fails with ``AttributeError``. The values naming this test's records reach the
fuzzing phase's hooks through ``KNOWN_VALUES``, which the ``credentials`` fixture fills for
the test and empties after.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.core import NotSet
from schemathesis.engine import Status, events, from_schema

from payments_service.api.docs import OPENAPI_PATH
from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials, register_site
from tests.contract_fuzzing import (
    CHECKS,
    IDEMPOTENCY_HEADER,
    KNOWN_VALUES,
    idempotency_key_of_its_body,
    register_hooks,
)

SEED = 20240531
MAX_EXAMPLES = 30  # per operation in the fuzzing phase, positive and negative together
# The stateful run: scenarios of at most STATEFUL_STEPS calls each.
STATEFUL_SCENARIOS = 40
STATEFUL_STEPS = 8
SIGNATURE_HEADER = "X-Razorpay-Signature"
# Nothing listens on loopback port 9: notifications to this site stay pending, never sent.
UNREACHABLE_CALLBACK = "http://127.0.0.1:9/payments/callback"
# Cases are partly built when tests are collected (examples and coverage phases), before any
# fixture has registered a site or minted a token: Schemathesis authenticates them with these
# stand-ins, and each request swaps in the real credential as it is sent.
SITE_TOKEN = "placeholder-site-token"
ADMIN_TOKEN = "placeholder-admin-token"
WEBHOOK_SIGNATURE = "placeholder-webhook-signature"

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",  # positive and negative
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",  # no example database: nothing replayed between runs
        },
        "phases": {"stateful": {"enabled": False}},  # test_sequences_… runs it on its own
        # Per operation, the first scheme of its `security` that has credentials here.
        "auth": {
            "openapi": {
                "siteJwt": {"bearer": SITE_TOKEN},
                "adminJwt": {"bearer": ADMIN_TOKEN},
                "razorpayWebhookSignature": {"api_key": WEBHOOK_SIGNATURE},
            }
        },
        "request-timeout": 20,
    }
)
schema = schemathesis.openapi.from_path(OPENAPI_PATH, config=CONFIG)
register_hooks(schema)


@dataclass(frozen=True)
class Credentials:
    site_token: str
    admin_token: str
    webhook_secret: str


def seed_records(
    app: Flask,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    site: SiteCredentials,
    admin_headers: dict[str, str],
) -> dict[str, list[str]]:
    """Records of every kind, so lists have items; values naming them, by field name."""
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

    plan = checkout.client.post(
        "/v1/plans",
        json={"sku": "all-courses", "name": "All courses", "period": "monthly", "amount": 29900},
        headers=admin_headers,
    )
    assert plan.status_code == 201, plan.get_json()
    subscription = checkout.client.post(
        "/v1/subscriptions",
        json={
            "plan_id": plan.get_json()["id"],
            "customer": {"email": "asha@example.com"},
            "total_count": 6,
        },
        headers=site.headers,
    )
    assert subscription.status_code == 201, subscription.get_json()
    sub = subscription.get_json()

    notifications = checkout.client.get("/v1/notifications", headers=admin_headers)
    enrollments = [
        checkout.client.get(f"/v1/enrollments?sku={sku}", headers=admin_headers).get_json()
        for sku in ("python-101", "go-1")
    ]
    return {
        "order_id": [paid["id"], unpaid["id"]],
        "payment_id": [paid["payment_id"]],
        "razorpay_payment_id": [paid["payment_id"]],
        "razorpay_order_id": [paid["checkout"]["order_id"], unpaid["checkout"]["order_id"]],
        "refund_id": [refund.get_json()["id"]],
        "enrollment_id": [item["id"] for page in enrollments for item in page["items"]],
        "event_id": [delivered.get_json()["id"]],
        "notification_id": [item["id"] for item in notifications.get_json()["items"]],
        "email": ["asha@example.com", "guest@example.com"],
        "customer_email": ["asha@example.com", "guest@example.com"],
        "site_id": [site.site_id, "callback-site"],
        "sku": ["python-101", "go-1", "all-courses"],
        "plan_id": [plan.get_json()["id"]],
        "subscription_id": [sub["id"], sub["razorpay_subscription_id"]],
        "razorpay_subscription_id": [sub["razorpay_subscription_id"]],
    }


@pytest.fixture
def credentials(
    app: Flask,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> Iterator[Credentials]:
    """Seed this test's database; the real credentials to swap in for the stand-ins."""
    KNOWN_VALUES.update(seed_records(app, checkout, webhooks, new_site, admin_headers))
    secret = app.extensions["payments_service"].settings.razorpay_webhook_secrets[0]
    yield Credentials(
        site_token=new_site.token,
        admin_token=admin_headers["Authorization"].removeprefix("Bearer "),
        webhook_secret=secret,
    )
    KNOWN_VALUES.clear()


def body_bytes(case: Case) -> bytes:
    """The body exactly as it is to be sent (JSON as ``json.dumps`` writes it)."""
    payload = case.as_transport_kwargs()
    if "json" in payload:
        return json.dumps(payload["json"]).encode()
    data = payload.get("data") or b""
    return data.encode() if isinstance(data, str) else bytes(data)


def send_kwargs(case: Case, credentials: Credentials) -> dict[str, Any]:
    """What to send besides the case: the real credential in place of its stand-in, if any.

    A case whose credentials negative generation removed or mangled is sent as generated.
    Razorpay's webhook is sent as the exact bytes of its body (empty if it has none), signed.
    An Idempotency-Key is sent as its body's own (idempotency_key_of_its_body). The case
    itself is left as it is (its stand-ins stay for any later run).
    """
    generated = case.headers or {}
    key = idempotency_key_of_its_body(case)
    headers: dict[str, str] = {} if key is None else {IDEMPOTENCY_HEADER: key}
    bearer = {
        f"Bearer {SITE_TOKEN}": credentials.site_token,
        f"Bearer {ADMIN_TOKEN}": credentials.admin_token,
    }.get(generated.get("Authorization", ""))
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    if generated.get(SIGNATURE_HEADER) != WEBHOOK_SIGNATURE:
        return {"headers": headers}
    raw = body_bytes(case)
    secret = credentials.webhook_secret.encode()
    headers[SIGNATURE_HEADER] = hmac.new(secret, raw, hashlib.sha256).hexdigest()
    return {"headers": headers, "data": raw}


@schema.parametrize()
# One database per operation, shared by its examples: later examples see earlier ones' writes.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_operation_honours_the_contract(
    case: Case, live_api: str, credentials: Credentials
) -> None:
    case.call_and_validate(base_url=live_api, checks=CHECKS, **send_kwargs(case, credentials))


def stateful_schema(live_api: str, credentials: Credentials) -> Any:
    """The document, set for a stateful run only, against ``live_api`` with real tokens.

    Schemathesis's own engine runs it: a stateful run's next request depends on the
    service's answers, which Hypothesis's pytest runner takes for flaky generation, and the
    engine expects. Razorpay's webhook is no step of any sequence (no answer feeds it).
    """
    config = schemathesis.Config.from_dict(
        {
            "base-url": live_api,
            "seed": SEED,
            "generation": {
                "max-examples": STATEFUL_SCENARIOS,
                "deterministic": True,
                "database": "none",
            },
            "phases": {
                "examples": {"enabled": False},
                "coverage": {"enabled": False},
                "fuzzing": {"enabled": False},
                "stateful": {"enabled": True, "max-steps": STATEFUL_STEPS},
            },
            "checks": {check.__name__: {"enabled": True} for check in CHECKS},
            # As in the run above: per operation, the first scheme of its `security`.
            "auth": {
                "openapi": {
                    "siteJwt": {"bearer": credentials.site_token},
                    "adminJwt": {"bearer": credentials.admin_token},
                }
            },
            "request-timeout": 20,
            "cache": {"enabled": False},  # nothing kept from, or written for, another run
        }
    )
    loaded = schemathesis.openapi.from_path(OPENAPI_PATH, config=config)
    register_hooks(loaded, keys_of_their_bodies=True)
    return loaded


def failures_of(event: events.EngineEvent) -> list[str]:
    """What went wrong in one event of a run, one line per failed check or error."""
    if isinstance(event, events.NonFatalError):
        return [f"error in {event.label}: {event.value!r}"]
    if isinstance(event, events.FatalError):
        return [f"fatal error: {event.exception!r}"]
    if not isinstance(event, events.ScenarioFinished):
        return []
    found = []
    for case_id, checks in event.recorder.checks.items():
        case = event.recorder.cases[case_id].value
        response = event.recorder.interactions[case_id].response
        for check in checks:
            if check.status == Status.FAILURE:
                answer = f"{response.status_code} {response.content[:300]!r}" if response else "-"
                body = "" if isinstance(case.body, NotSet) else f" {case.body!r}"
                found.append(
                    f"{check.name}: {case.method} {case.formatted_path} {case.query or ''}"
                    f"{body} -> {answer}"
                )
    return found


def test_sequences_of_operations_honour_the_contract(
    live_api: str, credentials: Credentials
) -> None:
    run = from_schema(stateful_schema(live_api, credentials)).execute()
    found = [failure for event in run for failure in failures_of(event)]

    assert found == [], "\n".join(found)
