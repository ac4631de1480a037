"""Shared fixtures: real PostgreSQL (a fresh database per test, cloned from a migrated
template), the Razorpay sandbox over real HTTP, the app, sites and tokens. What a test
does as a site, a buyer or Razorpay is in tests/actions.py."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
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
from payments_service.auth import mint_admin_token
from payments_service.migrations import apply_migrations
from payments_service.sandbox import SandboxConfig, start_background
from payments_service.settings import Settings
from tests.actions import Checkout, Clock, RazorpayWebhooks, SiteCredentials, register_site

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
    apply_migrations(dsn_for(host, port, user, dbname, password), mode="test")


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


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


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
