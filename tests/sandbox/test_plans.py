"""Razorpay Plans in the sandbox, through the official SDK: create, fetch, list, and the
errors Razorpay answers for a bad plan or id."""

from __future__ import annotations

from typing import Any

import pytest
import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.helpers import assert_error, assert_same_shape
from tests.sandbox.subscription_helpers import MONTHLY_PLAN, new_plan, subscription_sample


def test_plan_create_answers_razorpays_plan_and_fetch_returns_it(sdk: razorpay.Client) -> None:
    plan = new_plan(sdk, item=MONTHLY_PLAN["item"] | {"description": "Pro tier"})

    assert_same_shape(plan, subscription_sample("composed/plan.create.sample.json"))
    assert plan["id"].startswith("plan_") and len(plan["id"]) == 19
    assert (plan["period"], plan["interval"], plan["notes"]) == ("monthly", 1, {"tier": "pro"})
    item = plan["item"]
    assert (item["amount"], item["unit_amount"], item["currency"]) == (49900, 49900, "INR")
    assert (item["type"], item["active"], item["description"]) == ("plan", True, "Pro tier")
    assert sdk.plan.fetch(plan["id"]) == plan


def test_plan_list_is_a_collection_newest_first_with_count(sdk: razorpay.Client) -> None:
    first = new_plan(sdk)
    second = new_plan(sdk, period="weekly", interval=2, notes={})

    listed = sdk.plan.all()
    one = sdk.plan.all({"count": 1})

    reference = subscription_sample("docs-api/plan.all.response.json")
    assert set(listed) == set(reference)
    assert [plan["id"] for plan in listed["items"]] == [second["id"], first["id"]]
    assert (listed["entity"], listed["count"]) == ("collection", 2)
    assert [plan["id"] for plan in one["items"]] == [second["id"]]
    assert second["notes"] == []


@pytest.mark.parametrize(
    ("changes", "description"),
    [
        ({"offer_id": "offer_X"}, "offer_id is/are not required and should not be sent"),
        (
            {"item": MONTHLY_PLAN["item"] | {"amount": 99}},
            "The amount must be at least INR 1.00.",
        ),
        ({"item": MONTHLY_PLAN["item"] | {"amount": "4990"}}, "The amount must be an integer."),
        ({"period": "hourly"}, "The selected period is invalid."),
        ({"period": "daily", "interval": 6}, "The interval must be at least 7 for a daily period"),
        ({"interval": 0}, "The interval must be at least 1."),
        ({"item": {"amount": 49900, "currency": "INR"}}, "The name field is required."),
        ({"item": MONTHLY_PLAN["item"] | {"currency": "XYZ"}}, "The selected currency is invalid."),
    ],
)
def test_invalid_plans_are_refused_with_razorpays_wording(
    sdk: razorpay.Client, changes: dict[str, Any], description: str
) -> None:
    assert_error(lambda: sdk.plan.create(MONTHLY_PLAN | changes), description)
    assert sdk.plan.all()["count"] == 0


def test_daily_plans_of_seven_days_or_more_are_accepted(sdk: razorpay.Client) -> None:
    plan = new_plan(sdk, period="daily", interval=7)

    assert (plan["period"], plan["interval"]) == ("daily", 7)


def test_unknown_and_malformed_plan_ids_get_razorpays_errors(sdk: razorpay.Client) -> None:
    assert_error(lambda: sdk.plan.fetch("plan_SbxNoSuchPlan1"), "The id provided does not exist")
    assert_error(lambda: sdk.plan.fetch("an_id"), "an_id is not a valid id")
    assert_error(lambda: sdk.plan.all({"count": 101}), "The count may not be greater than 100.")


def test_wrong_key_gets_401_on_plans(
    connect: Any, fresh_sandbox: BackgroundSandbox, http: requests.Session
) -> None:
    intruder = connect(fresh_sandbox, auth=("rzp_test_SandboxKey0001", "wrong"))
    with pytest.raises(razorpay.errors.BadRequestError):
        intruder.plan.all()
    response = http.get(f"{fresh_sandbox.url}/v1/plans", auth=("rzp_test_Other", "x"))
    assert response.status_code == 401
    assert response.json()["error"]["description"] == "The api key provided is invalid"
