"""What the demo sites sell: the same two courses on every site, priced in paise, and a
membership (all courses, billed monthly) sold through the plan an admin defines for its SKU."""

from __future__ import annotations

from typing import Any

CATALOGUE: list[dict[str, Any]] = [
    {"sku": "python-101", "name": "Python 101", "amount": 49900},
    {"sku": "data-201", "name": "Data Analysis 201", "amount": 99900},
]


def product(sku: str | None) -> dict[str, Any] | None:
    """The catalogue entry of ``sku``, or None."""
    return next((p for p in CATALOGUE if p["sku"] == sku), None)


# The membership: its plan is made once by `make run` (membership.ensure_plan) and found by
# SKU, price and period on every page load, so every demo site sells the same plan.
MEMBERSHIP: dict[str, Any] = {
    "sku": "all-courses",
    "name": "All courses",
    "description": "Every course on every site, Rs 299 a month",
    "amount": 29900,
    "period": "monthly",
    "interval": 1,
    "total_count": 12,
}
