"""End to end in a real browser: the seller makes a payment link on the old site's admin
page, the buyer pays on the sandbox's hosted link page, and the course is theirs on both
sites, whether the browser comes back through the callback or the tab is closed first.

Headless Chromium (Debian's package) driven by Playwright, against the stack of
tests/browser_stack.py (the API's PUBLIC_BASE_URL is its own loopback URL, so the hosted
page's redirect reaches its callback).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

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


@pytest.fixture
def stack(make_app: Any, admin_headers: dict[str, str]) -> Iterator[Stack]:
    with running_stack(make_app, admin_headers) as running:
        yield running


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _make_link(page: Any, stack: Stack, email: str, name: str) -> tuple[str, str]:
    """Create a Python 101 link on the old site's admin page; returns (short_url, order id)."""
    page.goto(f"{stack.stores['old-site']}/admin")
    page.select_option("#link-sku", "python-101")
    page.fill("#link-email", email)
    page.fill("#link-name", name)
    page.click("#create-link")
    page.wait_for_selector("#payment-link-url")
    short_url: str = page.get_attribute("#payment-link-url", "href")
    order_id: str = page.get_attribute("#payment-link", "data-order-id")
    return short_url, order_id


def _owns_on_both_sites(context: Any, stack: Stack, email: str) -> None:
    """The course shows as owned on each site's own page once signed in with ``email``
    (polled: after a closed tab, access arrives through Razorpay's webhooks)."""
    for site_id in ("new-site", "old-site"):
        page = context.new_page()
        sign_in(page, stack.stores[site_id], email)
        reload_until(page, "#owned-python-101")
        assert page.query_selector("#buy-python-101") is None
        page.close()


def _payments_in_trail(stack: Stack, email: str, order_id: str) -> set[str]:
    """The payment ids the customer's money trail (admin API) shows for ``order_id``."""
    response = requests.get(
        f"{stack.api}/v1/customers/{email}/transactions", headers=stack.admin, timeout=10
    )
    assert response.status_code == 200, response.text
    trail = response.json()
    return {
        entry["payment_id"]
        for entry in trail["entries"]
        if entry["order_id"] == order_id and entry["payment_id"]
    }


def test_a_link_made_on_the_old_sites_admin_page_and_paid_gives_the_course_on_both_sites(
    stack: Stack, browser: Any, db_rows: Any, tmp_path: Path
) -> None:
    context = browser.new_context()
    admin = context.new_page()
    short_url, order_id = _make_link(admin, stack, "asha@example.com", "Asha")
    assert short_url.startswith(f"{stack.sandbox.url}/i/")
    admin.screenshot(path=tmp_path / "admin-link.png")

    buyer = context.new_page()  # the buyer opens the link the seller sent
    buyer.goto(short_url)
    assert buyer.inner_text("#sandbox-description") == "Python 101"
    assert "499.00" in buyer.inner_text("#sandbox-amount")
    buyer.click("#sandbox-pay-success")
    buyer.wait_for_selector("#payment-received", timeout=20_000)
    buyer.screenshot(path=tmp_path / "returned.png")

    landed = urlsplit(buyer.url)
    assert f"{landed.scheme}://{landed.netloc}" == stack.stores["old-site"]
    assert landed.path == "/links/return"
    assert parse_qs(landed.query) == {"order_id": [order_id], "status": ["paid"]}
    assert buyer.inner_text("#payment-received") == (
        f"Payment received for order {order_id}, status paid."
    )
    assert buyer.query_selector("#owned-python-101") is not None
    _owns_on_both_sites(context, stack, "asha@example.com")
    assert len(_payments_in_trail(stack, "asha@example.com", order_id)) == 1
    assert db_rows("SELECT site_id, status FROM orders") == [
        {"site_id": "old-site", "status": "paid"}
    ]


def test_a_buyer_whose_tab_closed_before_the_redirect_still_gets_the_course_on_both_sites(
    stack: Stack, browser: Any, db_rows: Any
) -> None:
    context = browser.new_context()
    short_url, order_id = _make_link(context.new_page(), stack, "kiran@example.com", "Kiran")

    buyer = context.new_page()
    buyer.goto(short_url)  # the buyer opens the link; the hosted page makes its order
    link_id = buyer.get_attribute("#sandbox-payment-link", "data-link-id")
    paid = requests.post(  # ... pays on it, and the tab is gone before the redirect
        f"{stack.sandbox.url}/_sandbox/payment_links/{link_id}/pay",
        json={"outcome": "success"},
        timeout=10,
    )
    buyer.close()

    assert paid.status_code == 200, paid.text
    assert paid.json()["redirect_url"].startswith(f"{stack.api}/v1/payment-links/callback?")
    _owns_on_both_sites(context, stack, "kiran@example.com")
    assert len(_payments_in_trail(stack, "kiran@example.com", order_id)) == 1
    (link,) = db_rows("SELECT status FROM payment_links")
    assert link["status"] == "paid"
    (enrollment,) = db_rows("SELECT order_id, granted_by FROM enrollments")
    assert enrollment == {"order_id": order_id, "granted_by": "webhook"}
