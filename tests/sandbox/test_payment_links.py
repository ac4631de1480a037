"""Payment links through the official SDK 2.0.1: create, fetch, list, update, cancel and
resend answer Razorpay's shapes, and every rule the sandbox enforces answers Razorpay's error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.helpers import (
    KEY_ID,
    KEY_SECRET,
    WebhookReceiver,
    assert_error,
    assert_same_shape,
)
from tests.sandbox.link_helpers import (
    FIFTEEN_MINUTES,
    advance_clock,
    clock_now,
    link_request,
    link_sample,
    pay_link,
)

Json = dict[str, Any]
CREATE_SAMPLE = "composed/lifecycle.01.payment_link.create.sample.json"


def test_a_created_link_has_the_sample_shape_no_order_and_a_sandbox_short_url(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    body = link_request(http, fresh_sandbox)
    now = clock_now(http, fresh_sandbox)

    link = sdk.payment_link.create(body)

    expected = link_sample(CREATE_SAMPLE)["response"]
    assert list(link) == list(expected)  # the same keys, alphabetical; no entity, no order_id
    assert_same_shape(link, expected)
    assert link["id"].startswith("plink_") and len(link["id"]) == 20
    assert (link["status"], link["amount_paid"], link["payments"]) == ("created", 0, None)
    assert (link["cancelled_at"], link["expired_at"], link["reminders"]) == (0, 0, [])
    for name in ("amount", "accept_partial", "first_min_partial_amount", "reference_id"):
        assert link[name] == body[name]
    assert link["notes"] == body["notes"] and link["customer"] == body["customer"]
    assert link["expire_by"] == body["expire_by"] and now <= link["created_at"] <= now + 5
    assert link["short_url"].startswith(f"{fresh_sandbox.url}/i/")
    assert http.get(link["short_url"]).status_code == 200


def test_a_link_with_only_an_amount_shows_empty_values_and_zero_times(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    auth = (KEY_ID, KEY_SECRET)
    # The docs' curl posts to the URL with a trailing slash; the SDK posts without one.
    answer = http.post(f"{fresh_sandbox.url}/v1/payment_links/", json={"amount": 100}, auth=auth)

    assert answer.status_code == 200, answer.text
    link = answer.json()
    assert link["currency"] == "INR" and link["accept_partial"] is False
    assert (link["reference_id"], link["description"], link["callback_url"]) == ("", "", "")
    assert (link["customer"], link["notes"], link["expire_by"]) == ([], [], 0)
    assert (link["first_min_partial_amount"], link["upi_link"], link["user_id"]) == (0, False, "")
    assert link["notify"] == {"email": False, "sms": False, "whatsapp": False}
    assert sdk.payment_link.fetch(link["id"]) == link


def test_fetch_and_all_answer_links_under_payment_links_filtered_by_reference_or_payment(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    first = sdk.payment_link.create(link_request(http, fresh_sandbox, reference_id="R-1"))
    second = sdk.payment_link.create(link_request(http, fresh_sandbox, reference_id="R-2"))
    payment_id = pay_link(http, fresh_sandbox, second["id"]).json()["razorpay_payment_id"]

    listed = sdk.payment_link.all()

    assert list(listed) == ["payment_links"]  # not Razorpay's usual collection
    assert [link["id"] for link in listed["payment_links"]] == [second["id"], first["id"]]
    assert sdk.payment_link.all({"reference_id": "R-1"})["payment_links"] == [
        sdk.payment_link.fetch(first["id"])
    ]
    by_payment = sdk.payment_link.all({"payment_id": payment_id})["payment_links"]
    assert [link["id"] for link in by_payment] == [second["id"]]
    assert sdk.payment_link.all({"reference_id": "none"}) == {"payment_links": []}
    for reference in (
        link_sample("docs-api/payment_link.all.response.json")["payment_links"][0],
        link_sample("sdk-python-mocks/payment_link_collection.json")["payment_links"][0],
    ):
        assert set(by_payment[0]) >= set(reference)
    assert set(sdk.payment_link.fetch(second["id"])) >= set(
        link_sample("docs-api/payment_link.fetch.response.json")
    )


def test_edit_changes_the_five_editable_fields_of_a_created_link(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    link = sdk.payment_link.create(link_request(http, fresh_sandbox))
    advance_clock(http, fresh_sandbox, 60)
    expire_by = clock_now(http, fresh_sandbox) + 2 * 24 * 60 * 60
    changes = {
        "reference_id": "INV-2026-0043",
        "expire_by": expire_by,
        "notes": {"invoice_ref": "INV-2026-0043"},
        "accept_partial": False,
        "reminder_enable": True,
    }

    edited = sdk.payment_link.edit(link["id"], changes)

    assert {name: edited[name] for name in changes} == changes
    assert edited["updated_at"] >= link["updated_at"] + 60
    assert sdk.payment_link.fetch(link["id"]) == edited


def test_cancel_ends_a_created_link_and_sends_payment_link_cancelled(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    link = sdk.payment_link.create(link_request(http, fresh_sandbox))

    cancelled = sdk.payment_link.cancel(link["id"])

    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"] >= link["created_at"]
    assert receiver.events() == ["payment_link.cancelled"]
    event = receiver.received[0].event
    reference = link_sample("docs-webhooks/payment_link.cancelled.standard.json")
    assert event["contains"] == reference["contains"] == ["payment_link"]
    assert_same_shape(event, reference | {"payload": None})
    entity = event["payload"]["payment_link"]["entity"]
    assert set(entity) == set(reference["payload"]["payment_link"]["entity"])
    assert entity == {key: value for key, value in cancelled.items() if key != "payments"}
    assert http.get(link["short_url"]).status_code == 200  # the page says it is cancelled


def test_notify_by_sms_or_email_answers_success(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    link = sdk.payment_link.create(link_request(http, fresh_sandbox))
    expected = link_sample("docs-api/payment_link.notify.response.json")

    assert sdk.payment_link.notifyBy(link["id"], "sms") == expected == {"success": True}
    assert sdk.payment_link.notifyBy(link["id"], "email") == expected
    sdk.payment_link.cancel(link["id"])
    ended = f"invalid input [id] = [{link['id']}]"  # a link that takes no more payments
    assert_error(lambda: sdk.payment_link.notifyBy(link["id"], "sms"), ended)


def test_a_reference_id_is_refused_once_any_link_of_the_account_used_it(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    first = sdk.payment_link.create(link_request(http, fresh_sandbox))
    other = sdk.payment_link.create(link_request(http, fresh_sandbox, reference_id="OTHER"))
    sdk.payment_link.cancel(first["id"])
    duplicate = "payment link creation with reference ID already attempted"

    assert_error(lambda: sdk.payment_link.create(link_request(http, fresh_sandbox)), duplicate)
    edit = {"reference_id": first["reference_id"]}
    assert_error(lambda: sdk.payment_link.edit(other["id"], edit), duplicate)
    assert sdk.payment_link.edit(other["id"], {"reference_id": "OTHER"})["reference_id"] == "OTHER"


Scenario = Callable[[razorpay.Client, requests.Session, BackgroundSandbox], requests.Response]


def _raw(
    http: requests.Session, sandbox: BackgroundSandbox, method: str, path: str, **kwargs: Any
) -> requests.Response:
    """A call as the SDK makes it, answered raw so that status and body can be compared."""
    kwargs.setdefault("auth", (KEY_ID, KEY_SECRET))
    return http.request(method, f"{sandbox.url}/v1/payment_links{path}", **kwargs)


def _create(http: requests.Session, sandbox: BackgroundSandbox, **fields: Any) -> requests.Response:
    return _raw(http, sandbox, "POST", "", json=fields)


def _existing_link(sdk: Any, http: requests.Session, sandbox: BackgroundSandbox) -> str:
    link_id: str = sdk.payment_link.create(link_request(http, sandbox))["id"]
    return link_id


def _duplicate_reference(sdk: Any, http: requests.Session, sb: BackgroundSandbox) -> Any:
    _existing_link(sdk, http, sb)
    return _raw(http, sb, "POST", "", json=link_request(http, sb))


def _expiring_too_soon(sdk: Any, http: requests.Session, sb: BackgroundSandbox) -> Any:
    return _create(http, sb, amount=100, expire_by=clock_now(http, sb) + FIFTEEN_MINUTES - 60)


def _update_cancelled(sdk: Any, http: requests.Session, sb: BackgroundSandbox) -> Any:
    link_id = sdk.payment_link.cancel(_existing_link(sdk, http, sb))["id"]
    return _raw(http, sb, "PATCH", f"/{link_id}", json={"notes": {}})


def _cancel_partially_paid(sdk: Any, http: requests.Session, sb: BackgroundSandbox) -> Any:
    link_id = _existing_link(sdk, http, sb)
    pay_link(http, sb, link_id, amount=20000)
    return _raw(http, sb, "POST", f"/{link_id}/cancel", json={})


def _cancel_cancelled(sdk: Any, http: requests.Session, sb: BackgroundSandbox) -> Any:
    link_id = sdk.payment_link.cancel(_existing_link(sdk, http, sb))["id"]
    return _raw(http, sb, "POST", f"/{link_id}/cancel", json={})


def _notify_by_whatsapp(sdk: Any, http: requests.Session, sb: BackgroundSandbox) -> Any:
    link_id = _existing_link(sdk, http, sb)
    return _raw(http, sb, "POST", f"/{link_id}/notify_by/whatsapp", json={})


# The situations of the composed error sample, by their index in it.
ERROR_SCENARIOS: dict[int, Scenario] = {
    0: lambda sdk, http, sb: _raw(http, sb, "POST", "", json={}, auth=("rzp_test_x", "y")),
    1: lambda sdk, http, sb: _create(http, sb, currency="INR"),
    2: lambda sdk, http, sb: _create(http, sb, amount=100, colour="red"),
    3: _duplicate_reference,
    4: _expiring_too_soon,
    5: lambda sdk, http, sb: _create(http, sb, amount=100, upi_link=True),
    6: lambda sdk, http, sb: _create(http, sb, amount=100, upi_link=True, accept_partial=True),
    7: lambda sdk, http, sb: _create(http, sb, amount=100, upi_link=True, currency="USD"),
    8: lambda sdk, http, sb: _create(http, sb, amount=100, notes={"long": "x" * 256}),
    9: lambda sdk, http, sb: _raw(http, sb, "GET", "/plink_SbxPlink000001"),
    10: lambda sdk, http, sb: _raw(http, sb, "GET", "/plink_xxxxxxxxxxxx"),
    11: _update_cancelled,
    12: _cancel_partially_paid,
    13: _cancel_cancelled,
    14: _notify_by_whatsapp,
}


@pytest.mark.parametrize("index", sorted(ERROR_SCENARIOS))
def test_every_documented_error_has_razorpays_status_code_and_description(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox, index: int
) -> None:
    example = link_sample("composed/api-errors.sample.json")["examples"][index]

    answer = ERROR_SCENARIOS[index](sdk, http, fresh_sandbox)

    assert answer.status_code == example["http_status"], answer.text
    error = answer.json()["error"]
    expected = example["body"]["error"]
    assert (error["code"], error["description"]) == (expected["code"], expected["description"])
    if "field" in expected:
        assert error["field"] == expected["field"]


@pytest.mark.parametrize(
    ("fields", "description"),
    [
        ({"amount": 99}, "The amount must be at least INR 1.00"),
        ({"amount": 100.5}, "The amount must be an integer."),
        ({"amount": 100, "accept_partial": "yes"}, "wrong input fields sent."),
        ({"amount": 100, "customer": {"name": "A", "age": 3}}, "wrong input fields sent."),
        ({"amount": 100, "notes": {str(n): n for n in range(16)}}, "less than or equal to 15"),
        ({"amount": 100, "callback_url": "http://127.0.0.1/cb"}, "callback_method field is"),
        (
            {"amount": 100, "callback_url": "http://127.0.0.1/cb", "callback_method": "post"},
            "The selected callback method is invalid.",
        ),
        ({"amount": 100, "callback_url": "/relative", "callback_method": "get"}, "url format"),
        ({"amount": 100, "expire_by": 185 * 24 * 60 * 60}, "within 6 months"),
        ({"amount": 100, "first_min_partial_amount": 100}, "wrong input fields sent."),
        (
            {"amount": 100, "accept_partial": True, "first_min_partial_amount": 200},
            "must not be greater than the amount",
        ),
    ],
)
def test_create_refuses_what_razorpay_refuses(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    fields: Json,
    description: str,
) -> None:
    if "expire_by" in fields:  # relative to the sandbox clock
        fields = fields | {"expire_by": clock_now(http, fresh_sandbox) + fields["expire_by"]}

    assert_error(lambda: sdk.payment_link.create(fields), description)
    assert sdk.payment_link.all() == {"payment_links": []}


def test_update_takes_only_the_editable_fields_and_only_before_the_link_is_paid(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    link = sdk.payment_link.create(link_request(http, fresh_sandbox))
    wrong = "wrong input fields sent."
    assert_error(lambda: sdk.payment_link.edit(link["id"], {"amount": 100}), wrong)
    assert_error(lambda: sdk.payment_link.edit(link["id"], {}), wrong)

    pay_link(http, fresh_sandbox, link["id"], amount=20000)  # partially paid: still editable
    assert sdk.payment_link.edit(link["id"], {"notes": {"a": "b"}})["notes"] == {"a": "b"}
    assert_error(
        lambda: sdk.payment_link.cancel(link["id"]),
        "cannot cancel or expire an already paid/partially paid link",
    )
    pay_link(http, fresh_sandbox, link["id"])  # the rest: paid
    assert_error(
        lambda: sdk.payment_link.edit(link["id"], {"notes": {}}),
        "update can only be made in created or partially paid state",
    )
    assert sdk.payment_link.fetch(link["id"])["notes"] == {"a": "b"}
