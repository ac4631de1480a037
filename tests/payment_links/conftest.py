"""Fixtures for payment links: two sites that hear from us, and the link actions."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.actions import PaymentLinks, SiteCredentials, register_site


@pytest.fixture
def links(client: FlaskClient, sandbox: Any) -> PaymentLinks:
    return PaymentLinks(client, sandbox)


@pytest.fixture
def seller(app: Flask) -> SiteCredentials:
    """The site the links sell for (origin http://new.localhost:8022), with a callback URL
    so it is sent notifications."""
    return register_site(
        app, "new-site", "http://new.localhost:8022", "http://new.localhost:8022/hook"
    )


@pytest.fixture
def other_site(app: Flask) -> SiteCredentials:
    return register_site(
        app, "old-site", "http://old.localhost:8021", "http://old.localhost:8021/hook"
    )
