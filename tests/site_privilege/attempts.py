"""The sale's shape and every request another site's token may try against it, with what
each must get."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

from tests.actions import SiteCredentials
from tests.contract.openapi import assert_conforms

ASHA = "asha@example.com"  # order_body's buyer, who buys from the old site


MEERA = "meera@example.com"  # the old site's payment link sells to her


RAVI = {"email": "ravi@example.com", "name": "Ravi", "contact": "+919800000001"}


TRAIL = "/v1/customers/{email}/transactions"


ADMIN_ONLY_ENROLLMENT_FIELDS = {"granted_by", "grant_reason", "revoked_by", "revoke_reason"}


CARD_FEE_AND_ADMIN_DETAILS = {
    "card_network",
    "card_last4",
    "vpa",
    "bank",
    "wallet",
    "fee",
    "tax",
    "requested_by",
    "reason",
    "by",
    "needs_attention",
}


@dataclass(frozen=True)
class Sale:
    """The old site's sale to Asha, refunded in part by the site and by an admin."""

    order_body: dict[str, Any]
    order_key: str
    order_id: str
    razorpay_order_id: str
    payment_id: str
    enrollment_id: str
    refund_body: dict[str, Any]
    refund_key: str
    refund_ids: list[str]
    razorpay_refund_ids: list[str]
    # The old site's unpaid payment link, to Meera.
    link_body: dict[str, Any]
    link_key: str
    link_id: str
    link_order_id: str
    # The old site's subscription of Asha's (not yet paid), and the admin's plan it is of.
    subscription_body: dict[str, Any]
    subscription_key: str
    subscription_id: str
    razorpay_subscription_id: str
    plan_id: str

    @property
    def secrets(self) -> list[str]:
        """What another site must never be told about this sale (unless it sent it)."""
        return [
            self.order_id,
            self.razorpay_order_id,
            self.payment_id,
            *self.refund_ids,
            *self.razorpay_refund_ids,
            self.link_id,
            self.link_order_id,
            self.subscription_id,
            self.razorpay_subscription_id,
            MEERA,
            ASHA,
            "Asha",
            "+919876543210",
            "u-42",
            "goodwill from the old site",
            "admin:tester",
            "a sorry from the merchant",
            "a speaker's seat",
        ]


@dataclass(frozen=True)
class Attempt:
    """One request of the other site's, and what it must get."""

    method: str
    path: str
    # "not_found", "forbidden", "empty" (a list of nothing), "only_its_own" (a list of the
    # other site's own orders only), "its_own" (a new order of the other site's), "shared"
    # (what every site reads alike: plans)
    expect: str
    body: dict[str, Any] | None = None
    idempotency_key: str | None = None


