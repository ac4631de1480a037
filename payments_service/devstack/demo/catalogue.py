"""What the demo sites sell: the same two courses on every site, priced in paise."""

from __future__ import annotations

from typing import Any

CATALOGUE: list[dict[str, Any]] = [
    {"sku": "python-101", "name": "Python 101", "amount": 49900},
    {"sku": "data-201", "name": "Data Analysis 201", "amount": 99900},
]


def product(sku: str | None) -> dict[str, Any] | None:
    """The catalogue entry of ``sku``, or None."""
    return next((p for p in CATALOGUE if p["sku"] == sku), None)
