"""End to end in a real browser: a membership bought on the new site gives access on the
old one; a failed charge keeps it while Razorpay retries (the pending setting), takes it on
both sites when the subscription halts, and a successful charge brings it back; the buyer
then cancels at the end of the paid month and keeps access until then.

Headless Chromium (Debian's package) driven by Playwright, against the stack of
tests/browser_stack.py (which defines the membership's plan as `make run` does); the
sandbox's billing clock is moved through its control routes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser_stack import (
    CHROMIUM,
    NO_CHROMIUM,
    Stack,
    chromium,
    reload_until,
    running_stack,
    sign_in,
)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)

EMAIL = "meera@example.com"
HOUR = 3600
RETRY_DAYS = 4  # Razorpay retries a failed charge for three days, then halts


@pytest.fixture
def stack(make_app: Any, admin_headers: dict[str, str]) -> Iterator[Stack]:
    with running_stack(make_app, admin_headers) as running:
        yield running


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _sandbox(stack: Stack, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = requests.request(method, f"{stack.sandbox.url}{path}", json=body, timeout=60)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _subscription(stack: Stack, subscription_id: str) -> dict[str, Any]:
    """The subscription as the service has it (admin)."""
    response = requests.get(
        f"{stack.api}/v1/subscriptions/{subscription_id}", headers=stack.admin, timeout=10
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _status_becomes(page: Any, status: str) -> None:
    """Reload until the new site shows the status (the sandbox's webhooks are on their way;
    bounded, generously for a busy machine)."""
    reload_until(page, f"#membership[data-status='{status}']", attempts=120)


def _subscribe_on_the_new_site(context: Any, stack: Stack) -> Any:
    page = context.new_page()
    sign_in(page, stack.stores["new-site"], EMAIL)
    assert page.query_selector("#owned-all-courses") is None
    page.click("#subscribe-all-courses")
    frame = page.wait_for_selector("iframe", timeout=10_000).content_frame()
    assert "299.00" in frame.inner_text("#sandbox-amount")
    frame.click("#sandbox-pay-success")
    page.wait_for_selector("#owned-all-courses", timeout=20_000)  # the page reloads itself
    page.wait_for_load_state()
    return page


def test_a_membership_bought_on_the_new_site_follows_its_billing_on_both_sites(
    stack: Stack, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context()
    new = _subscribe_on_the_new_site(context, stack)
    _status_becomes(new, "active")
    assert new.query_selector("#included-python-101") is not None
    new.screenshot(path=tmp_path / "subscribed.png")
    sub_id = new.get_attribute("#membership", "data-subscription-id")
    razorpay_id = new.get_attribute("#membership", "data-razorpay-subscription-id")

    old = context.new_page()
    sign_in(old, stack.stores["old-site"], EMAIL)
    reload_until(old, "#owned-all-courses")
    assert old.query_selector("#included-data-201") is not None

    # The next month's charge fails: pending while Razorpay retries (access kept), then halted.
    _sandbox(
        stack, "PATCH", f"/_sandbox/subscriptions/{razorpay_id}", {"charge_outcome": "failure"}
    )
    charge_at = datetime.fromisoformat(_subscription(stack, sub_id)["charge_at"])
    _sandbox(stack, "POST", "/_sandbox/clock/advance", {"to": int(charge_at.timestamp()) + HOUR})
    _status_becomes(new, "pending")
    assert new.query_selector("#owned-all-courses") is not None
    _sandbox(stack, "POST", "/_sandbox/clock/advance", {"days": RETRY_DAYS})
    _status_becomes(new, "halted")
    assert new.query_selector("#owned-all-courses") is None
    assert new.query_selector("#included-python-101") is None
    new.screenshot(path=tmp_path / "halted.png")
    reload_until(old, "#subscribe-all-courses")  # the old site sees access gone too
    assert old.query_selector("#owned-all-courses") is None

    # A charge that succeeds (Razorpay's "charge now" on the halted one) brings it back.
    _sandbox(stack, "POST", f"/_sandbox/subscriptions/{razorpay_id}/charge", {"outcome": "success"})
    _status_becomes(new, "active")
    reload_until(new, "#owned-all-courses")
    reload_until(old, "#owned-all-courses")

    # The buyer cancels at the end of the paid month: still a member until then.
    new.click("#cancel-membership")
    new.wait_for_selector("#membership-ends")
    assert new.query_selector("#owned-all-courses") is not None
    assert new.query_selector("#cancel-membership") is None
    after = _subscription(stack, sub_id)
    assert after["cancel_at_cycle_end"] is True
    assert after["access"]["granted"] is True
    assert [c["status"] for c in after["charges"]].count("paid") == 2