# Every operation a bearer token may call (the test below checks the list is complete),
# each tried by the new site on the old site's sale; an operation may be tried several ways.
ATTEMPTS: dict[str, tuple[str, Callable[[Sale], Attempt]]] = {
    "replay the old site's order key": (
        "POST /v1/orders",
        lambda s: Attempt(
            "POST",
            "/v1/orders",
            "its_own",
            {**s.order_body, "allow_owned": True},
            s.order_key,
        ),
    ),
    "list orders by the old site's customer": (
        "GET /v1/orders",
        lambda s: Attempt("GET", f"/v1/orders?customer_email={ASHA}", "empty"),
    ),
    "list orders of the old site": (
        "GET /v1/orders",
        lambda s: Attempt("GET", "/v1/orders?site_id=old-site", "only_its_own"),
    ),
    "fetch the old site's order": (
        "GET /v1/orders/{order_id}",
        lambda s: Attempt("GET", f"/v1/orders/{s.order_id}", "not_found"),
    ),
    "list payments of the old site's order": (
        "GET /v1/payments",
        lambda s: Attempt("GET", f"/v1/payments?order_id={s.order_id}", "empty"),
    ),
    "list payments by the old site's customer": (
        "GET /v1/payments",
        lambda s: Attempt("GET", f"/v1/payments?customer_email={ASHA}", "empty"),
    ),
    "refund the old site's payment with its refund key": (
        "POST /v1/refunds",
        lambda s: Attempt("POST", "/v1/refunds", "not_found", s.refund_body, s.refund_key),
    ),
    "refund the old site's order": (
        "POST /v1/refunds",
        lambda s: Attempt("POST", "/v1/refunds", "not_found", {"order_id": s.order_id}),
    ),
    "list refunds of the old site's order": (
        "GET /v1/refunds",
        lambda s: Attempt("GET", f"/v1/refunds?order_id={s.order_id}", "empty"),
    ),
    "list refunds of the old site's payment": (
        "GET /v1/refunds",
        lambda s: Attempt("GET", f"/v1/refunds?payment_id={s.payment_id}", "empty"),
    ),
    "fetch the old site's refund": (
        "GET /v1/refunds/{refund_id}",
        lambda s: Attempt("GET", f"/v1/refunds/{s.refund_ids[0]}", "not_found"),
    ),
    "replay the old site's payment link key": (
        "POST /v1/payment-links",
        lambda s: Attempt(
            "POST",
            "/v1/payment-links",
            "its_own",
            {**s.link_body, "return_url": "http://new.localhost:8022/thanks"},
            s.link_key,
        ),
    ),
    "make a payment link for the old site": (
        "POST /v1/payment-links",
        lambda s: Attempt(
            "POST", "/v1/payment-links", "forbidden", {**s.link_body, "site_id": "old-site"}
        ),
    ),
    "list the old site's payment links": (
        "GET /v1/payment-links",
        lambda s: Attempt("GET", "/v1/payment-links?site_id=old-site", "empty"),
    ),
    "fetch the old site's payment link": (
        "GET /v1/payment-links/{link_id}",
        lambda s: Attempt("GET", f"/v1/payment-links/{s.link_id}", "not_found"),
    ),
    "cancel the old site's payment link": (
        "POST /v1/payment-links/{link_id}/cancel",
        lambda s: Attempt("POST", f"/v1/payment-links/{s.link_id}/cancel", "not_found"),
    ),
    "replay the old site's subscription key": (
        "POST /v1/subscriptions",
        lambda s: Attempt(
            "POST", "/v1/subscriptions", "its_own", s.subscription_body, s.subscription_key
        ),
    ),
    "subscribe for the old site": (
        "POST /v1/subscriptions",
        lambda s: Attempt(
            "POST", "/v1/subscriptions", "forbidden", {**s.subscription_body, "site_id": "old-site"}
        ),
    ),
    "list the old site's subscriptions": (
        "GET /v1/subscriptions",
        lambda s: Attempt("GET", "/v1/subscriptions?site_id=old-site", "empty"),
    ),
    "list the old site's customer's subscriptions": (
        "GET /v1/subscriptions",
        lambda s: Attempt("GET", f"/v1/subscriptions?customer_email={ASHA}", "empty"),
    ),
    "fetch the old site's subscription": (
        "GET /v1/subscriptions/{subscription_id}",
        lambda s: Attempt("GET", f"/v1/subscriptions/{s.subscription_id}", "not_found"),
    ),
    "fetch the old site's subscription by Razorpay's id": (
        "GET /v1/subscriptions/{subscription_id}",
        lambda s: Attempt("GET", f"/v1/subscriptions/{s.razorpay_subscription_id}", "not_found"),
    ),
    "verify the old site's subscription": (
        "POST /v1/subscriptions/{subscription_id}/verify",
        lambda s: Attempt(
            "POST",
            f"/v1/subscriptions/{s.subscription_id}/verify",
            "not_found",
            {"razorpay_payment_id": "pay_Any00000000001", "razorpay_signature": "0" * 64},
        ),
    ),
    "cancel the old site's subscription": (
        "POST /v1/subscriptions/{subscription_id}/cancel",
        lambda s: Attempt("POST", f"/v1/subscriptions/{s.subscription_id}/cancel", "not_found", {}),
    ),
    "pause the old site's subscription": (
        "POST /v1/subscriptions/{subscription_id}/pause",
        lambda s: Attempt("POST", f"/v1/subscriptions/{s.subscription_id}/pause", "not_found"),
    ),
    "resume the old site's subscription": (
        "POST /v1/subscriptions/{subscription_id}/resume",
        lambda s: Attempt("POST", f"/v1/subscriptions/{s.subscription_id}/resume", "not_found"),
    ),
    "make a plan": (
        "POST /v1/plans",
        lambda s: Attempt(
            "POST",
            "/v1/plans",
            "forbidden",
            {"sku": "x-1", "name": "X", "period": "monthly", "amount": 10000},
        ),
    ),
    "list the plans": (
        "GET /v1/plans",
        lambda s: Attempt("GET", "/v1/plans", "shared"),
    ),
    "fetch the admin's plan": (
        "GET /v1/plans/{plan_id}",
        lambda s: Attempt("GET", f"/v1/plans/{s.plan_id}", "shared"),
    ),
    "list every owner of the old site's SKU": (
        "GET /v1/enrollments",
        lambda s: Attempt("GET", "/v1/enrollments?sku=python-101", "forbidden"),
    ),
    "grant the old site's customer a course": (
        "POST /v1/enrollments",
        lambda s: Attempt(
            "POST",
            "/v1/enrollments",
            "forbidden",
            {"customer_email": ASHA, "sku": "x-1", "reason": "r"},
        ),
    ),
    "revoke the old site's enrollment": (
        "POST /v1/enrollments/{enrollment_id}/revoke",
        lambda s: Attempt(
            "POST", f"/v1/enrollments/{s.enrollment_id}/revoke", "forbidden", {"reason": "mine"}
        ),
    ),
    "read the old site's customer's trail": (
        "GET /v1/customers/{email}/transactions",
        lambda s: Attempt("GET", f"/v1/customers/{ASHA}/transactions", "not_found"),
    ),
    "list Razorpay's events": (
        "GET /v1/webhook-events",
        lambda s: Attempt("GET", "/v1/webhook-events", "forbidden"),
    ),
    "re-apply a Razorpay event": (
        "POST /v1/webhook-events/{event_id}/reapply",
        lambda s: Attempt("POST", "/v1/webhook-events/evt_Any0000000001/reapply", "forbidden"),
    ),
    "reconcile": (
        "POST /v1/reconcile",
        lambda s: Attempt(
            "POST",
            "/v1/reconcile",
            "forbidden",
            {"from": "2026-01-01T00:00:00+00:00", "to": "2026-01-02T00:00:00+00:00"},
        ),
    ),
    "list the old site's notifications": (
        "GET /v1/notifications",
        lambda s: Attempt("GET", "/v1/notifications?site_id=old-site", "forbidden"),
    ),
    "redeliver a notification": (
        "POST /v1/notifications/{notification_id}/redeliver",
        lambda s: Attempt("POST", "/v1/notifications/ntf_Any0000000001/redeliver", "forbidden"),
    ),
}


def _send(client: FlaskClient, site: SiteCredentials, attempt: Attempt) -> Any:
    headers = dict(site.headers)
    if attempt.idempotency_key:
        headers["Idempotency-Key"] = attempt.idempotency_key
    return client.open(attempt.path, method=attempt.method, json=attempt.body, headers=headers)


def _trail(client: FlaskClient, headers: dict[str, str], email: str = ASHA) -> dict[str, Any]:
    answer = client.get(f"/v1/customers/{email}/transactions", headers=headers)
    assert_conforms(answer, TRAIL, 200)
    return dict(answer.get_json())


def _detail_keys(trail: dict[str, Any]) -> set[str]:
    return {key for entry in trail["entries"] for key in entry["details"] or {}}
