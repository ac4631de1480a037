"""End to end in a real browser: buy on the new site, own the course on the old one after
signing in there too, survive a restart, sign out, and refund from the demo's admin page.

Headless Chromium (Debian's package) driven by Playwright, against the API, the sandbox,
the worker's notification delivery and both demo storefronts, all on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


def _pay_in_checkout(page: Any, button: str) -> None:
    frame = page.wait_for_selector("iframe", timeout=10_000).content_frame()
    frame.click(button)


def _buy_on_the_new_site(context: Any, stack: Stack, email: str) -> Any:
    """Sign in on the new site, buy Python 101 and pay in the sandbox; returns the page."""
    new = context.new_page()
    sign_in(new, stack.stores["new-site"], email)
    new.click("#buy-python-101")
    _pay_in_checkout(new, "#sandbox-pay-success")
    new.wait_for_selector("#owned-python-101", timeout=20_000)  # the page reloads itself
    new.wait_for_load_state()
    return new


def _cookie_names(context: Any) -> set[str]:
    return {cookie["name"] for cookie in context.cookies()}


def test_a_course_bought_on_the_new_site_is_owned_on_the_old_one_after_its_ownsign_in(
    stack: Stack, browser: Any, db_rows: Any, tmp_path: Path
) -> None:
    context = browser.new_context()  # one browser profile: cookies reach every port
    new = _buy_on_the_new_site(context, stack, "ravi@example.com")
    new.screenshot(path=tmp_path / "new-site.png")

    old = context.new_page()
    old.goto(stack.stores["old-site"])
    assert old.query_selector("#signed-in-as") is None  # the new site's sign-in is not its
    assert _cookie_names(context) == {"demo_email_new-site"}
    sign_in(old, stack.stores["old-site"], "ravi@example.com")
    assert old.query_selector("#owned-python-101") is not None
    assert old.query_selector("#buy-data-201") is not None
    assert _cookie_names(context) == {"demo_email_new-site", "demo_email_old-site"}
    old.screenshot(path=tmp_path / "old-site.png")

    old.goto(f"{stack.stores['old-site']}/admin")  # the worker's signed notification, too
    reload_until(old, "#notifications td:has-text('enrollment.granted')")
    assert db_rows("SELECT site_id, status FROM orders") == [
        {"site_id": "new-site", "status": "paid"}
    ]
    assert db_rows("SELECT customer_email, sku, status FROM enrollments") == [
        {"customer_email": "ravi@example.com", "sku": "python-101", "status": "active"}
    ]


def test_a_restart_changes_nothing_on_screen_and_sign_out_leaves_the_other_site_signed_in(
    stack: Stack, browser: Any
) -> None:
    context = browser.new_context()
    new = _buy_on_the_new_site(context, stack, "ravi@example.com")
    old = context.new_page()
    sign_in(old, stack.stores["old-site"], "ravi@example.com")
    screens = {"new-site": new.inner_text("body"), "old-site": old.inner_text("body")}

    for site_id, page in (("new-site", new), ("old-site", old)):
        stack.restart(site_id)
        page.reload()
        assert page.inner_text("body") == screens[site_id]
        assert page.query_selector("#owned-python-101") is not None

    old.click("#sign-out")
    old.wait_for_selector("#email")
    assert _cookie_names(context) == {"demo_email_new-site"}
    new.reload()
    assert new.inner_text("#signed-in-as") == "ravi@example.com"


def test_a_refund_clicked_on_the_admin_page_puts_buy_back_on_both_sites(
    stack: Stack, browser: Any, db_rows: Any, tmp_path: Path
) -> None:
    context = browser.new_context()
    new = _buy_on_the_new_site(context, stack, "ravi@example.com")
    old = context.new_page()
    sign_in(old, stack.stores["old-site"], "ravi@example.com")
    [order] = db_rows("SELECT id FROM orders")
    row = f"#order-{order['id']}"

    admin = context.new_page()
    admin.goto(f"{stack.stores['old-site']}/admin")
    assert "Local development only" in admin.inner_text("#local-dev-only")
    assert admin.inner_text(f"{row} .order-id") == order["id"]
    assert admin.inner_text(f"{row} .status") == "paid"
    assert admin.inner_text(f"{row} .customer") == "ravi@example.com"
    assert "₹499.00" in admin.inner_text(row)
    admin.dblclick(f"#refund-{order['id']}")  # an impatient double click
    admin.wait_for_selector("#refund-done")
    admin.screenshot(path=tmp_path / "admin.png")

    assert admin.inner_text(f"{row} .status") == "refunded"
    assert admin.query_selector(f"#refund-{order['id']}") is None
    for page in (new, old):
        page.reload()
        assert page.query_selector("#buy-python-101") is not None
        assert page.query_selector("#owned-python-101") is None
    assert db_rows("SELECT order_id, amount FROM refunds") == [
        {"order_id": order["id"], "amount": 49900}
    ]
    assert db_rows("SELECT status FROM enrollments") == [{"status": "revoked"}]


def test_a_failed_payment_shows_the_failure_and_grants_nothing(
    stack: Stack, browser: Any, db_rows: Any
) -> None:
    page = browser.new_page()
    sign_in(page, stack.stores["new-site"], "mira@example.com")
    page.click("#buy-data-201")
    _pay_in_checkout(page, "#sandbox-pay-failure")

    page.wait_for_function(
        "document.getElementById('status').textContent.includes('Payment failed')"
    )
    page.reload()
    assert page.query_selector("#buy-data-201") is not None
    assert page.query_selector("#owned-data-201") is None
    assert db_rows("SELECT id FROM enrollments") == []


def test_swagger_ui_renders_offline_and_authorize_takes_a_pasted_token(
    live_api: str, browser: Any, new_site: Any, tmp_path: Path
) -> None:
    page = browser.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    page.goto(f"{live_api}/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "payments_service" in page.inner_text(".swagger-ui .info .title")

    page.click("button.authorize")
    page.fill(
        "section[data-name='siteJwt'] input, div.auth-container:has-text('siteJwt') input",
        new_site.token,
    )
    page.click("div.auth-container:has-text('siteJwt') button.authorize")
    page.click("button.close-modal")
    page.click("#operations-orders-listOrders")
    page.click("#operations-orders-listOrders button.try-out__btn")
    page.click("#operations-orders-listOrders button.execute")
    page.wait_for_selector(
        "#operations-orders-listOrders .live-responses-table .response-col_status"
    )
    status = page.inner_text(
        "#operations-orders-listOrders .live-responses-table tbody .response-col_status"
    )
    page.screenshot(path=tmp_path / "docs.png", full_page=False)
    assert status.strip().startswith("200")
    assert hosts == {live_api.split("/")[2]}  # every asset came from the service itself
