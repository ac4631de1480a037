from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from flask import Flask

from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', sample))
        if sample.split("{")[0] == name and all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


def test_metrics_show_a_test_purchase(
    client: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    app: Flask,
    new_site: SiteCredentials,
) -> None:
    from tests.actions import register_site

    register_site(app, "hooked", "http://hooked.localhost", "http://127.0.0.1:9/callback")
    order = checkout.create_order(new_site)
    checkout.pay(order)
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.captured"))
    webhooks.post(b"{}", "0" * 64, "evt_bad")

    answer = client.get("/metrics")

    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain")
    text = answer.get_data(as_text=True)
    assert (
        _metric(
            text, "payments_http_requests_total", endpoint="/v1/orders", method="POST", status="201"
        )
        == 1
    )
    assert (
        _metric(text, "payments_http_request_seconds_count", endpoint="/v1/orders", method="POST")
        == 1
    )
    assert (
        _metric(text, "payments_razorpay_calls_total", operation="order.create", outcome="ok") == 1
    )
    assert (
        _metric(text, "payments_webhooks_total", event_type="payment.captured", outcome="applied")
        == 1
    )
    assert _metric(text, "payments_webhooks_total", outcome="rejected") == 1
    assert _metric(text, "payments_notifications", status="pending") == 1  # to "hooked"
    assert _metric(text, "payments_notification_oldest_pending_seconds") >= 0
    assert _metric(text, "payments_last_webhook_received_timestamp_seconds") > 1.7e9


def test_logs_are_json_with_the_request_id_and_no_secrets(
    client: Any, checkout: Checkout, new_site: SiteCredentials, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    logging.getLogger("payments_service.test").warning("outside any request")
    client.post("/v1/webhooks/razorpay", data=b"{}", headers={"X-Request-Id": "trace-42"})
    order = checkout.create_order(new_site)
    checkout.verify(checkout.pay(order))

    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    assert lines, "expected JSON log lines on stderr"
    assert all({"ts", "level", "logger", "message", "request_id"} <= set(e) for e in lines)
    rejected = [e for e in lines if "rejected a webhook" in e["message"]]
    assert [e["request_id"] for e in rejected] == ["trace-42"]
    everything = json.dumps(lines)
    assert new_site.jwt_secret not in everything
    assert "sandbox_key_secret" not in everything
    assert new_site.token not in everything


def test_swagger_ui_is_served_from_bundled_assets(client: Any) -> None:
    page = client.get("/docs/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/openapi.yaml" in html and "persistAuthorization" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        with client.get(f"/docs/{asset}") as served:
            assert served.status_code == 200 and len(served.get_data()) > 10_000
