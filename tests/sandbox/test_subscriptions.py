"""Razorpay Subscriptions in the sandbox through the official SDK: create, fetch, list,
update (``edit``), cancel, pause and resume, and the state errors Razorpay answers."""

from __future__ import annotations

from typing import Any

import pytest
import razorpay
import requests
from razorpay.errors import BadRequestError

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.helpers import assert_error, assert_same_shape
from tests.sandbox.subscription_helpers import (
    DAY,
    PAUSE_KEYS,
    active_subscription,
    advance,
    assert_subscription_shape,
    authenticate,
    clock_now,
    new_plan,
    subscription_sample,
)

NOT_UPDATABLE = (
    "Can't update Subscription when Subscription is not in Authenticated or Active state"
)


def test_create_answers_a_created_subscription_like_razorpays(
    sdk: razorpay.Client, fresh_sandbox: BackgroundSandbox
) -> None:
    plan = new_plan(sdk)
    composed = subscription_sample("composed/subscription.create.sample.json")
    request = composed["request"] | {"plan_id": plan["id"], "expire_by": None}

    sub = sdk.subscription.create(request)

    assert_same_shape(sub, composed["response"])
    assert sub["id"].startswith("sub_") and sub["status"] == "created"
    assert (sub["customer_id"], sub["start_at"], sub["charge_at"], sub["end_at"]) == (None,) * 4
    assert (sub["total_count"], sub["remaining_count"], sub["paid_count"]) == (3, 3, 0)
    assert (sub["customer_notify"], sub["notes"]) == (False, {"account_ref": "acct_42"})
    assert sub["short_url"].startswith(f"{fresh_sandbox.url}/checkout/subscription?")
    assert sdk.subscription.fetch(sub["id"]) == sub


def test_future_start_shows_its_schedule_from_creation(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    plan = new_plan(sdk, period="weekly", interval=1)
    start = clock_now(http, fresh_sandbox) + 3 * DAY

    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 4, "start_at": start})

    assert (sub["start_at"], sub["charge_at"]) == (start, start)
    assert sub["end_at"] == start + 3 * 7 * DAY


def test_list_filters_by_plan_and_pages(sdk: razorpay.Client) -> None:
    gold, silver = new_plan(sdk), new_plan(sdk)
    first = sdk.subscription.create({"plan_id": gold["id"], "total_count": 2})
    second = sdk.subscription.create({"plan_id": gold["id"], "total_count": 2})
    sdk.subscription.create({"plan_id": silver["id"], "total_count": 2})

    of_gold = sdk.subscription.all({"plan_id": gold["id"]})
    page = sdk.subscription.all({"count": 1, "skip": 1})

    assert [sub["id"] for sub in of_gold["items"]] == [second["id"], first["id"]]
    assert (of_gold["entity"], of_gold["count"]) == ("collection", 2)
    assert [sub["id"] for sub in page["items"]] == [second["id"]]


@pytest.mark.parametrize(
    ("changes", "description"),
    [
        ({"plan_id": "plan_SbxNoSuchPlan1"}, "The id provided does not exist"),
        ({"total_count": 0}, "The total_count must be at least 1."),
        ({"quantity": "2"}, "The quantity must be an integer."),
        ({"expire_by": 1_000_000_000}, "Link expire by cannot be lesser than the current time."),
        ({"offer_id": "offer_JHD834hjbxzhd38d"}, "Offer Not Found"),
        ({"customer_notify": 2}, "The customer_notify field may have 0 or 1 values."),
        ({"total_count": 2000}, "end_time must be between 946684800 and 4765046400"),
        ({"trial_days": 3}, "trial_days is/are not required and should not be sent"),
    ],
)
def test_invalid_subscriptions_are_refused(
    sdk: razorpay.Client, changes: dict[str, Any], description: str
) -> None:
    plan = new_plan(sdk)
    body = {"plan_id": plan["id"], "total_count": 3} | changes

    assert_error(lambda: sdk.subscription.create(body), description)
    assert sdk.subscription.all()["count"] == 0


def test_malformed_and_unknown_subscription_ids(sdk: razorpay.Client) -> None:
    assert_error(lambda: sdk.subscription.fetch("sub_SbxNoSuchSub01"), "does not exist")
    assert_error(lambda: sdk.subscription.fetch("ub_id"), "ub_id is not a valid id")


def test_cancel_now_ends_it_and_a_second_cancel_is_refused(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox)

    before = clock_now(http, fresh_sandbox)
    cancelled = sdk.subscription.cancel(sub["id"])

    assert (cancelled["status"], cancelled["charge_at"]) == ("cancelled", None)
    assert before <= cancelled["ended_at"] <= clock_now(http, fresh_sandbox)
    assert_subscription_shape(cancelled)
    with pytest.raises(BadRequestError) as caught:
        sdk.subscription.cancel(sub["id"])
    assert str(caught.value) == "Subscription is not cancellable in cancelled status."


def test_a_created_subscription_can_be_cancelled_before_authentication(
    sdk: razorpay.Client,
) -> None:
    plan = new_plan(sdk)
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3})

    assert sdk.subscription.cancel(sub["id"])["status"] == "cancelled"


def test_an_expired_subscription_is_not_cancellable(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    plan = new_plan(sdk)
    expire_by = clock_now(http, fresh_sandbox) + DAY
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3, "expire_by": expire_by})

    assert advance(http, fresh_sandbox, days=2) == []

    assert sdk.subscription.fetch(sub["id"])["status"] == "expired"
    assert_error(
        lambda: sdk.subscription.cancel(sub["id"]),
        "Subscription is not cancellable in expired status.",
    )


