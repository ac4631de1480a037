"""Fixtures for subscriptions: two sites that hear from us, an admin's plan, and the
actions of tests/subscription_actions.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.actions import RazorpayWebhooks, SiteCredentials, register_site
from tests.subscription_actions import Memberships


@pytest.fixture
def seller(app: Flask) -> SiteCredentials:
    """The site that sells the membership (notified through its callback URL)."""
    return register_site(
        app, "new-site", "http://new.localhost:8022", "http://new.localhost:8022/hook"
    )


@pytest.fixture
def other_site(app: Flask) -> SiteCredentials:
    return register_site(
        app, "old-site", "http://old.localhost:8021", "http://old.localhost:8021/hook"
    )


@pytest.fixture
def memberships(
    client: FlaskClient, sandbox: Any, admin_headers: dict[str, str], webhooks: RazorpayWebhooks
) -> Iterator[Memberships]:
    """The actions; afterwards the sandbox is reset, its clock back to the real time."""
    actions = Memberships(client, sandbox, admin_headers, webhooks)
    yield actions
    actions.rewind()


@pytest.fixture
def plan(memberships: Memberships) -> dict[str, Any]:
    return memberships.plan()
