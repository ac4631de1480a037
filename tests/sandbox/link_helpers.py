"""What the payment-link tests share: the recorded link samples, the sandbox clock, the
customer's moves on the hosted page, and the rename the SDK's signature check needs."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.helpers import (
    KEY_ID,
    KEY_SECRET,
    WEBHOOK_SECRET,
    Json,
    Received,
    assert_same_shape,
    payment_fixture,
    sample,
)

FIFTEEN_MINUTES = 15 * 60
ONE_DAY = 24 * 60 * 60
CALLBACK_PARAMS = (
    "razorpay_payment_id",
    "razorpay_payment_link_id",
    "razorpay_payment_link_reference_id",
    "razorpay_payment_link_status",
    "razorpay_signature",
)


def link_sample(name: str) -> Any:
    """A payment-link sample from tests/fixtures/razorpay/payment-links, without the
    ``_source`` line every file starts with."""
    loaded = sample(f"payment-links/{name}")
    if isinstance(loaded, dict):
        loaded.pop("_source", None)
    return loaded


def clock_now(http: requests.Session, sandbox: BackgroundSandbox) -> int:
    """The sandbox clock, in Unix seconds."""
    now: int = http.get(f"{sandbox.url}/_sandbox/clock").json()["now"]
    return now


def advance_clock(http: requests.Session, sandbox: BackgroundSandbox, seconds: int) -> Json:
    """Move the sandbox clock forward."""
    response = http.post(f"{sandbox.url}/_sandbox/clock", json={"advance_seconds": seconds})
    assert response.status_code == 200, response.text
    clock: Json = response.json()
    return clock


def link_request(
    http: requests.Session, sandbox: BackgroundSandbox, callback_url: str = "", **overrides: Any
) -> Json:
    """The composed sample's create request (50000 paise, partial from 20000, reference
    INV-2026-0042), expiring in a day by the sandbox clock, with ``overrides``."""
    body: Json = link_sample("composed/lifecycle.01.payment_link.create.sample.json")["request"]
    body["expire_by"] = clock_now(http, sandbox) + ONE_DAY
    if callback_url:
        body["callback_url"] = callback_url
    return {**body, **overrides}


def pay_link(
    http: requests.Session, sandbox: BackgroundSandbox, link_id: str, **body: Any
) -> requests.Response:
    """Act as the customer on the hosted page through the control API."""
    return http.post(
        f"{sandbox.url}/_sandbox/payment_links/{link_id}/pay", json={"outcome": "success", **body}
    )


def callback_query(url: str) -> dict[str, str]:
    """The query of a callback URL, one value per name."""
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def sdk_verify_args(query: dict[str, str]) -> dict[str, str]:
    """The callback query renamed the way ``verify_payment_link_signature`` reads it: the
    link fields without their ``razorpay_`` prefix."""
    return {
        "payment_link_id": query["razorpay_payment_link_id"],
        "payment_link_reference_id": query.get("razorpay_payment_link_reference_id", ""),
        "payment_link_status": query["razorpay_payment_link_status"],
        "razorpay_payment_id": query["razorpay_payment_id"],
        "razorpay_signature": query["razorpay_signature"],
    }


def submit(http: requests.Session, link: Json, **form: str) -> requests.Response:
    """Press a button of the hosted page's form (Pay (success) unless told otherwise)."""
    return http.post(link["short_url"], data={"outcome": "success", **form}, allow_redirects=False)


def assert_link_event(received: Received, sample_name: str) -> Json:
    """Assert a delivery is signed and has the sample's envelope and entity keys: exactly
    our composed samples' keys, at least those of Razorpay's (whose samples vary)."""
    sdk = razorpay.Client(auth=(KEY_ID, KEY_SECRET))
    signature = received.headers["X-Razorpay-Signature"]
    assert sdk.utility.verify_webhook_signature(received.body.decode(), signature, WEBHOOK_SECRET)
    event: Json = received.event
    reference = link_sample(sample_name)
    assert event["contains"] == reference["contains"]
    assert_same_shape(event, reference | {"payload": None})
    for key, wrapper in event["payload"].items():
        if key == "payment":
            assert_same_shape(wrapper, {"entity": payment_fixture(wrapper["entity"]["method"])})
        else:
            expected = reference["payload"][key]["entity"]
            if sample_name.startswith("composed/"):
                assert set(wrapper["entity"]) == set(expected), key
            else:
                assert set(wrapper["entity"]) >= set(expected), key
    return event
