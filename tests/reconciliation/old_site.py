"""Reconciling through the admin API, and purchases made on the old site (orders this service
never created)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import razorpay
import requests
from flask import Flask

WINDOW = {
    "from": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
    "to": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
}


def _reconcile(app: Flask, headers: dict[str, str]) -> dict[str, Any]:
    answer = app.test_client().post("/v1/reconcile", json=WINDOW, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return dict(answer.get_json())


def _old_site_purchase(sandbox: Any, email: str, **order_fields: Any) -> dict[str, Any]:
    """What the old site does on its own: an order at Razorpay, paid by a buyer."""
    sdk = razorpay.Client(
        auth=(sandbox.config.key_id, sandbox.config.key_secret), base_url=sandbox.url
    )
    order = sdk.order.create({"amount": 79900, "currency": "INR", **order_fields})
    paid = requests.post(
        f"{sandbox.url}/_sandbox/orders/{order['id']}/pay",
        json={"outcome": "success", "email": email},
        timeout=10,
    )
    assert paid.status_code == 200
    return dict(order)


def _cli_time(hours: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")
