"""The sandbox as a program: its Checkout script and page, amounts as shown, the command line,
and no import from the service."""

from __future__ import annotations

import ast
import signal
import subprocess
import sys

import pytest
import razorpay
import requests

from payments_service.sandbox import BackgroundSandbox
from payments_service.sandbox.checkout import format_amount
from tests.sandbox.helpers import KEY_ID, SANDBOX_PACKAGE


def test_checkout_script_and_payment_page(
    sdk: razorpay.Client, http: requests.Session, fresh_sandbox: BackgroundSandbox
) -> None:
    for path in ("/v1/checkout.js", "/checkout.js"):
        script = http.get(f"{fresh_sandbox.url}{path}")
        assert "javascript" in script.headers["Content-Type"]
        assert "window.Razorpay" in script.text and "document.currentScript" in script.text

    order = sdk.order.create({"amount": 49900, "currency": "INR"})
    params = {"order_id": order["id"], "key_id": KEY_ID, "name": "Acme", "prefill_email": "a@b.c"}
    page = http.get(f"{fresh_sandbox.url}/checkout/pay", params=params)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    for text in ("₹499.00", "Acme", "a@b.c", "sandbox-pay-success", "sandbox-pay-failure"):
        assert text in page.text
    assert 'id="sandbox-close"' in page.text

    for bad in ({"key_id": "rzp_test_SomeoneElse001"}, {"order_id": "order_AAAAAAAAAAAAAA"}):
        error_page = http.get(f"{fresh_sandbox.url}/checkout/pay", params={**params, **bad})
        assert error_page.status_code == 400 and 'id="sandbox-error"' in error_page.text


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(49900, "INR", "₹499.00"), (100, "INR", "₹1.00"), (123456705, "USD", "$1,234,567.05")],
)
def test_amounts_are_formatted_from_subunits(amount: int, currency: str, text: str) -> None:
    assert format_amount(amount, currency) == text


def test_command_line_serves_until_sigterm() -> None:
    command = [sys.executable, "-m", "payments_service.sandbox", "--port", "0"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as process:
        assert process.stderr is not None
        url = ""
        for line in process.stderr:
            if "Razorpay sandbox on http://127.0.0.1:" in line:
                url = line.split(" on ", 1)[1].split()[0]
                break
        assert requests.get(f"{url}/_sandbox/config", timeout=5).json()["key_id"] == KEY_ID
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_sandbox_imports_nothing_else_from_the_service() -> None:
    for module in SANDBOX_PACKAGE.glob("*.py"):
        tree = ast.parse(module.read_text(), filename=str(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                outside = name.startswith("payments_service") and not name.startswith(
                    "payments_service.sandbox"
                )
                assert not outside, f"{module.name} imports {name}"
