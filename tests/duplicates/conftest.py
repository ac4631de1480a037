"""The site the duplicate tests sell on: it has a callback URL, so what it would be told is
queued and can be read."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.actions import SiteCredentials, register_site


@pytest.fixture
def shop_site(app: Flask) -> SiteCredentials:
    """A site with a callback URL, so what it would be told is queued (and countable)."""
    return register_site(app, "shop-site", "http://shop.localhost:8023", "http://127.0.0.1:9/cb")
