"""How the demo talks to the service about the membership: its plan (defined once by an
admin, found by every site) and the buyer's subscriptions (the site's own token)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from .catalogue import MEMBERSHIP
from .service import TIMEOUT_SECONDS, Answer, ServiceUnavailable, StoreConfig, call, site_token
from .service import admin_token as mint_admin_token

# The statuses after which a subscription is over: the buyer may subscribe again.
ENDED = ("cancelled", "completed", "expired")
# Made but never paid on Checkout (a closed tab): offered again instead of a new one.
UNPAID = ("creating", "created")
PLAN_FIELDS = ("sku", "period", "interval", "amount", "currency")


def _is_membership_plan(plan: dict[str, Any]) -> bool:
    wanted = {**MEMBERSHIP, "currency": "INR"}
    return all(plan.get(name) == wanted[name] for name in PLAN_FIELDS)


def ensure_plan(api_url: str, audience: str, admin_jwt_secret: str) -> dict[str, Any]:
    """The membership's plan: an existing one for its SKU at its price and period, else one
    made now (admin only). Idempotent, so every `make run` start may call it. Raises
    ServiceUnavailable when the service refuses or cannot be reached."""
    headers = {"Authorization": f"Bearer {mint_admin_token(admin_jwt_secret, audience)}"}
    found = _plans(api_url, headers)
    if found is not None:
        return found
    body = {name: MEMBERSHIP[name] for name in ("sku", "name", "period", "interval", "amount")}
    body |= {"description": MEMBERSHIP["description"], "currency": "INR"}
    try:
        response = requests.post(
            f"{api_url}/v1/plans", json=body, headers=headers, timeout=TIMEOUT_SECONDS
        )
        made: dict[str, Any] = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ServiceUnavailable(f"POST /v1/plans: {type(error).__name__}") from None
    if response.status_code != 201:
        raise ServiceUnavailable(f"POST /v1/plans answered {response.status_code}: {made}")
    return made


def _plans(api_url: str, headers: dict[str, str]) -> dict[str, Any] | None:
    try:
        response = requests.get(
            f"{api_url}/v1/plans",
            params={"sku": MEMBERSHIP["sku"], "limit": "100"},
            headers=headers,
            timeout=TIMEOUT_SECONDS,
        )
        items = response.json()["items"]
    except (requests.RequestException, ValueError, KeyError, TypeError) as error:
        raise ServiceUnavailable(f"GET /v1/plans: {type(error).__name__}") from None
    return next((plan for plan in items if _is_membership_plan(plan)), None)


def membership_plan(config: StoreConfig) -> dict[str, Any] | None:
    """The plan this site sells the membership by (None before an admin defined it)."""
    return _plans(config.api_url, {"Authorization": f"Bearer {site_token(config)}"})


def subscriptions_of(config: StoreConfig, email: str, plan_id: str) -> list[dict[str, Any]]:
    """The buyer's subscriptions to ``plan_id`` sold by this site, newest first (list items
    carry no plan, access or checkout: fetch one for those). Raises ServiceUnavailable."""
    query = {"customer_email": email, "limit": "20"}
    answer = call(config, "GET", "/v1/subscriptions", site_token(config), query)
    if answer.status != 200:
        raise ServiceUnavailable(f"GET /v1/subscriptions answered {answer.status}: {answer.detail}")
    return [item for item in answer.body["items"] if item["plan_id"] == plan_id]


def shown_subscription(config: StoreConfig, email: str, plan_id: str) -> dict[str, Any] | None:
    """The subscription the page shows: the newest the buyer paid for on this site."""
    paid = [s for s in subscriptions_of(config, email, plan_id) if s["status"] not in UNPAID]
    return paid[0] if paid else None


def subscribe(config: StoreConfig, email: str, plan_id: str, key: str) -> Answer:
    """POST /v1/subscriptions (Idempotency-Key ``key``), or the buyer's newest unpaid one
    again (Checkout closed before paying). Raises ServiceUnavailable."""
    mine = subscriptions_of(config, email, plan_id)
    if mine and mine[0]["status"] == "created":
        again = subscription(config, mine[0]["id"])
        if again.status == 200 and again.body.get("checkout"):
            return again
    body = {
        "plan_id": plan_id,
        "customer": {"email": email},
        "total_count": MEMBERSHIP["total_count"],
        "notes": {"bought_on": config.site_id},
    }
    headers = {"Idempotency-Key": key}
    return call(config, "POST", "/v1/subscriptions", site_token(config), json=body, headers=headers)


def subscription(config: StoreConfig, subscription_id: str) -> Answer:
    """GET /v1/subscriptions/{id}: one of this site's. Raises ServiceUnavailable."""
    return call(config, "GET", _path(subscription_id), site_token(config))


def verify(config: StoreConfig, subscription_id: str, result: dict[str, Any]) -> Answer:
    """POST /v1/subscriptions/{id}/verify with Checkout's three fields."""
    fields = ("razorpay_payment_id", "razorpay_subscription_id", "razorpay_signature")
    body = {name: str(result.get(name, "")) for name in fields}
    path = f"{_path(subscription_id)}/verify"
    return call(config, "POST", path, site_token(config), json=body)


def cancel_at_cycle_end(config: StoreConfig, subscription_id: str) -> Answer:
    """POST /v1/subscriptions/{id}/cancel: access stays until the paid month ends."""
    path = f"{_path(subscription_id)}/cancel"
    return call(config, "POST", path, site_token(config), json={"at_cycle_end": True})


def _path(subscription_id: str) -> str:
    return f"/v1/subscriptions/{quote(subscription_id, safe='')}"
