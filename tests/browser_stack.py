"""What the browser tests run against: the API, the sandbox, the worker's notification
delivery and both demo storefronts, all on loopback, and headless Debian Chromium.

The API is served on its own port before it is built, so its PUBLIC_BASE_URL is the URL
the browser reaches it at (where Razorpay's hosted link page sends the buyer back to).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from payments_service.devstack.demo import StoreConfig
from payments_service.devstack.demo import create_app as create_store
from payments_service.devstack.demo.memberships_api import ensure_plan
from payments_service.notifications import deliver_due
from payments_service.sandbox import SandboxConfig, start_background
from tests.actions import register_site

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NO_CHROMIUM = (
    "Chromium is not installed (apt-get install chromium); "
    "the browser end-to-end test cannot run here"
)
SITES = (("new-site", "New Course Site"), ("old-site", "Old Course Site"))


class Served:
    """A WSGI app on a loopback port in a daemon thread."""

    def __init__(self, app: Any) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@dataclass
class Stack:
    api: str
    sandbox: Any
    stores: dict[str, str]
    admin: dict[str, str]
    restart: Callable[[str], None]


def _late(holder: dict[str, Any]) -> Any:
    """A WSGI app that is built after its server is listening."""
    return lambda environ, start: holder["app"](environ, start)


@contextmanager
def running_stack(make_app: Any, admin_headers: dict[str, str]) -> Iterator[Stack]:
    """Everything `make run` starts, on free loopback ports, stopped afterwards."""
    sandbox = start_background(SandboxConfig(webhook_delivery="async"))
    api_holder: dict[str, Any] = {}
    api = Served(_late(api_holder))
    app: Flask = make_app(razorpay_api_base_url=sandbox.url, public_base_url=api.url)
    api_holder["app"] = app
    requests.patch(
        f"{sandbox.url}/_sandbox/config",
        timeout=5,
        json={"webhook_urls": [f"{api.url}/v1/webhooks/razorpay"]},
    )
    stores: dict[str, Served] = {}
    holders: dict[str, dict[str, Any]] = {}
    configs: dict[str, StoreConfig] = {}
    for site_id, title in SITES:
        holders[site_id] = {}
        stores[site_id] = Served(_late(holders[site_id]))
        url = stores[site_id].url
        site = register_site(app, site_id, url, f"{url}/payments/callback")
        configs[site_id] = StoreConfig(
            site_id=site_id,
            title=title,
            jwt_secret=site.jwt_secret,
            audience="payments-service",
            api_url=api.url,
            checkout_script_url=f"{sandbox.url}/v1/checkout.js",
            callback_secret=site.callback_secret,
            admin_jwt_secret=app.extensions["payments_service"].settings.admin_jwt_secret,
        )
        holders[site_id]["app"] = create_store(configs[site_id])

    def restart(site_id: str) -> None:
        """A new store app on the same port: nothing of the old one's memory survives."""
        holders[site_id]["app"] = create_store(configs[site_id])

    settings = app.extensions["payments_service"].settings
    ensure_plan(api.url, settings.jwt_audience, settings.admin_jwt_secret)  # as `make run`

    stop = threading.Event()
    worker = threading.Thread(target=_deliver_until, args=(app, stop), daemon=True)
    worker.start()
    urls = {k: v.url for k, v in stores.items()}
    try:
        yield Stack(api.url, sandbox, urls, admin_headers, restart)
    finally:
        stop.set()
        worker.join()
        for served in (*stores.values(), api):
            served.stop()
        sandbox.stop()


def _deliver_until(app: Flask, stop: threading.Event) -> None:
    services = app.extensions["payments_service"]
    with requests.Session() as session:
        while not stop.is_set():
            deliver_due(services.db, session, timeout=(1.0, 2.0))
            stop.wait(0.2)


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium (Debian's package) driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def sign_in(page: Any, url: str, email: str) -> None:
    page.goto(url)
    page.fill("#email", email)
    page.click("#sign-in")
    page.wait_for_selector("#signed-in-as")


def reload_until(page: Any, selector: str, attempts: int = 40) -> None:
    """Reload until ``selector`` shows (a notification is on its way)."""
    for _ in range(attempts):
        if page.query_selector(selector):
            return
        page.wait_for_timeout(250)
        page.reload()
    raise AssertionError(f"{selector} never showed on {page.url}")
