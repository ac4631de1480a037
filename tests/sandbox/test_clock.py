"""The sandbox has one clock: payment links and subscriptions run on it, one advance does
everything it passes in time order, and the state file keeps its single offset (files of
the two earlier clocks still load)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox, SandboxConfig, start_background
from tests.sandbox.helpers import Json, WebhookReceiver
from tests.sandbox.link_helpers import advance_clock, link_request
from tests.sandbox.subscription_helpers import CHARGED_EVENTS, DAY, active_subscription, control


@pytest.fixture
def started() -> Iterator[list[BackgroundSandbox]]:
    sandboxes: list[BackgroundSandbox] = []
    yield sandboxes
    for sandbox in sandboxes:
        sandbox.stop()


def start(path: Path, started: list[BackgroundSandbox]) -> BackgroundSandbox:
    sandbox = start_background(SandboxConfig(webhook_delivery="off"), state_file=path)
    started.append(sandbox)
    return sandbox


def offset(http: requests.Session, sandbox: BackgroundSandbox) -> int:
    seconds: int = http.get(f"{sandbox.url}/_sandbox/clock").json()["offset_seconds"]
    return seconds


def about(event: Json) -> tuple[str, str]:
    """An event's name and the id of the link or subscription it is about."""
    payload = event["payload"]
    entity = payload["payment_link" if "payment_link" in payload else "subscription"]["entity"]
    return event["event"], entity["id"]


def test_one_advance_expires_links_and_renews_a_subscription_in_time_order(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    receiver: WebhookReceiver,
) -> None:
    sub = active_subscription(sdk, http, fresh_sandbox)
    renewal = sub["charge_at"]
    late = sdk.payment_link.create(
        link_request(http, fresh_sandbox, reference_id="LATE", expire_by=renewal + DAY)
    )
    early = sdk.payment_link.create(link_request(http, fresh_sandbox, reference_id="EARLY"))
    already = len(receiver.received)

    moved = control(http, fresh_sandbox, "clock/advance", to=renewal + 2 * DAY)

    names = ["payment_link.expired", *CHARGED_EVENTS, "payment_link.expired"]
    assert [event["event"] for event in moved["events"]] == names
    arrived = [delivery.event for delivery in receiver.received[already:]]
    assert [about(event) for event in arrived[:2]] == [
        ("payment_link.expired", early["id"]),
        ("subscription.charged", sub["id"]),
    ]
    assert about(arrived[-1]) == ("payment_link.expired", late["id"])
    assert sdk.payment_link.fetch(early["id"])["expired_at"] == early["expire_by"]
    assert sdk.payment_link.fetch(late["id"])["expired_at"] == renewal + DAY
    renewed = sdk.subscription.fetch(sub["id"])
    assert (renewed["status"], renewed["paid_count"]) == ("active", 2)
    assert moved["now"] >= renewal + 2 * DAY
    assert offset(http, fresh_sandbox) == moved["offset_seconds"] > 0


def test_the_clock_has_one_route_to_move_it(
    http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    url = f"{fresh_sandbox.url}/_sandbox/clock"

    old = http.post(url, json={"advance_seconds": 60})
    unknown = http.post(f"{url}/advance", json={"advance_seconds": 60})

    assert old.status_code == 405
    assert unknown.status_code == 400
    assert offset(http, fresh_sandbox) == 0


def test_the_state_file_keeps_the_one_clock_offset_and_a_reset_rewinds_it(
    tmp_path: Path, http: requests.Session, started: list[BackgroundSandbox]
) -> None:
    path = tmp_path / "state.json"
    first = start(path, started)
    advance_clock(http, first, 3600)
    started.pop().stop()

    document = json.loads(path.read_text())
    again = start(path, started)

    assert document["clock_offset"] == 3600
    assert "clock_offset" not in document["subscriptions"]
    assert offset(http, again) == 3600
    assert http.post(f"{again.url}/_sandbox/reset").status_code == 200
    assert offset(http, again) == 0
    assert json.loads(path.read_text())["clock_offset"] == 0


def links_era(document: Json) -> None:
    """A file of the sandbox whose clock was the payment links': no subscriptions."""
    document["clock_offset"] = 600
    del document["subscriptions"]


def subscriptions_era(document: Json) -> None:
    """A file of the sandbox whose clock was the subscriptions': no links, no top offset."""
    del document["clock_offset"], document["payment_links"]
    document["subscriptions"]["clock_offset"] = 900


def both_clocks(top: int, nested: int) -> Callable[[Json], None]:
    """A file of the merged sandbox that kept both clocks."""

    def change(document: Json) -> None:
        document["clock_offset"] = top
        document["subscriptions"]["clock_offset"] = nested

    return change


@pytest.mark.parametrize(
    ("rewrite", "expected"),
    [
        (links_era, 600),
        (subscriptions_era, 900),
        (both_clocks(600, 900), 900),
        (both_clocks(900, 600), 900),
    ],
    ids=["links-clock", "subscriptions-clock", "both-nested-larger", "both-top-larger"],
)
def test_state_files_of_the_earlier_clocks_load_with_the_larger_offset(
    rewrite: Callable[[Json], None],
    expected: int,
    tmp_path: Path,
    http: requests.Session,
    started: list[BackgroundSandbox],
) -> None:
    path = tmp_path / "state.json"
    start(path, started)
    started.pop().stop()
    document = json.loads(path.read_text())
    rewrite(document)
    path.write_text(json.dumps(document))

    sandbox = start(path, started)

    assert offset(http, sandbox) == expected
    rewritten = json.loads(path.read_text())
    assert rewritten["clock_offset"] == expected
    assert "clock_offset" not in rewritten["subscriptions"]
