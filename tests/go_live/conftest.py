"""Fixtures of the go-live checklist tests: a TLS-only PostgreSQL of this package's own
(tests/tls_postgres.py) and apps on live-like settings there: live-shaped keys, a real
webhook secret, Razorpay's own API, a strong admin secret, sslmode=require."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask

from payments_service import create_app
from payments_service.migrations import apply_migrations
from payments_service.services import EXTENSION_KEY
from payments_service.settings import Settings
from tests.go_live.checklist import (
    LIVE_KEY_ID,
    LIVE_KEY_SECRET,
    LIVE_WEBHOOK_SECRET,
    STRONG_ADMIN_SECRET,
)
from tests.tls_postgres import TlsPostgres, tls_postgres


@pytest.fixture(scope="package")
def tls_server() -> Iterator[TlsPostgres]:
    with tls_postgres() as server:
        yield server


@pytest.fixture
def tls_dsn(tls_server: TlsPostgres) -> str:
    """A freshly migrated database of this test's own on the TLS-only server."""
    dsn = tls_server.create_database(f"golive_{uuid.uuid4().hex[:12]}")
    apply_migrations(dsn, mode="test")
    return dsn


@pytest.fixture
def live_settings(tls_dsn: str) -> Settings:
    return Settings(
        admin_jwt_secret=STRONG_ADMIN_SECRET,
        database_url=tls_dsn,
        razorpay_key_id=LIVE_KEY_ID,
        razorpay_key_secret=LIVE_KEY_SECRET,
        razorpay_webhook_secrets=(LIVE_WEBHOOK_SECRET,),
        razorpay_api_base_url="https://api.razorpay.com",
        is_sandbox=False,
    )


@pytest.fixture
def make_live_app(live_settings: Settings) -> Iterator[Any]:
    """Build an app on the live-like settings, with some of them changed."""
    built: list[Flask] = []

    def make(**changes: Any) -> Flask:
        application = create_app(replace(live_settings, **changes))
        built.append(application)
        return application

    yield make
    for application in built:
        application.extensions[EXTENSION_KEY].db.close()


@pytest.fixture
def live_app(make_live_app: Any) -> Flask:
    application: Flask = make_live_app()
    return application
