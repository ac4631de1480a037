"""Shared fixtures: real PostgreSQL (a fresh database per test, cloned from a migrated
template), the Razorpay sandbox over real HTTP, the app, sites, tokens and action helpers."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from pytest_postgresql import factories
from werkzeug.serving import make_server

from payments_service import create_app
from payments_service.auth import mint_admin_token, mint_site_token
from payments_service.migrations import apply_migrations
from payments_service.sandbox import SandboxConfig, start_background
from payments_service.services import EXTENSION_KEY
from payments_service.settings import Settings
from payments_service.sites import create_site

SANDBOX_DEFAULTS = {
    "latency_ms": 0,
    "auto_capture": True,
    "refund_outcome": "processed",
    "merchant_balance": 10_000_000_00,
}
ADMIN_SECRET = "test-admin-secret-0123456789abcdef0123456789"


def pytest_configure(config: pytest.Config) -> None:
    """Point pytest-postgresql at TEST_DATABASE_URL, or at an embedded pgserver."""
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # its exit chatter is noise
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
        port, user, password = parts.port or 5432, parts.username, parts.password
    else:
        import pgserver

        datadir = tempfile.mkdtemp(prefix="payments-test-pg-")
        server = pgserver.get_server(datadir, cleanup_mode="delete")
        config._embedded_pg = server  # type: ignore[attr-defined]  # keeps it alive
        host = parse_qs(urlsplit(server.get_uri()).query)["host"][0]
        port, user, password = 5432, "postgres", None
    config.option.postgresql_host = unquote(host)
    config.option.postgresql_port = port
    config.option.postgresql_user = user or "postgres"
    config.option.postgresql_password = password


def load_schema(
    host: str, port: int, user: str, dbname: str, password: str | None, **_: Any
) -> None:
    """Apply sql/ to the template database that every test database is cloned from."""
    apply_migrations(dsn_for(host, port, user, dbname, password))


def dsn_for(host: str, port: int, user: str, dbname: str, password: str | None) -> str:
    parts = [f"host={host}", f"port={port}", f"user={user}", f"dbname={dbname}"]
    if password:
        parts.append(f"password={password}")
    return " ".join(parts)


postgresql_proc = factories.postgresql_noproc(load=[load_schema])
postgresql = factories.postgresql("postgresql_proc")


@pytest.fixture
def dsn(postgresql: psycopg.Connection) -> str:
    """A DSN for this test's own freshly migrated database."""
    info = postgresql.info
    return dsn_for(info.host, info.port, info.user, info.dbname, info.password or None)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Any]:
    """The Razorpay sandbox on a random loopback port, for the whole run."""
    running = start_background(SandboxConfig(webhook_delivery="off"))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _reset_sandbox_knobs(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sandbox" in request.fixturenames:
        running = request.getfixturevalue("sandbox")
        requests.patch(f"{running.url}/_sandbox/config", json=SANDBOX_DEFAULTS, timeout=5)


@pytest.fixture
def settings(dsn: str, sandbox: Any) -> Settings:
    return Settings(
        admin_jwt_secret=ADMIN_SECRET,
        database_url=dsn,
        razorpay_api_base_url=sandbox.url,
        razorpay_timeout_seconds=2.0,
        db_pool_max=30,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["payments_service"].db.close()


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Any]:
    """Build another app on the same database with some settings changed."""
    built: list[Flask] = []

    def make(**changes: Any) -> Flask:
        application = create_app(replace(settings, **changes))
        built.append(application)
        return application

    yield make
    for application in built:
        application.extensions["payments_service"].db.close()


class Clock:
    """Real time plus an offset that the test moves forward by hand."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    @property
    def now(self) -> datetime:
        return self()

    @now.setter
    def now(self, when: datetime) -> None:
        self.offset = max(self.offset, when - datetime.now(UTC))

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


def use_clock(app: Flask, clock: Clock) -> Flask:
    """Make ``clock`` the app's time (Idempotency-Key leases); returns the app."""
    app.extensions[EXTENSION_KEY] = replace(app.extensions[EXTENSION_KEY], clock=clock)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass(frozen=True)
class SiteCredentials:
    site_id: str
    jwt_secret: str
    callback_secret: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def register_site(
    app: Flask, site_id: str, origin: str, callback_url: str | None = None
) -> SiteCredentials:
    """Register a site; without a callback URL it is sent no notifications."""
    services = app.extensions["payments_service"]
    site = create_site(
        services.db,
        site_id=site_id,
        name=site_id.replace("-", " ").title(),
        callback_url=callback_url,
        allowed_origins=[origin],
    )
    token = mint_site_token(
        site.jwt_secret, site.id, services.settings.jwt_audience, None, timedelta(minutes=10)
    )
    return SiteCredentials(site.id, site.jwt_secret, site.callback_secret, token)


@pytest.fixture
def new_site(app: Flask) -> SiteCredentials:
    return register_site(app, "new-site", "http://new.localhost:8022")


@pytest.fixture
def old_site(app: Flask) -> SiteCredentials:
    return register_site(app, "old-site", "http://old.localhost:8021")


@pytest.fixture
def admin_headers(settings: Settings) -> dict[str, str]:
    token = mint_admin_token(settings, "tester", timedelta(minutes=10))
    return {"Authorization": f"Bearer {token}"}


def order_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /v1/orders body; keyword arguments replace top-level fields."""
    body: dict[str, Any] = {
        "amount": 49900,
        "currency": "INR",
        "product": {"sku": "python-101", "name": "Python 101"},
        "customer": {
            "email": "Asha@Example.com",
            "name": "Asha",
            "contact": "+919876543210",
            "site_user_id": "u-42",
        },
        "notes": {"campaign": "launch"},
    }
    body.update(overrides)
    return body


class Checkout:
    """Action helpers in the style of flaskr's ``auth``: act as the buyer and the site."""

    def __init__(self, client: FlaskClient, sandbox: Any) -> None:
        self.client = client
        self.sandbox = sandbox

    def create_order(self, site: SiteCredentials, **overrides: Any) -> dict[str, Any]:
        response = self.client.post(
            "/v1/orders", json=order_body(**overrides), headers=site.headers
        )
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    def pay(self, order: dict[str, Any], outcome: str = "success", **extra: Any) -> dict[str, Any]:
        """The buyer completes Checkout in the sandbox; returns what Checkout hands back."""
        razorpay_order_id = order["checkout"]["order_id"]
        response = requests.post(
            f"{self.sandbox.url}/_sandbox/orders/{razorpay_order_id}/pay",
            json={"outcome": outcome, **extra},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def verify(self, result: dict[str, Any]) -> Any:
        return self.client.post("/v1/payments/verify", json=result)

    def buy(self, site: SiteCredentials, **overrides: Any) -> dict[str, Any]:
        """A whole purchase: order, payment, verify. Returns the verified order."""
        order = self.create_order(site, **overrides)
        result = self.pay(order)
        verified = self.verify(result)
        assert verified.status_code == 200, verified.get_json()
        return {**verified.get_json()["order"], "payment_id": result["razorpay_payment_id"]}

    def refund(self, headers: dict[str, str], **body: Any) -> Any:
        return self.client.post("/v1/refunds", json=body, headers=headers)


@pytest.fixture
def checkout(client: FlaskClient, sandbox: Any) -> Checkout:
    return Checkout(client, sandbox)


@pytest.fixture
def db_rows(dsn: str) -> Any:
    """Read rows straight from this test's database, to check what was written."""

    def query(sql: str, *params: Any) -> list[dict[str, Any]]:
        with psycopg.connect(dsn) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    return query


class RazorpayWebhooks:
    """Replays what the sandbox would send to POST /v1/webhooks/razorpay, byte for byte."""

    def __init__(self, client: FlaskClient, sandbox: Any) -> None:
        self.client = client
        self.sandbox = sandbox

    def events_for(self, razorpay_order_id: str) -> list[dict[str, Any]]:
        """Every event the sandbox emitted about this order, oldest first."""
        events = requests.get(f"{self.sandbox.url}/_sandbox/events", timeout=10).json()
        return [event for event in events if razorpay_order_id in event["body"]]

    def event(self, razorpay_order_id: str, name: str) -> dict[str, Any]:
        """The one event of this name about this order."""
        (found,) = [e for e in self.events_for(razorpay_order_id) if e["event"] == name]
        return found

    def deliver(self, event: dict[str, Any]) -> Any:
        """Deliver a recorded event as Razorpay does (same bytes, signature and id)."""
        return self.post(event["body"].encode(), event["signature"], event["id"])

    def post(self, body: bytes, signature: str | None, event_id: str | None) -> Any:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Razorpay-Signature"] = signature
        if event_id is not None:
            headers["X-Razorpay-Event-Id"] = event_id
        return self.client.post("/v1/webhooks/razorpay", data=body, headers=headers)


@pytest.fixture
def webhooks(client: FlaskClient, sandbox: Any) -> RazorpayWebhooks:
    return RazorpayWebhooks(client, sandbox)


@pytest.fixture
def live_api(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a loopback port (for concurrency and callbacks)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def sync_webhooks(live_api: str, sandbox: Any) -> Iterator[None]:
    """The sandbox delivers its webhooks to the live app before answering the API call that
    caused them, so a webhook deterministically lands first (e.g. during verify's capture)."""
    requests.patch(
        f"{sandbox.url}/_sandbox/config",
        json={"webhook_urls": [f"{live_api}/v1/webhooks/razorpay"], "webhook_delivery": "sync"},
        timeout=5,
    ).raise_for_status()
    yield
    requests.patch(
        f"{sandbox.url}/_sandbox/config",
        json={"webhook_urls": [], "webhook_delivery": "off"},
        timeout=5,
    ).raise_for_status()
