"""What a test does as a site, a buyer or Razorpay: register a site, buy through Checkout
on the sandbox, send signed webhooks, move the clock."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient

from payments_service.auth import mint_site_token
from payments_service.services import EXTENSION_KEY
from payments_service.sites import create_site


class Clock:
    """Real time plus an offset that the test moves forward by hand."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    @property
    def now(self) -> datetime:
        return self()

    @now.setter
    def now(self, when: datetime) -> None:
        self.offset = max(self.offset, when - datetime.now(UTC))

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


def use_clock(app: Flask, clock: Clock) -> Flask:
    """Make ``clock`` the app's time (Idempotency-Key leases); returns the app."""
    app.extensions[EXTENSION_KEY] = replace(app.extensions[EXTENSION_KEY], clock=clock)
    return app


def use_public_url(app: Flask, url: str) -> Flask:
    """Make ``url`` the app's PUBLIC_BASE_URL (where payment links send buyers back)."""
    services = app.extensions[EXTENSION_KEY]
    settings = replace(services.settings, public_base_url=url)
    app.extensions[EXTENSION_KEY] = replace(services, settings=settings)
    return app


@dataclass(frozen=True)
class SiteCredentials:
    site_id: str
    jwt_secret: str
    callback_secret: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def register_site(
    app: Flask, site_id: str, origin: str, callback_url: str | None = None
) -> SiteCredentials:
    """Register a site; without a callback URL it is sent no notifications."""
    services = app.extensions["payments_service"]
    site = create_site(
        services.db,
        site_id=site_id,
        name=site_id.replace("-", " ").title(),
        callback_url=callback_url,
        allowed_origins=[origin],
    )
    token = mint_site_token(
        site.jwt_secret, site.id, services.settings.jwt_audience, None, timedelta(minutes=10)
    )
    return SiteCredentials(site.id, site.jwt_secret, site.callback_secret, token)


def order_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /v1/orders body; keyword arguments replace top-level fields."""
    body: dict[str, Any] = {
        "amount": 49900,
        "currency": "INR",
        "product": {"sku": "python-101", "name": "Python 101"},
        "customer": {
            "email": "Asha@Example.com",
            "name": "Asha",
            "contact": "+919876543210",
            "site_user_id": "u-42",
        },
        "notes": {"campaign": "launch"},
    }
    body.update(overrides)
    return body


class Checkout:
    """Action helpers in the style of flaskr's ``auth``: act as the buyer and the site."""

    def __init__(self, client: FlaskClient, sandbox: Any) -> None:
        self.client = client
        self.sandbox = sandbox

    def create_order(self, site: SiteCredentials, **overrides: Any) -> dict[str, Any]:
        response = self.client.post(
            "/v1/orders", json=order_body(**overrides), headers=site.headers
        )
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    def pay(self, order: dict[str, Any], outcome: str = "success", **extra: Any) -> dict[str, Any]:
        """The buyer completes Checkout in the sandbox; returns what Checkout hands back."""
        razorpay_order_id = order["checkout"]["order_id"]
        response = requests.post(
            f"{self.sandbox.url}/_sandbox/orders/{razorpay_order_id}/pay",
            json={"outcome": outcome, **extra},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def verify(self, result: dict[str, Any]) -> Any:
        return self.client.post("/v1/payments/verify", json=result)

    def buy(self, site: SiteCredentials, **overrides: Any) -> dict[str, Any]:
        """A whole purchase: order, payment, verify. Returns the verified order."""
        order = self.create_order(site, **overrides)
        result = self.pay(order)
        verified = self.verify(result)
        assert verified.status_code == 200, verified.get_json()
        return {**verified.get_json()["order"], "payment_id": result["razorpay_payment_id"]}

    def refund(self, headers: dict[str, str], **body: Any) -> Any:
        return self.client.post("/v1/refunds", json=body, headers=headers)


class RazorpayWebhooks:
    """Replays what the sandbox would send to POST /v1/webhooks/razorpay, byte for byte."""

    def __init__(self, client: FlaskClient, sandbox: Any) -> None:
        self.client = client
        self.sandbox = sandbox

    def events_for(self, razorpay_order_id: str) -> list[dict[str, Any]]:
        """Every event the sandbox emitted about this order, oldest first."""
        events = requests.get(f"{self.sandbox.url}/_sandbox/events", timeout=10).json()
        return [event for event in events if razorpay_order_id in event["body"]]

    def event(self, razorpay_order_id: str, name: str) -> dict[str, Any]:
        """The one event of this name about this order."""
        (found,) = [e for e in self.events_for(razorpay_order_id) if e["event"] == name]
        return found

    def deliver(self, event: dict[str, Any]) -> Any:
        """Deliver a recorded event as Razorpay does (same bytes, signature and id)."""
        return self.post(event["body"].encode(), event["signature"], event["id"])

    def post(self, body: bytes, signature: str | None, event_id: str | None) -> Any:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Razorpay-Signature"] = signature
        if event_id is not None:
            headers["X-Razorpay-Event-Id"] = event_id
        return self.client.post("/v1/webhooks/razorpay", data=body, headers=headers)


def link_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /v1/payment-links body for the new site (new.localhost:8022)."""
    body: dict[str, Any] = {
        "amount": 49900,
        "product": {"sku": "python-101", "name": "Python 101"},
        "customer": {"email": "Ravi@Example.com", "name": "Ravi", "contact": "+919812345678"},
        "return_url": "http://new.localhost:8022/thanks?from=link",
        "notify": {"email": True, "sms": False},
        "notes": {"campaign": "whatsapp"},
    }
    body.update(overrides)
    return body


class PaymentLinks:
    """Act as the seller making links, and as the buyer paying on the sandbox's hosted page
    and coming back through the callback."""

    def __init__(self, client: FlaskClient, sandbox: Any) -> None:
        self.client = client
        self.sandbox = sandbox

    def create(self, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
        response = self.client.post(
            "/v1/payment-links", json=link_body(**overrides), headers=headers
        )
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    def pay(self, link: dict[str, Any], outcome: str = "success") -> dict[str, Any]:
        """The buyer pays the whole link on the hosted page; returns the five callback
        parameters and the redirect_url the page sends the browser to."""
        response = requests.post(
            f"{self.sandbox.url}/_sandbox/payment_links/{link['id']}/pay",
            json={"outcome": outcome},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def come_back(self, params: dict[str, str]) -> Any:
        """The buyer's browser follows the redirect to our callback."""
        query = {k: v for k, v in params.items() if k.startswith("razorpay_")}
        return self.client.get("/v1/payment-links/callback", query_string=query)

    def advance_sandbox_clock(self, seconds: int) -> None:
        response = requests.post(
            f"{self.sandbox.url}/_sandbox/clock/advance", json={"seconds": seconds}, timeout=10
        )
        assert response.status_code == 200, response.text


def order_counts(db_rows: Any, order_id: str) -> tuple[int, int, int]:
    """(payments, enrollments, enrollment.granted notifications) of one order."""
    payments = db_rows("SELECT id FROM payments WHERE order_id = %s", order_id)
    enrollments = db_rows("SELECT id FROM enrollments WHERE order_id = %s", order_id)
    granted = db_rows("SELECT id FROM notifications WHERE event_type = 'enrollment.granted'")
    return len(payments), len(enrollments), len(granted)
