"""The Razorpay sandbox, driven over real HTTP with the official SDK as the service drives it."""

from __future__ import annotations

import ast
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import razorpay
import requests
from razorpay.errors import BadRequestError, GatewayError, ServerError, SignatureVerificationError
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from payments_service.sandbox import BackgroundSandbox, SandboxConfig, start_background
from payments_service.sandbox.__main__ import build_config, parse_arguments
from payments_service.sandbox.checkout import format_amount
from payments_service.sandbox.config import ConfigError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "razorpay"
SANDBOX_PACKAGE = Path(__file__).resolve().parents[1] / "payments_service" / "sandbox"
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


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A webhook receiver on 127.0.0.1 served from a thread."""
    lock = threading.Lock()
    state = WebhookReceiver(url="")

    @Request.application
    def record(request: Request) -> Response:
        with lock:
            state.received.append(Received(request.get_data(), dict(request.headers)))
            status = state.statuses.pop(0) if state.statuses else 200
        return Response("ok", status=status)

    server = make_server("127.0.0.1", 0, record, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.port}/webhooks/razorpay"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def start_sandbox(receiver: WebhookReceiver) -> Iterator[Callable[..., BackgroundSandbox]]:
    """Start sandboxes with sync webhooks to the receiver (plus any overrides); stops them all."""
    started: list[BackgroundSandbox] = []

    def start(**overrides: Any) -> BackgroundSandbox:
        settings: Json = {"webhook_urls": [receiver.url], "webhook_delivery": "sync"}
        sandbox = start_background(SandboxConfig(**{**settings, **overrides}))
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def fresh_sandbox(start_sandbox: Callable[..., BackgroundSandbox]) -> BackgroundSandbox:
    """A new sandbox with default settings and synchronous webhooks."""
    return start_sandbox()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A plain HTTP session for the control API and raw requests."""
    with requests.Session() as session:
        yield session


@pytest.fixture
def connect() -> Iterator[Callable[..., razorpay.Client]]:
    """Make official SDK clients for a sandbox (default credentials); closes their sessions."""
    sessions: list[requests.Session] = []

    def make(sandbox: BackgroundSandbox, auth: tuple[str, str] = (KEY_ID, KEY_SECRET)) -> Any:
        sessions.append(requests.Session())
        return razorpay.Client(session=sessions[-1], auth=auth, base_url=sandbox.url)

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def sdk(connect: Callable[..., razorpay.Client], fresh_sandbox: BackgroundSandbox) -> Any:
    """The official SDK pointed at the fresh sandbox."""
    return connect(fresh_sandbox)


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


def test_order_create_fetch_list_and_edit(sdk: razorpay.Client) -> None:
    first = sdk.order.create({"amount": 49900, "currency": "INR", "receipt": "rcpt-1"})
    second = sdk.order.create(
        {"amount": "1000", "currency": "INR", "receipt": "rcpt-2", "notes": {"site": "blog"}}
    )
    assert first["status"] == "created" and first["amount_due"] == 49900
    assert first["notes"] == [] and second["amount"] == 1000
    assert first["id"].startswith("order_") and len(first["id"]) == len("order_") + 14
    assert_same_shape(first, sample("docs-api/order.create.response.json"))
    assert sdk.order.fetch(first["id"]) == first

    listed = sdk.order.all()
    assert_same_shape(listed, sample("docs-api/order.all.response.json"))
    assert [order["id"] for order in listed["items"]] == [second["id"], first["id"]]
    assert sdk.order.all({"count": 1, "skip": 1})["items"] == [first]
    assert sdk.order.all({"receipt": "rcpt-2"})["items"] == [second]

    edited = sdk.order.edit(first["id"], {"notes": {"key1": "value1"}})
    assert edited["notes"] == {"key1": "value1"}
    assert_error(lambda: sdk.order.edit(first["id"], {"amount": 5}), "amount is/are not")


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({"amount": 99, "currency": "INR"}, "The amount must be at least INR 1.00"),
        ({"amount": 499.5, "currency": "INR"}, "The amount must be an integer."),
        ({"amount": "12.50", "currency": "INR"}, "The amount must be an integer."),
        ({"currency": "INR"}, "The amount field is required."),
        ({"amount": 1000, "currency": "inr"}, "The selected currency is invalid."),
        ({"amount": 1000, "currency": "XYZ"}, "The selected currency is invalid."),
        ({"amount": 1000, "currency": "INR", "receipt": "r" * 41}, "may not be greater than 40"),
        (
            {"amount": 1000, "currency": "INR", "notes": {f"k{i}": "v" for i in range(16)}},
            "Number of fields in notes should be less than or equal to 15",
        ),
        (
            {"amount": 1000, "currency": "INR", "notes": {"k": ["v"]}},
            "Notes values themselves should not be an array",
        ),
        ({"amount": 1000, "currency": "INR", "colour": "red"}, "colour is/are not required"),
    ],
)
def test_order_create_validation(sdk: razorpay.Client, body: Json, description: str) -> None:
    assert_error(lambda: sdk.order.create(body), description)


