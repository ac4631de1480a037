"""A person pays a payment link in a real browser with JavaScript switched off: headless
Chromium (Debian's package, driven by Playwright) opens the short URL, pays an instalment
and then the rest, and lands on the merchant's callback with a query the SDK verifies."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import razorpay
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from payments_service.sandbox import BackgroundSandbox
from tests.sandbox.link_helpers import callback_query, link_request, sdk_verify_args

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium); "
    "the payment-link browser test cannot run here",
)


@pytest.fixture
def merchant_callback() -> Iterator[str]:
    """A merchant's callback page on 127.0.0.1 that says thank you."""

    @Request.application
    def thank(request: Request) -> Response:
        return Response("<h1>Thank you</h1>", mimetype="text/html")

    server = make_server("127.0.0.1", 0, thank, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}/payments/link-callback"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def page() -> Iterator[Any]:
    """A Chromium page with JavaScript disabled."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(java_script_enabled=False)
        yield context.new_page()
        context.close()
        browser.close()


def test_a_person_pays_a_link_in_two_instalments_without_javascript(
    sdk: razorpay.Client,
    http: requests.Session,
    fresh_sandbox: BackgroundSandbox,
    merchant_callback: str,
    page: Any,
) -> None:
    link = sdk.payment_link.create(link_request(http, fresh_sandbox, merchant_callback))

    page.goto(link["short_url"])
    assert page.text_content("#sandbox-amount-due").strip() == "₹500.00"
    page.fill("#sandbox-pay-amount", "200.00")
    page.click("#sandbox-pay-success")
    page.wait_for_url(f"{merchant_callback}?*")
    first = callback_query(page.url)
    page.goto(link["short_url"])
    assert page.text_content("#sandbox-amount-due").strip() == "₹300.00"
    page.click("#sandbox-pay-failure")
    assert "You can try again" in page.text_content("#sandbox-error")
    page.click("#sandbox-pay-success")  # the form offers the ₹300.00 still due
    page.wait_for_url(f"{merchant_callback}?*")
    second = callback_query(page.url)

    assert page.text_content("h1") == "Thank you"
    statuses = [query["razorpay_payment_link_status"] for query in (first, second)]
    assert statuses == ["partially_paid", "paid"]
    for query in (first, second):
        assert sdk.utility.verify_payment_link_signature(sdk_verify_args(query)) is True
    fetched = sdk.payment_link.fetch(link["id"])
    assert [p["amount"] for p in fetched["payments"]] == [20000, 30000]
    page.goto(link["short_url"])
    assert "This payment link is paid." in page.text_content("#sandbox-link-status")
