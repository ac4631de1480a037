"""What the sandbox tests share: recorded Razorpay samples and shape checks, a webhook
receiver, and the buyer's and the SDK's moves."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import razorpay
import requests
from razorpay.errors import BadRequestError

from payments_service.sandbox import BackgroundSandbox

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "razorpay"


SANDBOX_PACKAGE = Path(__file__).resolve().parents[2] / "payments_service" / "sandbox"


KEY_ID = "rzp_test_SandboxKey0001"


KEY_SECRET = "sandbox_key_secret"


WEBHOOK_SECRET = "sandbox_webhook_secret"


# Values whose inner keys vary by payment method or error kind: only their type is compared.
OPAQUE_KEYS = frozenset({"notes", "acquirer_data", "metadata"})


Json = dict[str, Any]


def sample(name: str) -> Any:
    """Load one of Razorpay's reference JSON shapes from tests/fixtures/razorpay."""
    return json.loads((FIXTURES / name).read_text())


@dataclass
class Received:
    """One webhook delivery as the receiver saw it."""

    body: bytes
    headers: dict[str, str]

    @property
    def event(self) -> Json:
        """The parsed envelope."""
        parsed: Json = json.loads(self.body)
        return parsed


@dataclass
class WebhookReceiver:
    """A local HTTP endpoint recording webhook deliveries; answers the queued statuses, then 200."""

    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def events(self) -> list[str]:
        """Event names in the order they arrived."""
        return [delivery.event["event"] for delivery in self.received]


def pay(http: requests.Session, sandbox: BackgroundSandbox, order_id: str, **body: Any) -> Json:
    """Act as the customer on Checkout (successful card payment unless told otherwise)."""
    response = http.post(
        f"{sandbox.url}/_sandbox/orders/{order_id}/pay", json={"outcome": "success", **body}
    )
    assert response.status_code == 200, response.text
    result: Json = response.json()
    return result


def paid_payment(
    sdk: razorpay.Client,
    http: requests.Session,
    sandbox: BackgroundSandbox,
    amount: int = 49900,
    **body: Any,
) -> Json:
    """Create an order, pay it, and fetch the resulting payment."""
    order = sdk.order.create({"amount": amount, "currency": "INR"})
    result = pay(http, sandbox, order["id"], **body)
    payment: Json = sdk.payment.fetch(result["razorpay_payment_id"])
    return payment


def assert_same_shape(actual: Any, expected: Any, path: str = "$") -> None:
    """Assert ``actual`` has the fixture's key set and JSON types, recursively.

    Null on either side is accepted (fields such as ``fee`` are null until capture); empty
    notes may be ``[]`` or ``{}`` as in Razorpay's samples.
    """
    if actual is None or expected is None:
        return
    leaf = path.rsplit(".", 1)[-1]
    if leaf in OPAQUE_KEYS:
        assert isinstance(actual, dict | list), f"{path}: {actual!r}"
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        assert set(actual) == set(expected), f"{path}: keys differ: {set(actual) ^ set(expected)}"
        for key, value in expected.items():
            assert_same_shape(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        for item in actual:
            assert_same_shape(item, expected[0] if expected else item, f"{path}[]")
    else:
        assert type(actual) is type(expected), f"{path}: {actual!r} vs fixture {expected!r}"


def payment_fixture(method: str) -> Json:
    """The payment shape: the card fetch sample plus the method's own object."""
    shape: Json = sample("docs-api/payment.fetch.card.json")
    if method == "card":
        shape["card"] = sample("docs-api/payment.entity.failed.json")["card"]
    if method == "upi":
        shape["upi"] = sample("composed/lifecycle.01.payment.failed.sample.json")["payload"][
            "payment"
        ]["entity"]["upi"]
    return shape


def assert_event_shape(event: Json, sample_name: str) -> None:
    """Assert a webhook body has the composed sample's envelope and the API's entity shapes."""
    reference = sample(sample_name)
    assert event["contains"] == reference["contains"]
    assert list(event["payload"]) == list(reference["payload"])
    assert_same_shape(event, reference | {"payload": None})
    for key, wrapper in event["payload"].items():
        if key == "payment":
            shape = payment_fixture(wrapper["entity"]["method"])
        else:
            shape = reference["payload"][key]["entity"]
        assert_same_shape(wrapper, {"entity": shape})


def assert_error(call: Callable[[], Any], description: str) -> None:
    """Assert an SDK call fails with BadRequestError carrying ``description``."""
    with pytest.raises(BadRequestError) as caught:
        call()
    assert description in str(caught.value)
