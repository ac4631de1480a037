"""What the subscription tests share: Razorpay's subscription samples, the customer's and
the sandbox clock's moves through the sandbox's control API, and shape checks."""

from __future__ import annotations

from typing import Any

import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.helpers import Json, assert_same_shape, payment_fixture, sample

DAY = 86_400
MONTHLY_PLAN: Json = {
    "period": "monthly",
    "interval": 1,
    "item": {"name": "Sandbox Pro Monthly", "amount": 49900, "currency": "INR"},
    "notes": {"tier": "pro"},
}
PAUSE_KEYS = frozenset({"paused_at", "pause_initiated_by"})
CHARGED_EVENTS = ["subscription.charged", "invoice.paid", "payment.captured"]


def subscription_sample(name: str) -> Any:
    """One of tests/fixtures/razorpay/subscriptions, without its ``_source`` line."""
    loaded = sample(f"subscriptions/{name}")
    if isinstance(loaded, dict):
        loaded.pop("_source", None)
    return loaded


def subscription_shape() -> Json:
    """The subscription entity of an authenticated subscription, from the composed story."""
    event = subscription_sample("composed/lifecycle.05.subscription.pending.sample.json")
    shape: Json = event["payload"]["subscription"]["entity"]
    return shape


def assert_subscription_shape(entity: Json, *, paused: bool = False) -> None:
    """Same keys and types as the composed samples (plus pause fields once ever paused)."""
    shape = subscription_shape()
    if paused:
        shape |= {"paused_at": 1, "pause_initiated_by": "self"}
    assert_same_shape(entity, shape)


def assert_subscription_event(event: Json, name: str, sample_name: str | None = None) -> None:
    """A subscription webhook: the envelope of the composed sample (when one exists), the
    subscription's shape, and the payment's (the sandbox's payment shape) when it carries one."""
    assert event["event"] == name
    assert event["contains"] == list(event["payload"])
    if sample_name is not None:
        reference = subscription_sample(f"composed/{sample_name}")
        assert event["contains"] == reference["contains"]
        assert_same_shape(event, reference | {"payload": None})
    entity = event["payload"]["subscription"]["entity"]
    assert_subscription_shape(entity, paused="paused_at" in entity)
    if "payment" in event["payload"]:
        payment = event["payload"]["payment"]["entity"]
        assert_same_shape(payment, payment_fixture(payment["method"]))


def new_plan(sdk: razorpay.Client, **changes: Any) -> Json:
    """A ₹499 monthly plan, or as changed."""
    plan: Json = sdk.plan.create(MONTHLY_PLAN | changes)
    return plan


def control(http: requests.Session, sandbox: BackgroundSandbox, path: str, **body: Any) -> Json:
    """POST to the sandbox's control API; asserts it answered 200."""
    response = http.post(f"{sandbox.url}/_sandbox/{path}", json=body)
    assert response.status_code == 200, response.text
    result: Json = response.json()
    return result


def authenticate(
    http: requests.Session, sandbox: BackgroundSandbox, sub_id: str, **body: Any
) -> Json:
    """Act as the customer paying on Checkout (a successful card payment unless told)."""
    return control(http, sandbox, f"subscriptions/{sub_id}/pay", **({"outcome": "success"} | body))


def advance(http: requests.Session, sandbox: BackgroundSandbox, **body: Any) -> list[str]:
    """Move the sandbox clock; answers the names of the events that sent."""
    return [event["event"] for event in control(http, sandbox, "clock/advance", **body)["events"]]


def set_charge_outcome(
    http: requests.Session, sandbox: BackgroundSandbox, sub_id: str, outcome: str
) -> None:
    """Make the subscription's automatic charges succeed or fail from now on."""
    response = http.patch(
        f"{sandbox.url}/_sandbox/subscriptions/{sub_id}", json={"charge_outcome": outcome}
    )
    assert response.status_code == 200, response.text


def active_subscription(
    sdk: razorpay.Client,
    http: requests.Session,
    sandbox: BackgroundSandbox,
    total_count: int = 3,
    **create: Any,
) -> Json:
    """A subscription to a new monthly plan, authenticated and charged its first cycle."""
    plan = new_plan(sdk)
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": total_count} | create)
    authenticate(http, sandbox, sub["id"])
    fetched: Json = sdk.subscription.fetch(sub["id"])
    return fetched


def clock_now(http: requests.Session, sandbox: BackgroundSandbox) -> int:
    """The sandbox clock's current time."""
    now: int = http.get(f"{sandbox.url}/_sandbox/clock").json()["now"]
    return now