def test_order_payments_list_every_attempt(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    order = sdk.order.create({"amount": 50000, "currency": "INR"})
    failed = pay(http, fresh_sandbox, order["id"], outcome="failure", method="upi")
    assert sdk.order.fetch(order["id"])["status"] == "attempted"
    paid = pay(http, fresh_sandbox, order["id"], method="netbanking")

    payments = sdk.order.payments(order["id"])
    assert [item["id"] for item in payments["items"]] == [
        failed["error"]["metadata"]["payment_id"],
        paid["razorpay_payment_id"],
    ]
    assert [item["status"] for item in payments["items"]] == ["failed", "captured"]
    assert_same_shape(payments["items"][0], payment_fixture("upi"))
    assert_same_shape(payments["items"][1], payment_fixture("netbanking"))
    order = sdk.order.fetch(order["id"])
    assert (order["status"], order["attempts"], order["amount_paid"]) == ("paid", 2, 50000)


def test_unknown_and_malformed_ids(sdk: razorpay.Client, http: requests.Session) -> None:
    assert_error(lambda: sdk.order.fetch("order_AAAAAAAAAAAAAA"), "The id provided does not")
    assert_error(lambda: sdk.payment.fetch("pay_AAAAAAAAAAAAAA"), "The id provided does not")
    assert_error(lambda: sdk.refund.fetch("rfnd_AAAAAAAAAAAAAA"), "The id provided does not")
    assert_error(lambda: sdk.payment.fetch("pay_AABBdHIieex"), "AABBdHIieex is not a valid id")

    response = http.get(f"{sdk.base_url}/v1/orders/order_AAAAAAAAAAAAAA", auth=sdk.auth)
    assert response.status_code == 400
    assert_same_shape(response.json(), sample("docs-api/error.sample.error.json"))


@pytest.mark.parametrize(
    ("auth", "description"),
    [
        ((KEY_ID, "wrong_secret"), "Authentication failed"),
        (("rzp_test_SomeoneElse001", KEY_SECRET), "The api key provided is invalid"),
    ],
    ids=["wrong-secret", "unknown-key"],
)
def test_bad_credentials_are_401(
    fresh_sandbox: BackgroundSandbox,
    http: requests.Session,
    auth: tuple[str, str],
    description: str,
    connect: Callable[..., razorpay.Client],
) -> None:
    intruder = connect(fresh_sandbox, auth)
    assert_error(lambda: intruder.order.all(), description)
    response = http.get(f"{fresh_sandbox.url}/v1/orders", auth=auth)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "BAD_REQUEST_ERROR"
    missing = http.get(f"{fresh_sandbox.url}/v1/orders")
    assert missing.status_code == 401
    assert "Please provide your api key" in missing.json()["error"]["description"]


def test_unknown_routes_and_methods_answer_json(
    sdk: razorpay.Client, http: requests.Session
) -> None:
    # The SDK parses every error body; an HTML 404 would surface as a JSON decode error.
    assert_error(lambda: sdk.payment.fetchCardDetails("pay_AAAAAAAAAAAAAA"), "URL was not")
    for method, path in [("GET", "/v1/nowhere"), ("DELETE", "/v1/orders"), ("GET", "/nowhere")]:
        response = http.request(method, f"{sdk.base_url}{path}", auth=sdk.auth)
        assert response.status_code in (400, 404)
        assert_same_shape(response.json(), sample("docs-api/error.sample.error.json"))


def test_pagination_count_above_100_is_rejected(sdk: razorpay.Client) -> None:
    for resource in (sdk.order, sdk.payment, sdk.refund):
        assert_error(lambda r=resource: r.all({"count": 101}), "count may not be greater than 100")
    assert sdk.order.all({"count": 100})["entity"] == "collection"


def test_successful_checkout_captures_with_fee(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    order = sdk.order.create({"amount": 49900, "currency": "INR", "notes": {"ref": "A1"}})
    result = pay(http, fresh_sandbox, order["id"], email="a@example.com", name="Asha")
    assert_same_shape(result, sample("composed/checkout.success-callback.sample.json"))
    assert sdk.utility.verify_payment_signature(result) is True
    forged = {**result, "razorpay_order_id": "order_AAAAAAAAAAAAAA"}
    with pytest.raises(SignatureVerificationError):
        sdk.utility.verify_payment_signature(forged)

    payment = sdk.payment.fetch(result["razorpay_payment_id"])
    assert_same_shape(payment, payment_fixture("card"))
    assert (payment["status"], payment["captured"], payment["order_id"]) == (
        "captured",
        True,
        order["id"],
    )
    # 2% of 49900 is 998; 18% GST on it is 179.64 -> 180; the fee includes the tax.
    assert (payment["fee"], payment["tax"]) == (1178, 180)
    assert payment["email"] == "a@example.com" and payment["notes"] == {"ref": "A1"}
    assert sdk.payment.all()["items"][0]["id"] == payment["id"]


def test_failed_checkout_reports_the_error(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    order = sdk.order.create({"amount": 50000, "currency": "INR"})
    result = pay(
        http, fresh_sandbox, order["id"], outcome="failure", error_reason="payment_cancelled"
    )
    assert_same_shape(result, sample("composed/checkout.payment-failed-event.sample.json"))
    assert result["error"]["reason"] == "payment_cancelled"
    assert result["error"]["metadata"]["order_id"] == order["id"]
    payment = sdk.payment.fetch(result["error"]["metadata"]["payment_id"])
    assert (payment["status"], payment["fee"], payment["error_reason"]) == (
        "failed",
        None,
        "payment_cancelled",
    )
    assert_same_shape(payment, payment_fixture("card"))


def test_paid_order_cannot_be_paid_again(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    order = sdk.order.create({"amount": 50000, "currency": "INR"})
    pay(http, fresh_sandbox, order["id"])
    again = http.post(
        f"{fresh_sandbox.url}/_sandbox/orders/{order['id']}/pay", json={"outcome": "success"}
    )
    assert again.status_code == 400
    assert again.json()["error"]["description"] == "Order has already been paid"


def test_a_tampered_checkout_pays_other_money_without_paying_the_order(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    order = sdk.order.create({"amount": 50000, "currency": "INR"})
    result = pay(http, fresh_sandbox, order["id"], amount=100, currency="USD")
    assert sdk.utility.verify_payment_signature(result) is True

    payment = sdk.payment.fetch(result["razorpay_payment_id"])
    assert (payment["amount"], payment["currency"], payment["status"]) == (100, "USD", "captured")
    after = sdk.order.fetch(order["id"])
    assert (after["status"], after["amount_paid"]) == ("attempted", 0)
    assert receiver.events() == ["payment.authorized", "payment.captured"]
    honest = pay(http, fresh_sandbox, order["id"])  # the order still takes its real payment
    assert sdk.payment.fetch(honest["razorpay_payment_id"])["amount"] == 50000
    assert sdk.order.fetch(order["id"])["status"] == "paid"

    other = sdk.order.create({"amount": 50000, "currency": "INR"})
    url = f"{fresh_sandbox.url}/_sandbox/orders/{other['id']}/pay"
    for body, field_name in (({"amount": 99}, "amount"), ({"currency": "XYZ"}, "currency")):
        refused = http.post(url, json={"outcome": "success", **body})
        assert refused.status_code == 400
        assert refused.json()["error"]["field"] == field_name


def test_manual_capture(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(auto_capture=False)
    sdk = connect(sandbox)
    payment = paid_payment(sdk, http, sandbox, amount=20000)
    assert (payment["status"], payment["captured"], payment["fee"]) == (
        "authorized",
        False,
        None,
    )
    assert sdk.order.fetch(payment["order_id"])["status"] == "attempted"

    capture = sdk.payment.capture
    assert_error(lambda: capture(payment["id"], 10000, {"currency": "INR"}), "must be equal")
    captured = capture(payment["id"], 20000, {"currency": "INR"})
    assert (captured["status"], captured["fee"], captured["tax"]) == ("captured", 472, 72)
    assert_same_shape(captured, payment_fixture("card"))
    assert_error(lambda: capture(payment["id"], 20000, {"currency": "INR"}), "already been")
    assert sdk.order.fetch(payment["order_id"])["status"] == "paid"


def test_failed_payment_cannot_be_captured_or_refunded(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    order = sdk.order.create({"amount": 50000, "currency": "INR"})
    failed = pay(http, fresh_sandbox, order["id"], outcome="failure")["error"]["metadata"][
        "payment_id"
    ]
    capture = sdk.payment.capture
    assert_error(lambda: capture(failed, 50000, {"currency": "INR"}), "Only payments which have")
    assert_error(lambda: sdk.payment.refund(failed, {}), "status should be captured")


def test_full_and_partial_refunds(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    payment = paid_payment(sdk, http, fresh_sandbox, amount=50000)
    pid = payment["id"]
    assert_error(lambda: sdk.payment.refund(pid, {"amount": 99}), "at least INR 1.00")
    assert_error(lambda: sdk.payment.refund(pid, {"amount": 60000}), "greater than amount")

    partial = sdk.payment.refund(pid, {"amount": 20000, "notes": {"why": "return"}})
    assert_same_shape(partial, sample("docs-api/refund.entity.response.json"))
    assert (partial["status"], partial["amount"]) == ("processed", 20000)
    fetched = sdk.payment.fetch(pid)
    assert (fetched["status"], fetched["refund_status"], fetched["amount_refunded"]) == (
        "captured",
        "partial",
        20000,
    )
    assert_error(lambda: sdk.payment.refund(pid, {"amount": 30001}), "greater than amount")

    rest = sdk.refund.create({"payment_id": pid})
    assert rest["amount"] == 30000
    fetched = sdk.payment.fetch(pid)
    assert (fetched["status"], fetched["refund_status"]) == ("refunded", "full")
    assert_error(lambda: sdk.payment.refund(pid, {}), "fully refunded already")

    refunds = sdk.payment.fetch_multiple_refund(pid)
    assert_same_shape(refunds, sample("docs-api/payment.refunds.response.json"))
    assert [refund["id"] for refund in refunds["items"]] == [rest["id"], partial["id"]]
    assert sdk.payment.fetch_refund_id(pid, partial["id"]) == sdk.refund.fetch(partial["id"])
    assert sdk.refund.all({"count": 1})["items"][0]["id"] == rest["id"]


def test_refund_of_uncaptured_payment_is_refused(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(auto_capture=False)
    sdk = connect(sandbox)
    payment = paid_payment(sdk, http, sandbox)
    assert_error(lambda: sdk.payment.refund(payment["id"], {}), "should be captured")


def test_refund_idempotency_key(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    payment = paid_payment(sdk, http, fresh_sandbox, amount=50000)
    url = f"{fresh_sandbox.url}/v1/payments/{payment['id']}/refund"
    headers = {"X-Refund-Idempotency": "refund-key-0001"}

    first = http.post(url, json={"amount": 10000}, headers=headers, auth=sdk.auth)
    replay = http.post(url, json={"amount": 10000}, headers=headers, auth=sdk.auth)
    assert first.status_code == replay.status_code == 200
    assert first.json()["id"] == replay.json()["id"]
    assert sdk.payment.fetch(payment["id"])["amount_refunded"] == 10000

    changed = http.post(url, json={"amount": 20000}, headers=headers, auth=sdk.auth)
    assert changed.status_code == 400
    assert "idempotency key" in changed.json()["error"]["description"]


def test_pending_refunds_settle_later(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    receiver: WebhookReceiver,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(refund_outcome="pending")
    sdk = connect(sandbox)
    payment = paid_payment(sdk, http, sandbox, amount=50000)
    kept = sdk.payment.refund(payment["id"], {"amount": 20000})
    lost = sdk.payment.refund(payment["id"], {"amount": 5000})
    assert (kept["status"], lost["status"]) == ("pending", "pending")

    def settle(refund_id: str, status: str) -> requests.Response:
        url = f"{sandbox.url}/_sandbox/refunds/{refund_id}/settle"
        return http.post(url, json={"status": status})

    assert settle(kept["id"], "processed").json()["status"] == "processed"
    assert settle(lost["id"], "failed").json()["status"] == "failed"
    assert settle(lost["id"], "processed").status_code == 400
    assert sdk.refund.fetch(kept["id"])["status"] == "processed"
    fetched = sdk.payment.fetch(payment["id"])
    assert (fetched["amount_refunded"], fetched["refund_status"]) == (20000, "partial")
    assert receiver.events()[-4:] == [
        "refund.created",
        "refund.created",
        "refund.processed",
        "refund.failed",
    ]
    failed_event = receiver.received[-1].event
    assert_event_shape(failed_event, "composed/lifecycle.07.refund.failed.sample.json")
    assert failed_event["payload"]["payment"]["entity"]["amount_refunded"] == 20000


def test_merchant_balance_limits_refunds(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    payment = paid_payment(sdk, http, fresh_sandbox, amount=50000)
    http.patch(f"{fresh_sandbox.url}/_sandbox/config", json={"merchant_balance": 15000})
    assert_error(lambda: sdk.payment.refund(payment["id"], {"amount": 20000}), "invalid request")
    sdk.payment.refund(payment["id"], {"amount": 15000})
    assert http.get(f"{fresh_sandbox.url}/_sandbox/config").json()["merchant_balance"] == 0


def test_ledger_matches_payments_and_refunds(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    first = paid_payment(sdk, http, fresh_sandbox, amount=49900)
    second = paid_payment(sdk, http, fresh_sandbox, amount=100000, method="wallet")
    sdk.payment.refund(second["id"], {"amount": 25000})
    failed_order = sdk.order.create({"amount": 70000, "currency": "INR"})
    pay(http, fresh_sandbox, failed_order["id"], outcome="failure")

    ledger = http.get(f"{fresh_sandbox.url}/_sandbox/ledger").json()
    fees = first["fee"] + second["fee"]
    assert ledger == {
        "INR": {
            "captured": 149900,
            "refunded": 25000,
            "fees": fees,
            "balance": 149900 - fees - 25000,
        }
    }


def test_checkout_webhooks_are_signed_snapshots(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    order = sdk.order.create({"amount": 50000, "currency": "INR", "receipt": "INV-1001"})
    pay(http, fresh_sandbox, order["id"], outcome="failure", method="upi")
    pay(http, fresh_sandbox, order["id"])
    payment = sdk.payment.fetch(sdk.order.payments(order["id"])["items"][1]["id"])
    sdk.payment.refund(payment["id"], {"amount": 20000})

    expected = [
        ("payment.failed", "composed/lifecycle.01.payment.failed.sample.json"),
        ("payment.authorized", "composed/lifecycle.02.payment.authorized.sample.json"),
        ("payment.captured", "composed/lifecycle.03.payment.captured.sample.json"),
        ("order.paid", "composed/lifecycle.04.order.paid.sample.json"),
        ("refund.created", "composed/lifecycle.05.refund.created.sample.json"),
        ("refund.processed", "composed/lifecycle.06.refund.processed.sample.json"),
    ]
    assert receiver.events() == [name for name, _ in expected]
    for delivery, (_, sample_name) in zip(receiver.received, expected, strict=True):
        signature = delivery.headers["X-Razorpay-Signature"]
        body = delivery.body.decode()
        assert sdk.utility.verify_webhook_signature(body, signature, WEBHOOK_SECRET) is True
        assert delivery.headers["Content-Type"] == "application/json"
        assert len(delivery.headers["X-Razorpay-Event-Id"]) == 14
        assert_event_shape(delivery.event, sample_name)

    snapshot = receiver.received[1].event["payload"]["payment"]["entity"]
    assert (snapshot["status"], snapshot["fee"]) == ("authorized", None)
    paid = receiver.received[3].event["payload"]["order"]["entity"]
    assert (paid["status"], paid["attempts"], paid["amount_due"]) == ("paid", 2, 0)
    event_ids = {delivery.headers["X-Razorpay-Event-Id"] for delivery in receiver.received}
    assert len(event_ids) == len(expected)


def test_api_capture_emits_captured_and_order_paid(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    receiver: WebhookReceiver,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(auto_capture=False)
    sdk = connect(sandbox)
    payment = paid_payment(sdk, http, sandbox, amount=10000)
    assert receiver.events() == ["payment.authorized"]
    sdk.payment.capture(payment["id"], 10000, {"currency": "INR"})
    assert receiver.events() == ["payment.authorized", "payment.captured", "order.paid"]


def test_failed_deliveries_are_retried_with_the_same_event_id(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    receiver.statuses.extend([500, 503])
    order = sdk.order.create({"amount": 10000, "currency": "INR"})
    pay(http, fresh_sandbox, order["id"], outcome="failure")

    assert [delivery.event["event"] for delivery in receiver.received] == ["payment.failed"] * 3
    assert len({delivery.headers["X-Razorpay-Event-Id"] for delivery in receiver.received}) == 1
    assert len({delivery.body for delivery in receiver.received}) == 1
    (record,) = http.get(f"{fresh_sandbox.url}/_sandbox/webhooks").json()
    assert (record["attempts"], record["last_status_code"], record["delivered"]) == (3, 200, True)
    assert record["url"] == receiver.url


def test_async_delivery_arrives_in_the_background(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    receiver: WebhookReceiver,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(webhook_delivery="async")
    sdk = connect(sandbox)
    paid_payment(sdk, http, sandbox)
    deadline = time.monotonic() + 5
    while len(receiver.received) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert receiver.events() == ["payment.authorized", "payment.captured", "order.paid"]
    events = http.get(f"{sandbox.url}/_sandbox/events").json()
    assert [event["body"].encode() for event in events] == [r.body for r in receiver.received]


def test_config_can_be_read_and_patched_except_secrets(
    fresh_sandbox: BackgroundSandbox, http: requests.Session
) -> None:
    url = f"{fresh_sandbox.url}/_sandbox/config"
    shown = http.get(url).json()
    assert "key_secret" not in shown and "webhook_secret" not in shown
    assert http.patch(url, json={"auto_capture": False}).json()["auto_capture"] is False
    assert fresh_sandbox.config.auto_capture is False
    assert http.patch(url, json={"key_secret": "stolen"}).status_code == 400
    assert http.patch(url, json={"webhook_delivery": "carrier-pigeon"}).status_code == 400


def test_latency_delays_api_calls(
    start_sandbox: Callable[..., BackgroundSandbox], http: requests.Session
) -> None:
    sandbox = start_sandbox(latency_ms=150)
    started = time.monotonic()
    http.get(f"{sandbox.url}/v1/orders", auth=(KEY_ID, KEY_SECRET)).raise_for_status()
    assert time.monotonic() - started >= 0.15


def test_chaos_settings_are_validated_and_shown(
    fresh_sandbox: BackgroundSandbox, http: requests.Session
) -> None:
    url = f"{fresh_sandbox.url}/_sandbox/config"
    defaults = {
        "webhook_duplicates": 1,
        "webhook_shuffle": False,
        "webhook_delay_ms": 0,
        "webhook_drop_rate": 0.0,
        "api_failure_rate": 0.0,
        "api_timeout_rate": 0.0,
        "api_timeout_ms": 30000,
        "api_late_answer_rate": 0.0,
        "seed": None,
    }
    assert http.get(url).json().items() >= defaults.items()
    changed = http.patch(url, json={"webhook_drop_rate": 1, "seed": 42, "webhook_duplicates": 10})
    assert changed.json()["webhook_drop_rate"] == 1.0 and changed.json()["seed"] == 42
    assert fresh_sandbox.config.webhook_duplicates == 10
    for bad in (
        {"webhook_duplicates": 0},
        {"webhook_duplicates": 11},
        {"webhook_shuffle": "yes"},
        {"webhook_delay_ms": -1},
        {"webhook_drop_rate": 1.5},
        {"api_failure_rate": "0.5"},
        {"api_timeout_rate": True},
        {"api_timeout_ms": 600_000},
        {"api_late_answer_rate": -0.1},
        {"seed": "lucky"},
    ):
        response = http.patch(url, json=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["field"] == next(iter(bad))
    assert http.patch(url, json={"seed": None}).json()["seed"] is None


def test_chaos_settings_come_from_environment_and_flags() -> None:
    environ = {
        "SANDBOX_WEBHOOK_DUPLICATES": "3",
        "SANDBOX_WEBHOOK_SHUFFLE": "yes",
        "SANDBOX_WEBHOOK_DROP_RATE": "0.25",
        "SANDBOX_API_TIMEOUT_MS": "500",
        "SANDBOX_SEED": "7",
    }
    flags = ["--webhook-duplicates", "2", "--no-webhook-shuffle", "--api-failure-rate", "0.5"]
    config = build_config(parse_arguments(flags, environ), environ)
    assert (config.webhook_duplicates, config.webhook_shuffle) == (2, False)
    assert (config.webhook_drop_rate, config.api_failure_rate) == (0.25, 0.5)
    assert (config.api_timeout_ms, config.seed) == (500, 7)
    with pytest.raises(ConfigError, match="api_timeout_rate"):
        SandboxConfig.from_environment({"SANDBOX_API_TIMEOUT_RATE": "often"})
    with pytest.raises(ConfigError, match="webhook_duplicates"):
        build_config(parse_arguments(["--webhook-duplicates", "11"], {}), {})


def test_duplicates_are_identical_copies(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    receiver: WebhookReceiver,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(webhook_duplicates=3)
    order = connect(sandbox).order.create({"amount": 10000, "currency": "INR"})
    pay(http, sandbox, order["id"], outcome="failure")

    assert receiver.events() == ["payment.failed"] * 3
    (event,) = http.get(f"{sandbox.url}/_sandbox/events").json()
    for delivery in receiver.received:
        assert delivery.body == event["body"].encode()
        assert delivery.headers["X-Razorpay-Event-Id"] == event["id"]
        assert delivery.headers["X-Razorpay-Signature"] == event["signature"]
    records = http.get(f"{sandbox.url}/_sandbox/webhooks").json()
    assert [(record["copy"], record["delivered"]) for record in records] == [
        (1, True),
        (2, True),
        (3, True),
    ]


def test_shuffle_with_a_seed_reorders_the_same_events_repeatably(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    receiver: WebhookReceiver,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(webhook_shuffle=True, seed=1234)
    sdk = connect(sandbox)

    def orders_of_four_checkouts() -> list[list[str]]:
        orders = []
        for _ in range(4):
            receiver.received.clear()
            paid_payment(sdk, http, sandbox)
            orders.append(receiver.events())
        return orders

    first_run = orders_of_four_checkouts()
    natural = ["payment.authorized", "payment.captured", "order.paid"]
    assert all(sorted(names) == sorted(natural) for names in first_run)
    assert any(names != natural for names in first_run)
    recorded = http.get(f"{sandbox.url}/_sandbox/events").json()
    assert [event["event"] for event in recorded[:3]] == natural

    http.post(f"{sandbox.url}/_sandbox/reset").raise_for_status()
    assert orders_of_four_checkouts() == first_run


def test_drop_rate_one_drops_every_event_and_zero_none(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    receiver: WebhookReceiver,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(webhook_drop_rate=1.0)
    sdk = connect(sandbox)
    paid_payment(sdk, http, sandbox)
    assert receiver.received == []
    assert len(http.get(f"{sandbox.url}/_sandbox/events").json()) == 3
    records = http.get(f"{sandbox.url}/_sandbox/webhooks").json()
    assert [(r["dropped"], r["attempts"], r["delivered"]) for r in records] == [
        (True, 0, False)
    ] * 3

    http.patch(f"{sandbox.url}/_sandbox/config", json={"webhook_drop_rate": 0.0})
    paid_payment(sdk, http, sandbox)
    assert receiver.events() == ["payment.authorized", "payment.captured", "order.paid"]
    records = http.get(f"{sandbox.url}/_sandbox/webhooks").json()[3:]
    assert [(r["dropped"], r["delivered"]) for r in records] == [(False, True)] * 3


def test_webhook_delay_applies_to_async_delivery_only(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    receiver: WebhookReceiver,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(webhook_delay_ms=10_000)
    order = connect(sandbox).order.create({"amount": 10000, "currency": "INR"})
    started = time.monotonic()
    pay(http, sandbox, order["id"], outcome="failure")
    assert time.monotonic() - started < 5 and receiver.events() == ["payment.failed"]

    http.patch(
        f"{sandbox.url}/_sandbox/config",
        json={"webhook_delivery": "async", "webhook_delay_ms": 200},
    )
    started = time.monotonic()
    pay(http, sandbox, order["id"], outcome="failure")
    assert len(receiver.received) == 1
    deadline = started + 5
    while len(receiver.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert receiver.events() == ["payment.failed"] * 2
    assert time.monotonic() - started >= 0.2


def test_api_failure_rate_fails_calls_before_any_change(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(api_failure_rate=1.0, seed=3)
    sdk = connect(sandbox)
    with pytest.raises((ServerError, GatewayError)):
        sdk.order.create({"amount": 10000, "currency": "INR"})
    statuses = set()
    for _ in range(12):
        response = http.post(
            f"{sandbox.url}/v1/orders",
            json={"amount": 10000, "currency": "INR"},
            auth=(KEY_ID, KEY_SECRET),
        )
        code = "SERVER_ERROR" if response.status_code == 500 else "GATEWAY_ERROR"
        assert response.json()["error"]["code"] == code
        assert_same_shape(response.json(), sample("docs-api/error.sample.error.json"))
        statuses.add(response.status_code)
    assert statuses == {500, 502, 504}
    assert http.get(f"{sandbox.url}/v1/orders", auth=(KEY_ID, "wrong")).status_code == 401
    assert http.get(f"{sandbox.url}/_sandbox/config").status_code == 200
    assert http.get(f"{sandbox.url}/v1/checkout.js").status_code == 200

    http.patch(f"{sandbox.url}/_sandbox/config", json={"api_failure_rate": 0})
    assert sdk.order.all()["count"] == 0


def test_api_timeout_rate_hangs_calls_without_any_change(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(api_timeout_rate=1.0, api_timeout_ms=300)
    sdk = connect(sandbox)
    with pytest.raises(requests.Timeout):
        sdk.order.create({"amount": 10000, "currency": "INR"}, timeout=0.1)
    started = time.monotonic()
    patient = http.post(
        f"{sandbox.url}/v1/orders",
        json={"amount": 10000, "currency": "INR"},
        auth=(KEY_ID, KEY_SECRET),
        timeout=5,
    )
    assert time.monotonic() - started >= 0.3
    assert patient.status_code == 504 and patient.json()["error"]["code"] == "GATEWAY_ERROR"

    http.patch(f"{sandbox.url}/_sandbox/config", json={"api_timeout_rate": 0.0})
    assert sdk.order.all()["count"] == 0


def test_api_late_answer_rate_serves_calls_but_holds_their_answers_back(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(api_late_answer_rate=1.0, api_timeout_ms=300)
    sdk = connect(sandbox)
    with pytest.raises(requests.Timeout):
        sdk.order.create({"amount": 10000, "currency": "INR", "receipt": "lost-1"}, timeout=0.1)
    patient = http.post(
        f"{sandbox.url}/v1/orders",
        json={"amount": 20000, "currency": "INR", "receipt": "late-1"},
        auth=(KEY_ID, KEY_SECRET),
        timeout=5,
    )
    assert patient.status_code == 200 and patient.json()["receipt"] == "late-1"

    http.patch(f"{sandbox.url}/_sandbox/config", json={"api_late_answer_rate": 0.0})
    lost = sdk.order.all({"receipt": "lost-1"})["items"]
    assert [(order["amount"], order["receipt"]) for order in lost] == [(10000, "lost-1")]
    assert sdk.order.all()["count"] == 2


def test_a_refund_key_still_being_processed_gets_razorpays_409(
    start_sandbox: Callable[..., BackgroundSandbox],
    http: requests.Session,
    connect: Callable[..., razorpay.Client],
) -> None:
    sandbox = start_sandbox(api_timeout_ms=1000)
    sdk = connect(sandbox)
    payment_id = paid_payment(sdk, http, sandbox)["id"]
    refund_url = f"{sandbox.url}/v1/payments/{payment_id}/refund"
    key = {"X-Refund-Idempotency": "refund-key-0001"}
    http.patch(f"{sandbox.url}/_sandbox/config", json={"api_timeout_rate": 1.0})
    with pytest.raises(requests.Timeout):  # the first hangs at Razorpay
        http.post(
            refund_url, json={"amount": 1000}, headers=key, auth=(KEY_ID, KEY_SECRET), timeout=0.2
        )
    http.patch(f"{sandbox.url}/_sandbox/config", json={"api_timeout_rate": 0.0})

    again = http.post(refund_url, json={"amount": 1000}, headers=key, auth=(KEY_ID, KEY_SECRET))
    other_key = {"X-Refund-Idempotency": "refund-key-0002"}
    other = http.post(
        refund_url, json={"amount": 1000}, headers=other_key, auth=(KEY_ID, KEY_SECRET)
    )

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "BAD_REQUEST_ERROR"
    assert other.status_code == 200
    deadline = time.monotonic() + 5
    while again.status_code == 409 and time.monotonic() < deadline:
        time.sleep(0.1)
        again = http.post(refund_url, json={"amount": 1000}, headers=key, auth=(KEY_ID, KEY_SECRET))
    assert again.status_code == 200  # the hung one changed nothing: this one is made
    assert sdk.payment.fetch_multiple_refund(payment_id)["count"] == 2


def test_events_can_be_redelivered(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    order = sdk.order.create({"amount": 10000, "currency": "INR"})
    pay(http, fresh_sandbox, order["id"], outcome="failure")
    (event,) = http.get(f"{fresh_sandbox.url}/_sandbox/events").json()

    url = f"{fresh_sandbox.url}/_sandbox/events/{event['id']}/redeliver"
    (record,) = http.post(url).json()
    assert (record["event_id"], record["redelivery"], record["delivered"]) == (
        event["id"],
        True,
        True,
    )
    first, again = receiver.received
    assert again.body == first.body
    for header in ("X-Razorpay-Event-Id", "X-Razorpay-Signature"):
        assert again.headers[header] == first.headers[header]
    assert len(http.get(f"{fresh_sandbox.url}/_sandbox/webhooks").json()) == 2
    unknown = http.post(f"{fresh_sandbox.url}/_sandbox/events/AAAAAAAAAAAAAA/redeliver")
    assert unknown.status_code == 400


def test_checkout_script_and_payment_page(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    for path in ("/v1/checkout.js", "/checkout.js"):
        script = http.get(f"{fresh_sandbox.url}{path}")
        assert "javascript" in script.headers["Content-Type"]
        assert "window.Razorpay" in script.text and "document.currentScript" in script.text

    order = sdk.order.create({"amount": 49900, "currency": "INR"})
    params = {"order_id": order["id"], "key_id": KEY_ID, "name": "Acme", "prefill_email": "a@b.c"}
    page = http.get(f"{fresh_sandbox.url}/checkout/pay", params=params)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    for text in ("₹499.00", "Acme", "a@b.c", "sandbox-pay-success", "sandbox-pay-failure"):
        assert text in page.text
    assert 'id="sandbox-close"' in page.text

    for bad in ({"key_id": "rzp_test_SomeoneElse001"}, {"order_id": "order_AAAAAAAAAAAAAA"}):
        error_page = http.get(f"{fresh_sandbox.url}/checkout/pay", params={**params, **bad})
        assert error_page.status_code == 400 and 'id="sandbox-error"' in error_page.text


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(49900, "INR", "₹499.00"), (100, "INR", "₹1.00"), (123456705, "USD", "$1,234,567.05")],
)
def test_amounts_are_formatted_from_subunits(amount: int, currency: str, text: str) -> None:
    assert format_amount(amount, currency) == text


def test_command_line_serves_until_sigterm() -> None:
    command = [sys.executable, "-m", "payments_service.sandbox", "--port", "0"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as process:
        assert process.stderr is not None
        url = ""
        for line in process.stderr:
            if "Razorpay sandbox on http://127.0.0.1:" in line:
                url = line.split(" on ", 1)[1].split()[0]
                break
        assert requests.get(f"{url}/_sandbox/config", timeout=5).json()["key_id"] == KEY_ID
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_sandbox_imports_nothing_else_from_the_service() -> None:
    for module in SANDBOX_PACKAGE.glob("*.py"):
        tree = ast.parse(module.read_text(), filename=str(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                outside = name.startswith("payments_service") and not name.startswith(
                    "payments_service.sandbox"
                )
                assert not outside, f"{module.name} imports {name}"
