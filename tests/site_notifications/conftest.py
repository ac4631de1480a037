"""Fixtures of the site notification tests: a local receiver standing in for the sites, the
sites registered with its URL, and a delivery pass on the controllable clock."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from payments_service.notifications import deliver_due
from tests.actions import Clock, SiteCredentials, register_site
from tests.site_notifications.receiving import FAST, Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    server = make_server("127.0.0.1", 0, hook, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.port}"
    yield hook
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def sites(app: Flask, receiver: Receiver) -> dict[str, SiteCredentials]:
    return {
        name: register_site(app, name, f"http://{name}.localhost", f"{receiver.url}/{name}")
        for name in ("new-site", "old-site")
    }


@pytest.fixture
def deliver(app: Flask, clock: Clock) -> Iterator[Any]:
    services = app.extensions["payments_service"]
    session = requests.Session()

    def run(**kwargs: Any) -> Any:
        return deliver_due(
            services.db, session, clock=clock, rng=random.Random(7), timeout=FAST, **kwargs
        )

    yield run
    session.close()