def test_pause_and_resume_answer_paused_then_active(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox)

    before = clock_now(http, fresh_sandbox)
    paused = sdk.subscription.pause(sub["id"], {"pause_at": "now"})
    resumed = sdk.subscription.resume(sub["id"], {"resume_at": "now"})

    assert (paused["status"], paused["charge_at"], paused["pause_initiated_by"]) == (
        "paused",
        None,
        "self",
    )
    assert before <= paused["paused_at"] <= clock_now(http, fresh_sandbox)
    assert PAUSE_KEYS <= set(paused)
    assert set(subscription_sample("docs-api/subscription.pause.response.json")) <= set(paused)
    assert (resumed["status"], resumed["pause_initiated_by"]) == ("active", None)
    assert resumed["charge_at"] == sub["charge_at"]
    assert resumed["paused_at"] == paused["paused_at"]
    assert_subscription_shape(resumed, paused=True)


def test_pause_and_resume_are_refused_in_the_wrong_state(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    plan = new_plan(sdk)
    created = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3})
    active = active_subscription(sdk, http, fresh_sandbox)

    assert_error(
        lambda: sdk.subscription.pause(created["id"], {"pause_at": "now"}),
        "Subscription cannot be paused in created status",
    )
    assert_error(
        lambda: sdk.subscription.resume(active["id"], {"resume_at": "now"}),
        "Subscription cannot be resumed in active status",
    )
    assert_error(
        lambda: sdk.subscription.pause(active["id"], {"pause_at": "tomorrow"}),
        "The selected pause at is invalid.",
    )


def test_pausing_an_authenticated_subscription_cancels_it(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    plan = new_plan(sdk)
    start = clock_now(http, fresh_sandbox) + 5 * DAY
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3, "start_at": start})
    authenticate(http, fresh_sandbox, sub["id"])

    answer = sdk.subscription.pause(sub["id"], {"pause_at": "now"})

    assert answer["status"] == "cancelled"


def test_edit_changes_quantity_and_plan_now_without_changing_status(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox)
    bigger = new_plan(sdk, item={"name": "Max", "amount": 99900, "currency": "INR"})

    edited = sdk.subscription.edit(sub["id"], {"plan_id": bigger["id"], "quantity": 2})

    assert (edited["plan_id"], edited["quantity"], edited["status"]) == (
        bigger["id"],
        2,
        "active",
    )
    assert edited["has_scheduled_changes"] is False
    assert not hasattr(sdk.subscription, "update")  # SDK 2.0.1 names it edit


def test_edit_at_cycle_end_is_scheduled_retrievable_and_cancellable(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox)

    scheduled = sdk.subscription.edit(sub["id"], {"quantity": 3, "schedule_change_at": "cycle_end"})
    pending = sdk.subscription.pending_update(sub["id"])
    dropped = sdk.subscription.cancel_scheduled_changes(sub["id"])

    assert (scheduled["quantity"], scheduled["has_scheduled_changes"]) == (1, True)
    assert scheduled["change_scheduled_at"] == sub["current_end"]
    assert (pending["quantity"], pending["has_scheduled_changes"]) == (3, False)
    assert (dropped["quantity"], dropped["has_scheduled_changes"]) == (1, False)
    assert_error(
        lambda: sdk.subscription.pending_update(sub["id"]),
        "Subscription does not have any scheduled changes",
    )


def test_scheduled_edit_applies_at_the_cycle_end_before_the_charge(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox)
    sdk.subscription.edit(sub["id"], {"quantity": 2, "schedule_change_at": "cycle_end"})

    events = advance(http, fresh_sandbox, to=sub["charge_at"])

    assert events[:2] == ["subscription.updated", "subscription.charged"]
    invoices = sdk.invoice.all({"subscription_id": sub["id"]})["items"]
    assert invoices[0]["amount"] == 2 * 49900
    assert sdk.subscription.fetch(sub["id"])["quantity"] == 2


def test_edit_is_refused_outside_authenticated_or_active_and_for_upi(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    plan = new_plan(sdk)
    created = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3})
    upi = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3})
    authenticate(http, fresh_sandbox, upi["id"], method="upi")
    card = active_subscription(sdk, http, fresh_sandbox)

    assert_error(lambda: sdk.subscription.edit(created["id"], {"quantity": 2}), NOT_UPDATABLE)
    assert_error(
        lambda: sdk.subscription.edit(upi["id"], {"quantity": 2}),
        "subscriptions cannot be updated when payment mode is UPI",
    )
    assert_error(
        lambda: sdk.subscription.edit(card["id"], {"offer_id": "offer_X"}), "Offer Not Found"
    )
    sdk.subscription.pause(card["id"], {"pause_at": "now"})
    assert_error(lambda: sdk.subscription.edit(card["id"], {"quantity": 2}), NOT_UPDATABLE)


def test_cancel_accepts_the_node_sdks_integer_flag(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox)

    answer = http.post(
        f"{fresh_sandbox.url}/v1/subscriptions/{sub['id']}/cancel",
        json={"cancel_at_cycle_end": 1},
        auth=("rzp_test_SandboxKey0001", "sandbox_key_secret"),
    )

    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["ended_at"]) == ("active", None)
