"""The Node.js integration kit (examples/node-site) against the real service and sandbox.

Runs the kit's own ``node --test`` suite (the kit uses clients/node, which ``npm ci``
links) with the service served over real HTTP, two sites registered (the kit's, with its
callback URL, and another one), and the notification worker delivering in a background
thread, so the kit receives real signed callbacks.
Then, where Chromium is installed, buys a course on the kit's page in a real browser.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from tests.actions import register_site, use_public_url
from tests.node_harness import (
    ROOT,
    Worker,
    free_loopback_port,
    npm_ci_once,
    passed,
    run_node_tests,
    running_worker,
)

KIT = ROOT / "examples" / "node-site"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are needed to run the Node.js kit's tests (examples/node-site)",
)


@pytest.fixture(scope="module")
def kit_installed() -> None:
    """``npm ci`` once (it links clients/node); skipped while node_modules matches the lock."""
    npm_ci_once(KIT)


@pytest.fixture
def worker(app: Flask) -> Iterator[Worker]:
    with running_worker(app) as running:
        yield running


def _membership_plan(app: Flask, admin_headers: dict[str, str]) -> None:
    """The plan an admin defines for the membership the kit sells (it finds it by SKU)."""
    body = {"sku": "all-courses", "name": "All courses", "period": "monthly", "amount": 29900}
    response = app.test_client().post("/v1/plans", json=body, headers=admin_headers)
    assert response.status_code == 201, response.get_json()


def test_node_kit_against_the_service(
    kit_installed: None,
    live_api: str,
    sandbox: Any,
    app: Flask,
    admin_headers: dict[str, str],
    worker: Worker,
) -> None:
    _membership_plan(app, admin_headers)
    use_public_url(app, live_api)  # payment links bring the buyer back to the served app
    port = free_loopback_port()
    kit_site = register_site(
        app,
        "kit-site",
        f"http://127.0.0.1:{port}",
        callback_url=f"http://127.0.0.1:{port}/payments/callback",
    )
    other_site = register_site(app, "other-site", "http://other.localhost:8099")
    env = {
        **os.environ,
        "PAYMENTS_API_URL": live_api,
        "SANDBOX_URL": sandbox.url,
        "PAYMENTS_AUDIENCE": app.extensions["payments_service"].settings.jwt_audience,
        "PAYMENTS_SITE_ID": kit_site.site_id,
        "PAYMENTS_JWT_SECRET": kit_site.jwt_secret,
        "PAYMENTS_CALLBACK_SECRET": kit_site.callback_secret,
        "KIT_PORT": str(port),
        "OTHER_SITE_ID": other_site.site_id,
        "OTHER_SITE_JWT_SECRET": other_site.jwt_secret,
    }
    output = run_node_tests(KIT, env)
    assert passed(output, "sells a course on this site"), output
    assert passed(output, "sells the membership: subscribe, verify, access by notification"), output
    assert worker.delivered >= 3, f"expected notifications delivered to the kit:\n{output}"


@contextmanager
def _kit_server(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """``node src/server.js`` on 127.0.0.1:<port> until the block ends."""
    with log.open("w") as out:
        process = subprocess.Popen(
            ["node", "src/server.js"],
            cwd=KIT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, f"the kit exited:\n{log.read_text()}"
            try:
                requests.get(url, timeout=1).raise_for_status()
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, f"the kit never answered:\n{log.read_text()}"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: no browser to drive")
def test_node_kit_page_in_a_browser(
    kit_installed: None, live_api: str, sandbox: Any, app: Flask, worker: Worker, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    port = free_loopback_port()
    site = register_site(
        app, "kit-site", f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/payments/callback"
    )
    env = {
        **os.environ,
        "PORT": str(port),
        "PAYMENTS_SITE_ID": site.site_id,
        "PAYMENTS_JWT_SECRET": site.jwt_secret,
        "PAYMENTS_CALLBACK_SECRET": site.callback_secret,
        "PAYMENTS_API_URL": live_api,
        "PAYMENTS_AUDIENCE": app.extensions["payments_service"].settings.jwt_audience,
        "CHECKOUT_SCRIPT_URL": f"{sandbox.url}/v1/checkout.js",
    }
    log = tmp_path / "kit.log"
    with _kit_server(env, port, log) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            page.fill("#email", "meera@example.com")
            page.click('[data-buy="sql-basics"]')
            checkout = page.wait_for_selector("iframe", timeout=10_000)  # the sandbox's Checkout
            frame = checkout.content_frame() if checkout else None
            assert frame is not None
            frame.click("#sandbox-pay-success")
            try:
                page.wait_for_function(
                    "document.getElementById('status').textContent.includes('you have access')",
                    timeout=20_000,
                )
            except Exception:
                page.screenshot(path=tmp_path / "kit-page.png")
                raise AssertionError(
                    f"status: {page.text_content('#status')!r}\nkit log:\n{log.read_text()}"
                ) from None
            assert page.is_visible('[data-sku="sql-basics"] .owned')
            assert page.is_hidden('[data-buy="sql-basics"]')
        finally:
            browser.close()

    kit_log = log.read_text()
    assert "rejected" not in kit_log, kit_log
    assert "failed" not in kit_log, kit_log
    answer = requests.get(
        f"{live_api}/v1/enrollments",
        params={"customer_email": "meera@example.com"},
        headers=site.headers,
        timeout=10,
    )
    assert [e["sku"] for e in answer.json()["items"]] == ["sql-basics"]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: no browser to drive")
def test_node_kit_sells_the_membership_in_a_browser_and_the_buyer_cancels_it(
    kit_installed: None,
    live_api: str,
    sandbox: Any,
    app: Flask,
    admin_headers: dict[str, str],
    worker: Worker,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    _membership_plan(app, admin_headers)
    port = free_loopback_port()
    site = register_site(
        app, "kit-site", f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/payments/callback"
    )
    env = {
        **os.environ,
        "PORT": str(port),
        "PAYMENTS_SITE_ID": site.site_id,
        "PAYMENTS_JWT_SECRET": site.jwt_secret,
        "PAYMENTS_CALLBACK_SECRET": site.callback_secret,
        "PAYMENTS_API_URL": live_api,
        "PAYMENTS_AUDIENCE": app.extensions["payments_service"].settings.jwt_audience,
        "CHECKOUT_SCRIPT_URL": f"{sandbox.url}/v1/checkout.js",
    }
    log = tmp_path / "kit.log"
    with _kit_server(env, port, log) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("#membership", state="visible")  # the admin's plan is on sale
            assert "₹299.00 a month" in page.text_content("#membership-price")
            page.fill("#email", "nila@example.com")
            page.click("#subscribe")
            checkout = page.wait_for_selector("iframe", timeout=10_000)
            frame = checkout.content_frame() if checkout else None
            assert frame is not None
            frame.click("#sandbox-pay-success")
            _status_says(page, "You are a member", log)
            assert page.is_visible("#membership-owned")
            page.wait_for_selector("#cancel-membership", state="visible")
            page.click("#cancel-membership")
            _status_says(page, "Cancelled: you keep access until", log)
            page.wait_for_selector("#cancel-membership", state="hidden")
            assert "active" in page.text_content("#membership-status")
            assert page.is_visible("#membership-owned")
        finally:
            browser.close()

    answer = requests.get(
        f"{live_api}/v1/subscriptions",
        params={"customer_email": "nila@example.com"},
        headers=site.headers,
        timeout=10,
    )
    [sub] = answer.json()["items"]
    assert (sub["status"], sub["cancel_at_cycle_end"]) == ("active", True)


def _status_says(page: Any, text: str, log: Path) -> None:
    """Wait (bounded) for the page's status line to say ``text``."""
    try:
        page.wait_for_function(
            f"document.getElementById('status').textContent.includes({text!r})", timeout=20_000
        )
    except Exception:
        raise AssertionError(
            f"status: {page.text_content('#status')!r}\nkit log:\n{log.read_text()}"
        ) from None
