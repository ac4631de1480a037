"""Subscription webhooks: each step's events, signed over the exact body, shaped like the
composed samples, and delivered through the sandbox's usual delivery (chaos included)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.helpers import (
    FIXTURES,
    WEBHOOK_SECRET,
    WebhookReceiver,
    assert_same_shape,
)
from tests.sandbox.subscription_helpers import (
    active_subscription,
    advance,
    assert_subscription_event,
    authenticate,
    new_plan,
    set_charge_outcome,
    subscription_sample,
)

STORY = [
    ("subscription.authenticated", "lifecycle.01.subscription.authenticated.sample.json"),
    ("subscription.activated", "lifecycle.02.subscription.activated.sample.json"),
    ("subscription.charged", "lifecycle.03.subscription.charged.sample.json"),
    ("invoice.paid", "lifecycle.04.invoice.paid.sample.json"),
]


def assert_signed(sdk: razorpay.Client, receiver: WebhookReceiver) -> None:
    """Every delivery carries a valid signature over its raw body and an event id."""
    for delivery in receiver.received:
        signature = delivery.headers["X-Razorpay-Signature"]
        assert sdk.utility.verify_webhook_signature(
            delivery.body.decode(), signature, WEBHOOK_SECRET
        )
        assert len(delivery.headers["X-Razorpay-Event-Id"]) == 14


def test_authentication_sends_the_composed_story_signed(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    plan = new_plan(sdk)
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3})

    result = authenticate(http, fresh_sandbox, sub["id"])

    assert receiver.events() == [name for name, _ in STORY] + ["payment.captured"]
    assert_signed(sdk, receiver)
    events = [delivery.event for delivery in receiver.received]
    for event, (name, sample_name) in zip(events[:3], STORY, strict=False):
        assert_subscription_event(event, name, sample_name)
    authenticated, activated = (event["payload"]["subscription"]["entity"] for event in events[:2])
    assert (authenticated["status"], authenticated["paid_count"]) == ("authenticated", 0)
    assert (activated["status"], activated["paid_count"]) == ("active", 1)
    invoice_paid = events[3]
    reference = subscription_sample(f"composed/{STORY[3][1]}")
    assert invoice_paid["contains"] == reference["contains"] == ["payment", "order", "invoice"]
    for key in ("order", "invoice"):
        assert_same_shape(invoice_paid["payload"][key], reference["payload"][key])
    invoice = invoice_paid["payload"]["invoice"]["entity"]
    assert (invoice["subscription_id"], invoice["status"]) == (sub["id"], "paid")
    payment = invoice_paid["payload"]["payment"]["entity"]
    assert payment["id"] == result["razorpay_payment_id"] == invoice["payment_id"]
    assert payment["invoice_id"] == invoice["id"]


def test_failed_cycle_sends_pending_then_halted_then_cancelled(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox)
    set_charge_outcome(http, fresh_sandbox, sub["id"], "failure")
    receiver.received.clear()

    advance(http, fresh_sandbox, to=sub["charge_at"] + 3 * 86_400)
    sdk.subscription.cancel(sub["id"])

    names = receiver.events()
    assert [name for name in names if name.startswith("subscription.")] == [
        "subscription.pending",
        "subscription.pending",
        "subscription.pending",
        "subscription.halted",
        "subscription.cancelled",
    ]
    assert names.count("payment.failed") == 4
    assert_signed(sdk, receiver)
    by_name = {delivery.event["event"]: delivery.event for delivery in receiver.received}
    assert_subscription_event(
        by_name["subscription.halted"],
        "subscription.halted",
        "lifecycle.06.subscription.halted.sample.json",
    )
    assert_subscription_event(
        by_name["subscription.cancelled"],
        "subscription.cancelled",
        "lifecycle.07.subscription.cancelled.sample.json",
    )
    first = receiver.received[0].event
    assert_subscription_event(
        first, "subscription.pending", "lifecycle.05.subscription.pending.sample.json"
    )
    assert first["payload"]["subscription"]["entity"]["auth_attempts"] == 1
    assert by_name["subscription.halted"]["payload"]["subscription"]["entity"]["auth_attempts"] == 4


def test_pause_resume_update_and_completion_events(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox, total_count=2)
    receiver.received.clear()

    sdk.subscription.pause(sub["id"], {"pause_at": "now"})
    sdk.subscription.resume(sub["id"], {"resume_at": "now"})
    sdk.subscription.edit(sub["id"], {"quantity": 2})
    advance(http, fresh_sandbox, to=sub["charge_at"])

    assert receiver.events() == [
        "subscription.paused",
        "subscription.resumed",
        "subscription.updated",
        "subscription.charged",
        "subscription.completed",
        "invoice.paid",
        "payment.captured",
    ]
    assert_signed(sdk, receiver)
    events = {delivery.event["event"]: delivery.event for delivery in receiver.received}
    for name in ("paused", "resumed", "updated", "completed"):
        docs = subscription_sample(f"docs-webhooks/subscription.{name}.json")
        event = events[f"subscription.{name}"]
        assert event["contains"] == docs["contains"]
        assert_subscription_event(event, f"subscription.{name}")
    paused = events["subscription.paused"]["payload"]["subscription"]["entity"]
    resumed = events["subscription.resumed"]["payload"]["subscription"]["entity"]
    assert (paused["status"], paused["pause_initiated_by"]) == ("paused", "self")
    assert (resumed["status"], resumed["pause_initiated_by"]) == ("active", None)
    completed = events["subscription.completed"]["payload"]["subscription"]["entity"]
    assert (completed["status"], completed["remaining_count"]) == ("completed", 0)


def test_duplicated_subscription_webhooks_keep_their_event_id(
    start_sandbox: Callable[..., BackgroundSandbox],
    connect: Callable[..., razorpay.Client],
    http: requests.Session,
    receiver: WebhookReceiver,
) -> None:
    sandbox = start_sandbox(webhook_duplicates=2)
    sdk = connect(sandbox)
    plan = new_plan(sdk)
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3})

    authenticate(http, sandbox, sub["id"])

    ids = [delivery.headers["X-Razorpay-Event-Id"] for delivery in receiver.received]
    assert len(ids) == 10 and len(set(ids)) == 5
    assert all(ids.count(event_id) == 2 for event_id in ids)


def test_copied_story_files_are_the_bytes_their_signatures_cover() -> None:
    vectors = subscription_sample("composed/lifecycle.signatures.sample.json")
    for delivery in vectors["deliveries"]:
        body = (FIXTURES / "subscriptions" / delivery["file"]).read_bytes()
        digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert digest == delivery["headers"]["X-Razorpay-Signature"], delivery["file"]


def test_shuffled_subscription_webhooks_arrive_all_in_another_order(
    start_sandbox: Callable[..., BackgroundSandbox],
    connect: Callable[..., razorpay.Client],
    http: requests.Session,
    receiver: WebhookReceiver,
) -> None:
    sandbox = start_sandbox(webhook_shuffle=True, seed=7)
    sdk = connect(sandbox)
    plan = new_plan(sdk)
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3})

    authenticate(http, sandbox, sub["id"])

    in_order = [name for name, _ in STORY] + ["payment.captured"]
    assert sorted(receiver.events()) == sorted(in_order)
    assert receiver.events() != in_order
    recorded = [event["event"] for event in http.get(f"{sandbox.url}/_sandbox/events").json()]
    assert recorded == in_order
    assert_signed(sdk, receiver)
