"""How the demo site talks to the payments service: HTTP with tokens it mints itself.

A site token (signed with the site's own secret) for its buyers' orders and access; an
admin token (signed with the service's admin secret, as `make run` hands it over) only
for the local-development admin page. Both live five minutes and are minted per call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import jwt
import requests

# The service names itself in admin tokens with this issuer (Settings.jwt_issuer).
ADMIN_ISSUER = "payments-service"
ADMIN_SUBJECT = "demo-admin-page"
TOKEN_SECONDS = 300
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class StoreConfig:
    """One demo site: who it is, its secrets, and where the service and Checkout live.

    Without ``admin_jwt_secret`` the site has no admin page.
    """

    site_id: str
    title: str
    jwt_secret: str = field(repr=False)
    audience: str
    api_url: str
    checkout_script_url: str
    callback_secret: str = field(default="", repr=False)
    accent: str = "#2563eb"
    admin_jwt_secret: str = field(default="", repr=False)

    @property
    def has_admin_page(self) -> bool:
        """Whether this process was given the admin secret (only `make run` and tests do)."""
        return bool(self.admin_jwt_secret)


class ServiceUnavailable(Exception):
    """The payments service did not answer, or answered something unexpected."""


@dataclass(frozen=True)
class Answer:
    """A service response the page shows as it is: status and JSON body."""

    status: int
    body: dict[str, Any]

    @property
    def detail(self) -> str:
        """The problem's detail for an error answer."""
        return str(self.body.get("detail") or self.body.get("title") or self.status)


def owned_courses(config: StoreConfig, email: str) -> dict[str, dict[str, Any]]:
    """The customer's active enrollments on any site, by SKU, asked of the service now.

    Raises ServiceUnavailable.
    """
    answer = call(config, "GET", "/v1/enrollments", site_token(config), {"customer_email": email})
    if answer.status != 200:
        raise ServiceUnavailable(f"GET /v1/enrollments answered {answer.status}: {answer.detail}")
    return {item["sku"]: item for item in answer.body["items"]}


def create_order(config: StoreConfig, email: str, product: dict[str, Any]) -> Answer:
    """POST /v1/orders for one catalogue product. Raises ServiceUnavailable."""
    body = {
        "amount": product["amount"],
        "currency": "INR",
        "product": {"sku": product["sku"], "name": product["name"]},
        "customer": {"email": email},
    }
    return call(config, "POST", "/v1/orders", site_token(config), json=body)


def create_payment_link(
    config: StoreConfig,
    product: dict[str, Any],
    customer: dict[str, str],
    return_url: str,
    key: str,
) -> Answer:
    """POST /v1/payment-links for one catalogue product, with the site's own token; ``key``
    is the Idempotency-Key, so a resubmitted form returns the first link. Raises
    ServiceUnavailable."""
    body = {
        "amount": product["amount"],
        "currency": "INR",
        "product": {"sku": product["sku"], "name": product["name"]},
        "customer": customer,
        "return_url": return_url,
    }
    headers = {"Idempotency-Key": key}
    return call(config, "POST", "/v1/payment-links", site_token(config), json=body, headers=headers)


def payment_link(config: StoreConfig, link_id: str) -> Answer:
    """GET /v1/payment-links/{id} with the site's token. Raises ServiceUnavailable."""
    return call(config, "GET", f"/v1/payment-links/{quote(link_id, safe='')}", site_token(config))


def order(config: StoreConfig, order_id: str) -> Answer:
    """GET /v1/orders/{id} with the site's token: what the service says of one of the
    site's own orders. Raises ServiceUnavailable."""
    return call(config, "GET", f"/v1/orders/{quote(order_id, safe='')}", site_token(config))


def recent_orders(config: StoreConfig, limit: int = 25) -> list[dict[str, Any]]:
    """Every site's newest orders (admin). Raises ServiceUnavailable."""
    answer = call(config, "GET", "/v1/orders", _admin_token(config), {"limit": str(limit)})
    if answer.status != 200:
        raise ServiceUnavailable(f"GET /v1/orders answered {answer.status}: {answer.detail}")
    items: list[dict[str, Any]] = answer.body["items"]
    return items


def refund_order(config: StoreConfig, order_id: str) -> Answer:
    """Refund all of an order (admin). The Idempotency-Key is the order's, so a second
    click, a reload or a retry after a lost answer returns the first refund instead of
    making another. Raises ServiceUnavailable."""
    return call(
        config,
        "POST",
        "/v1/refunds",
        _admin_token(config),
        json={"order_id": order_id, "reason": "refunded from the demo admin page"},
        headers={"Idempotency-Key": refund_key(order_id)},
    )


def refund_key(order_id: str) -> str:
    """The Idempotency-Key of the admin page's full refund of one order."""
    return f"demo-admin-refund-{order_id}"


def call(
    config: StoreConfig,
    method: str,
    path: str,
    token: str,
    params: dict[str, str] | None = None,
    json: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    try:
        response = requests.request(
            method,
            f"{config.api_url}{path}",
            params=params,
            json=json,
            headers={"Authorization": f"Bearer {token}", **(headers or {})},
            timeout=TIMEOUT_SECONDS,
        )
        body = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ServiceUnavailable(f"{method} {path}: {type(error).__name__}") from None
    if not isinstance(body, dict):
        raise ServiceUnavailable(f"{method} {path} answered {response.status_code} without JSON")
    return Answer(response.status_code, body)


def site_token(config: StoreConfig) -> str:
    return _mint(config.jwt_secret, config.site_id, config.audience, {})


def _admin_token(config: StoreConfig) -> str:
    if not config.admin_jwt_secret:
        raise ServiceUnavailable("this demo site was started without the admin secret")
    return admin_token(config.admin_jwt_secret, config.audience)


def admin_token(admin_jwt_secret: str, audience: str) -> str:
    """As payments_service.auth.mint_admin_token does, for the demo's own admin page (and
    `make run`, which defines the membership's plan)."""
    claims = {"sub": ADMIN_SUBJECT, "role": "admin"}
    return _mint(admin_jwt_secret, ADMIN_ISSUER, audience, claims)


def _mint(secret: str, issuer: str, audience: str, extra: dict[str, str]) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": issuer, "aud": audience, "iat": now}
    return jwt.encode({**claims, "exp": now + TOKEN_SECONDS, **extra}, secret, algorithm="HS256")
