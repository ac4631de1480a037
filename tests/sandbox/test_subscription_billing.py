"""Subscription billing on the sandbox clock: renewals, Razorpay's retry rule (pending, three
daily retries, then halted), recovery, cycle-end cancellation, completion and pauses, moved
by the sandbox's ``/_sandbox/clock/advance`` and ``/_sandbox/subscriptions/<id>/charge``
controls."""

from __future__ import annotations

import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.subscription_helpers import (
    DAY,
    active_subscription,
    advance,
    clock_now,
    control,
    set_charge_outcome,
)

CHARGED = ["subscription.charged", "invoice.paid", "payment.captured"]
PENDING = ["subscription.pending", "payment.failed"]


def test_the_clock_renews_at_charge_at_with_a_new_invoice_and_payment(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox)

    assert advance(http, fresh_sandbox, to=sub["charge_at"] - 1) == []
    assert advance(http, fresh_sandbox, seconds=1) == CHARGED

    renewed = sdk.subscription.fetch(sub["id"])
    assert (renewed["paid_count"], renewed["remaining_count"]) == (2, 1)
    assert renewed["current_start"] == sub["charge_at"] == sub["current_end"]
    assert renewed["charge_at"] == renewed["current_end"] == renewed["end_at"]
    invoices = sdk.invoice.all({"subscription_id": sub["id"]})["items"]
    assert [invoice["status"] for invoice in invoices] == ["paid", "paid"]
    newest = invoices[0]
    assert (newest["billing_start"], newest["billing_end"]) == (
        renewed["current_start"],
        renewed["current_end"],
    )
    payment = sdk.payment.fetch(newest["payment_id"])
    assert (payment["status"], payment["invoice_id"], payment["created_at"]) == (
        "captured",
        newest["id"],
        sub["charge_at"],
    )


def test_failed_charges_go_pending_retry_daily_and_halt_after_three_days(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox)
    set_charge_outcome(http, fresh_sandbox, sub["id"], "failure")
    due = sub["charge_at"]

    assert advance(http, fresh_sandbox, to=due) == PENDING
    first = sdk.subscription.fetch(sub["id"])
    assert (first["status"], first["auth_attempts"], first["charge_at"]) == (
        "pending",
        1,
        due + DAY,
    )
    assert (first["remaining_count"], first["current_start"]) == (1, due)
    assert advance(http, fresh_sandbox, days=1) == PENDING
    assert advance(http, fresh_sandbox, days=1) == PENDING
    assert advance(http, fresh_sandbox, to=due + 3 * DAY - 1) == []
    assert advance(http, fresh_sandbox, seconds=1) == ["subscription.halted", "payment.failed"]

    halted = sdk.subscription.fetch(sub["id"])
    assert (halted["status"], halted["auth_attempts"]) == ("halted", 4)
    assert halted["charge_at"] == halted["current_end"]
    open_invoice = sdk.invoice.all({"subscription_id": sub["id"]})["items"][0]
    assert (open_invoice["status"], open_invoice["payment_id"]) == ("issued", None)
    attempts = sdk.order.payments(open_invoice["order_id"])["items"]
    assert [payment["status"] for payment in attempts] == ["failed"] * 4
    assert {payment["invoice_id"] for payment in attempts} == {open_invoice["id"]}


def test_a_retry_that_succeeds_charges_then_reactivates(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox)
    set_charge_outcome(http, fresh_sandbox, sub["id"], "failure")
    advance(http, fresh_sandbox, to=sub["charge_at"])
    set_charge_outcome(http, fresh_sandbox, sub["id"], "success")

    events = advance(http, fresh_sandbox, days=1)

    assert events == ["subscription.charged", "subscription.activated", *CHARGED[1:]]
    recovered = sdk.subscription.fetch(sub["id"])
    assert (recovered["status"], recovered["auth_attempts"], recovered["paid_count"]) == (
        "active",
        0,
        2,
    )
    assert recovered["charge_at"] == recovered["current_end"]


