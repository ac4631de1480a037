"""Reconciliation: a time window pulled from Razorpay (window.py), applied by pages
(pages.py), the old site's purchases adopted on the way (legacy_import.py)."""

from __future__ import annotations

from .legacy_import import LegacyImport, SkuRule, adopt_payment, derive_product, load_sku_rules
from .pages import ReconcileReport
from .window import (
    MAX_WINDOW,
    RAZORPAY_EARLIEST,
    RAZORPAY_LATEST,
    heal_open_orders,
    reconcile_window,
)

__all__ = [
    "MAX_WINDOW",
    "RAZORPAY_EARLIEST",
    "RAZORPAY_LATEST",
    "LegacyImport",
    "ReconcileReport",
    "SkuRule",
    "adopt_payment",
    "derive_product",
    "heal_open_orders",
    "load_sku_rules",
    "reconcile_window",
]
