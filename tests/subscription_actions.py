"""What a subscription test does as the admin (plans), the selling site, the customer on
the sandbox's Checkout, Razorpay (the webhooks it recorded) and its billing clock."""

from __future__ import annotations

from typing import Any

import razorpay
import requests
from flask.testing import FlaskClient

from tests.actions import RazorpayWebhooks, SiteCredentials

CUSTOMER = "ravi@example.com"
SKU = "all-courses"


class Memberships:
    """Act as the admin (plans), the selling site (subscribe, verify, cancel), the customer
    on the sandbox's Checkout, Razorpay (the webhooks it recorded) and its billing clock."""

    def __init__(
        self, client: FlaskClient, sandbox: Any, admin: dict[str, str], hooks: RazorpayWebhooks
    ) -> None:
        self.client = client
        self.sandbox = sandbox
        self.admin = admin
        self.hooks = hooks
        self._seen = len(self._events())

    def plan(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "sku": SKU,
            "name": "All courses, monthly",
            "period": "monthly",
            "interval": 1,
            "amount": 29900,
            **overrides,
        }
        response = self.client.post("/v1/plans", json=body, headers=self.admin)
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    def subscribe(
        self, site: SiteCredentials, plan: dict[str, Any], key: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        body = {"plan_id": plan["id"], "customer": {"email": CUSTOMER}, "total_count": 12}
        headers = {**site.headers, **({"Idempotency-Key": key} if key else {})}
        response = self.client.post("/v1/subscriptions", json=body | extra, headers=headers)
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    def pay(self, sub: dict[str, Any], outcome: str = "success") -> dict[str, Any]:
        """The customer authenticates on Checkout; what Checkout's handler receives."""
        response = requests.post(
            f"{self.sandbox.url}/_sandbox/subscriptions/{sub['razorpay_subscription_id']}/pay",
            json={"outcome": outcome, "email": CUSTOMER},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def verify(self, site: SiteCredentials, sub: dict[str, Any], result: dict[str, Any]) -> Any:
        return self.client.post(
            f"/v1/subscriptions/{sub['id']}/verify", json=result, headers=site.headers
        )

    def buy(self, site: SiteCredentials, plan: dict[str, Any]) -> dict[str, Any]:
        """Subscribe, pay, verify: the subscription as verify answers it."""
        sub = self.subscribe(site, plan)
        answer = self.verify(site, sub, self.pay(sub))
        assert answer.status_code == 200, answer.get_json()
        return dict(answer.get_json())

    def fetch(self, headers: dict[str, str], sub: dict[str, Any]) -> dict[str, Any]:
        response = self.client.get(f"/v1/subscriptions/{sub['id']}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return dict(response.get_json())

    def post(self, headers: dict[str, str], sub: dict[str, Any], action: str, **body: Any) -> Any:
        return self.client.post(
            f"/v1/subscriptions/{sub['id']}/{action}", json=body, headers=headers
        )

    def charges_fail(self, sub: dict[str, Any], outcome: str = "failure") -> None:
        response = requests.patch(
            f"{self.sandbox.url}/_sandbox/subscriptions/{sub['razorpay_subscription_id']}",
            json={"charge_outcome": outcome},
            timeout=10,
        )
        assert response.status_code == 200, response.text

    def charge_now(self, sub: dict[str, Any], outcome: str) -> None:
        """Razorpay's "charge now" (a pending or halted one: the open invoice)."""
        response = requests.post(
            f"{self.sandbox.url}/_sandbox/subscriptions/{sub['razorpay_subscription_id']}/charge",
            json={"outcome": outcome},
            timeout=10,
        )
        assert response.status_code == 200, response.text

    def advance(self, days: float = 0, to: int | None = None) -> None:
        body: dict[str, Any] = {"to": to} if to is not None else {"seconds": int(days * 86_400)}
        response = requests.post(
            f"{self.sandbox.url}/_sandbox/clock/advance", json=body, timeout=30
        )
        assert response.status_code == 200, response.text

    def rewind(self) -> None:
        """Reset the sandbox, which rewinds its one clock to the real time: later tests in
        the session (payment links' expiries) read it."""
        response = requests.post(f"{self.sandbox.url}/_sandbox/reset", timeout=10)
        assert response.status_code == 200, response.text
        self._seen = 0

    def new_events(self) -> list[dict[str, Any]]:
        """The webhooks the sandbox recorded since the last call (or since the start)."""
        events = self._events()
        fresh, self._seen = events[self._seen :], len(events)
        return fresh

    def deliver(self, events: list[dict[str, Any]]) -> list[str]:
        """Deliver recorded events as Razorpay does: the status each is stored with, or
        "duplicate" for a repeat of an event already received."""
        answers = [self.hooks.deliver(event) for event in events]
        assert all(answer.status_code == 200 for answer in answers), answers
        bodies = [answer.get_json() for answer in answers]
        return ["duplicate" if body["duplicate"] else str(body["status"]) for body in bodies]

    def deliver_new(self, sub: dict[str, Any]) -> list[str]:
        """Deliver what the sandbox sent about ``sub`` since the last call; the event names
        and stored statuses, as "name:status"."""
        events = self.about(sub, self.new_events())
        return [f"{e['event']}:{s}" for e, s in zip(events, self.deliver(events), strict=True)]

    def about(self, sub: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The events about ``sub``: those naming it, and the payments of its invoices."""
        rid = sub["razorpay_subscription_id"]
        invoices = self.razorpay().invoice.all({"subscription_id": rid, "count": 100})["items"]
        names = {rid} | {invoice["order_id"] for invoice in invoices}
        return [e for e in events if any(name in e["body"] for name in names)]

    def razorpay_entity(self, sub: dict[str, Any]) -> dict[str, Any]:
        """The subscription as Razorpay (the sandbox) has it now."""
        return dict(self.razorpay().subscription.fetch(sub["razorpay_subscription_id"]))

    def razorpay(self) -> Any:
        """The official SDK pointed at the sandbox."""
        client = razorpay.Client(
            auth=(self.sandbox.config.key_id, self.sandbox.config.key_secret),
            base_url=self.sandbox.url,
        )
        return client

    def _events(self) -> list[dict[str, Any]]:
        response = requests.get(f"{self.sandbox.url}/_sandbox/events", timeout=10)
        return list(response.json())


def owns(client: FlaskClient, site: SiteCredentials, sku: str = SKU) -> bool:
    """Whether ``site`` is told the customer owns the SKU (GET /v1/enrollments)."""
    response = client.get(
        "/v1/enrollments",
        query_string={"customer_email": CUSTOMER, "sku": sku},
        headers=site.headers,
    )
    assert response.status_code == 200, response.get_json()
    return any(item["status"] == "active" for item in response.get_json()["items"])