def test_charge_now_control_fails_and_recovers_a_halted_subscription(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox, total_count=6)
    path = f"subscriptions/{sub['id']}/charge"

    answers = [control(http, fresh_sandbox, path, outcome="failure") for _ in range(4)]
    recovered = control(http, fresh_sandbox, path, outcome="success")

    assert [answer["subscription"]["status"] for answer in answers] == ["pending"] * 3 + ["halted"]
    assert answers[-1]["events"] == ["subscription.halted", "payment.failed"]
    assert recovered["events"] == ["subscription.charged", "subscription.activated", *CHARGED[1:]]
    assert recovered["subscription"]["status"] == "active"
    assert recovered["payment"]["status"] == "captured"


def test_charge_now_is_refused_for_a_subscription_that_cannot_be_charged(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox)
    sdk.subscription.pause(sub["id"], {"pause_at": "now"})

    refused = http.post(
        f"{fresh_sandbox.url}/_sandbox/subscriptions/{sub['id']}/charge",
        json={"outcome": "success"},
    )

    assert refused.status_code == 400
    assert refused.json()["error"]["description"] == (
        "Subscription cannot be charged in paused status"
    )


def test_cancel_at_cycle_end_takes_effect_when_the_cycle_ends_without_a_charge(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox)

    answer = sdk.subscription.cancel(sub["id"], {"cancel_at_cycle_end": True})

    assert (answer["status"], answer["ended_at"]) == ("active", None)
    assert advance(http, fresh_sandbox, to=sub["current_end"] - 1) == []
    assert advance(http, fresh_sandbox, seconds=1) == ["subscription.cancelled"]
    ended = sdk.subscription.fetch(sub["id"])
    assert (ended["status"], ended["ended_at"], ended["charge_at"]) == (
        "cancelled",
        sub["current_end"],
        None,
    )
    assert ended["paid_count"] == 1
    assert advance(http, fresh_sandbox, days=90) == []


def test_completed_after_total_count_charges(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox, total_count=2)

    events = advance(http, fresh_sandbox, to=sub["charge_at"])

    assert events == ["subscription.charged", "subscription.completed", *CHARGED[1:]]
    done = sdk.subscription.fetch(sub["id"])
    assert (done["status"], done["paid_count"], done["remaining_count"]) == ("completed", 2, 0)
    assert (done["charge_at"], done["ended_at"]) == (None, sub["charge_at"])
    assert advance(http, fresh_sandbox, days=400) == []


def test_a_paused_subscription_is_not_charged_and_resumes_on_the_next_cycle(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox, total_count=3)
    sdk.subscription.pause(sub["id"], {"pause_at": "now"})

    assert advance(http, fresh_sandbox, days=40) == []
    resumed = sdk.subscription.resume(sub["id"], {"resume_at": "now"})

    now = clock_now(http, fresh_sandbox)
    assert resumed["status"] == "active"
    assert now < resumed["charge_at"] < now + 31 * DAY
    assert (resumed["paid_count"], resumed["remaining_count"]) == (1, 2)
    assert advance(http, fresh_sandbox, to=resumed["charge_at"]) == CHARGED


def test_an_unauthenticated_subscription_expires_at_its_start(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    plan = sdk.plan.create(
        {"period": "weekly", "interval": 1, "item": {"name": "W", "amount": 100, "currency": "INR"}}
    )
    start = clock_now(http, fresh_sandbox) + DAY
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 2, "start_at": start})

    assert advance(http, fresh_sandbox, days=1) == []

    assert sdk.subscription.fetch(sub["id"])["status"] == "expired"
    refused = http.post(
        f"{fresh_sandbox.url}/_sandbox/subscriptions/{sub['id']}/pay", json={"outcome": "success"}
    )
    assert refused.status_code == 400


def test_the_clock_only_moves_forward(
    http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    before = clock_now(http, fresh_sandbox)

    back = http.post(f"{fresh_sandbox.url}/_sandbox/clock/advance", json={"seconds": -5})
    past = http.post(f"{fresh_sandbox.url}/_sandbox/clock/advance", json={"to": before - 60})
    moved = control(http, fresh_sandbox, "clock/advance", days=2, seconds=5)

    assert back.status_code == past.status_code == 400
    assert moved["offset_seconds"] == 2 * DAY + 5
    assert moved["now"] >= before + 2 * DAY + 5
