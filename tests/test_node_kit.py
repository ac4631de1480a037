"""The Node.js integration kit (examples/node-site) against the real service and sandbox.

Runs the kit's own ``node --test`` suite with the service served over real HTTP, two sites
registered (the kit's, with its callback URL, and another one), and the notification
worker delivering in a background thread, so the kit receives real signed callbacks.
Then, where Chromium is installed, buys a course on the kit's page in a real browser.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from payments_service.notifications import deliver_due
from tests.actions import register_site, use_public_url

KIT = Path(__file__).resolve().parent.parent / "examples" / "node-site"
LOCK = KIT / "package-lock.json"
STAMP = KIT / "node_modules" / ".installed-lock-sha256"
NPM_CI_TIMEOUT = 300
NODE_TEST_TIMEOUT = 180
DELIVERY_INTERVAL = 0.2
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


def _lock_digest() -> str:
    return hashlib.sha256(LOCK.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def kit_installed() -> None:
    """``npm ci`` once; skipped while node_modules matches package-lock.json."""
    digest = _lock_digest()
    if STAMP.is_file() and STAMP.read_text().strip() == digest:
        return
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=KIT,
        capture_output=True,
        text=True,
        timeout=NPM_CI_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    STAMP.write_text(digest)


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Worker:
    """The notification worker: ``deliver_due`` every 0.2 s until stopped."""

    def __init__(self, app: Flask) -> None:
        self.db = app.extensions["payments_service"].db
        self.session = requests.Session()
        self.stopping = threading.Event()
        self.errors: list[BaseException] = []
        self.delivered = 0
        self.thread = threading.Thread(target=self._run, name="notification-worker", daemon=True)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.delivered += deliver_due(self.db, self.session).delivered
            except Exception as exc:  # reported by the test, not lost in the thread
                self.errors.append(exc)
                return
            self.stopping.wait(DELIVERY_INTERVAL)

    def __enter__(self) -> Worker:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)
        self.session.close()


@pytest.fixture
def worker(app: Flask) -> Iterator[Worker]:
    with Worker(app) as running:
        yield running
    assert not running.thread.is_alive(), "the notification worker did not stop"
    assert not running.errors, f"the notification worker failed: {running.errors!r}"


def test_node_kit_against_the_service(
    kit_installed: None, live_api: str, sandbox: Any, app: Flask, worker: Worker
) -> None:
    use_public_url(app, live_api)  # payment links bring the buyer back to the served app
    port = _free_loopback_port()
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
        "SITE_ID": kit_site.site_id,
        "SITE_JWT_SECRET": kit_site.jwt_secret,
        "CALLBACK_SECRET": kit_site.callback_secret,
        "KIT_PORT": str(port),
        "OTHER_SITE_ID": other_site.site_id,
        "OTHER_SITE_JWT_SECRET": other_site.jwt_secret,
    }
    tests = sorted(str(path.relative_to(KIT)) for path in (KIT / "test").glob("*.test.js"))

    try:
        done = subprocess.run(
            ["node", "--test", "--test-reporter=tap", *tests],
            cwd=KIT,
            env=env,
            capture_output=True,
            text=True,
            timeout=NODE_TEST_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"node --test ran over {NODE_TEST_TIMEOUT} s:\n{exc.stdout!r}\n{exc.stderr!r}")

    output = f"{done.stdout}\n{done.stderr}"
    print(output)  # shown with -s or -rP: the kit's own test report
    assert done.returncode == 0, f"node --test failed (exit {done.returncode}):\n{output}"
    assert "# SKIP" not in output, f"some of the kit's tests were skipped:\n{output}"
    assert re.search(r"^# fail 0$", done.stdout, re.MULTILINE), output
    assert re.search(r"^\s*ok \d+ - sells a course on this site", output, re.MULTILINE), output
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

    port = _free_loopback_port()
    site = register_site(
        app, "kit-site", f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/payments/callback"
    )
    env = {
        **os.environ,
        "PORT": str(port),
        "SITE_ID": site.site_id,
        "SITE_JWT_SECRET": site.jwt_secret,
        "CALLBACK_SECRET": site.callback_secret,
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
