"""In a real browser: a merchant page opens the sandbox's checkout.js with a
``subscription_id``, the customer pays on the test-payment page, and the page's handler gets
the three signed fields of a subscription payment.

Headless Chromium (Debian's package) driven by Playwright, all on loopback.
"""

from __future__ import annotations

import json
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
from tests.sandbox.helpers import KEY_ID
from tests.sandbox.subscription_helpers import new_plan

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
)
MERCHANT_PAGE = """<!doctype html>
<html><head><script src="%(sandbox)s/v1/checkout.js"></script></head>
<body><button id="subscribe">Subscribe</button><pre id="result"></pre>
<script>
document.getElementById("subscribe").addEventListener("click", () => {
  new Razorpay({
    key: %(key)s,
    subscription_id: %(subscription)s,
    name: "Course shop",
    handler: (response) => {
      document.getElementById("result").textContent = JSON.stringify(response);
    },
  }).open();
});
</script></body></html>"""


@pytest.fixture
def merchant_page(fresh_sandbox: BackgroundSandbox) -> Iterator[Any]:
    """Serves the merchant page for a subscription id; yields a function giving its URL."""
    subscriptions: dict[str, str] = {}

    @Request.application
    def page(request: Request) -> Response:
        values = {
            "sandbox": fresh_sandbox.url,
            "key": json.dumps(KEY_ID),
            "subscription": json.dumps(subscriptions["id"]),
        }
        return Response(MERCHANT_PAGE % values, mimetype="text/html")

    server = make_server("127.0.0.1", 0, page, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()

    def url_for(subscription_id: str) -> str:
        subscriptions["id"] = subscription_id
        return f"http://127.0.0.1:{server.port}/"

    yield url_for
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_checkout_js_with_a_subscription_id_hands_the_signed_fields_to_the_handler(
    sdk: razorpay.Client, http: requests.Session, merchant_page: Any, browser: Any
) -> None:
    plan = new_plan(sdk)
    sub = sdk.subscription.create({"plan_id": plan["id"], "total_count": 3})
    page = browser.new_page()
    page.goto(merchant_page(sub["id"]))

    page.click("#subscribe")
    frame = page.wait_for_selector("iframe", timeout=10_000).content_frame()
    assert "₹499.00" in frame.inner_text("#sandbox-amount")
    frame.click("#sandbox-pay-success")
    page.wait_for_function("document.getElementById('result').textContent.length > 0")

    result = json.loads(page.inner_text("#result"))
    assert set(result) == {
        "razorpay_payment_id",
        "razorpay_subscription_id",
        "razorpay_signature",
    }
    assert result["razorpay_subscription_id"] == sub["id"]
    assert sdk.utility.verify_subscription_payment_signature(result) is True
    assert sdk.subscription.fetch(sub["id"])["status"] == "active"
