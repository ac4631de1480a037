"""A tiny demo storefront, run once per demo site by `make run`.

It behaves like a merchant's own website: it talks to the payments service only over
HTTP with its own site JWT, and opens Checkout in the browser. Nothing in the service
imports it. For local development it also has an admin page (see admin.py).
"""

from __future__ import annotations

from .app import create_app
from .service import StoreConfig

__all__ = ["StoreConfig", "create_app"]
