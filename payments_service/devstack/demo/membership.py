"""The membership on the storefront: subscribe with Checkout (``subscription_id``), verify
through the service, show the subscription's status, cancel at the end of the paid month.

Access itself is never taken from here: the store page reads the buyer's enrollments, and
the service grants and revokes the membership's enrollment as the billing goes (active, a
failed charge being retried, halted, resumed, cancelled), for every site alike.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, abort, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from . import memberships_api
from .memberships_api import ENDED
from .service import ServiceUnavailable, StoreConfig

FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
STATUS_TEXT = {
    "authenticated": "authorised, first charge due",
    "active": "active",
    "pending": "a charge failed; Razorpay is retrying it",
    "halted": "halted: the charges failed, access is paused until a payment succeeds",
    "paused": "paused",
    "cancelled": "cancelled",
    "completed": "completed",
    "expired": "expired",
}


def membership_view(config: StoreConfig, email: str) -> dict[str, Any]:
    """What the store page shows of the membership for a signed-in buyer: the plan (None
    before one is defined), this site's subscription, and whether to offer Subscribe.
    Raises ServiceUnavailable."""
    plan = memberships_api.membership_plan(config)
    sub = memberships_api.shown_subscription(config, email, plan["id"]) if plan else None
    status = sub["status"] if sub else ""
    return {
        "plan": plan,
        "subscription": sub,
        "status_text": STATUS_TEXT.get(status, status),
        "can_subscribe": plan is not None and (sub is None or status in ENDED),
        "can_cancel": sub is not None and status not in ENDED and not sub["cancel_at_cycle_end"],
    }


def add_membership_routes(app: Flask, config: StoreConfig, signed_in: Any) -> None:
    """Add POST /subscriptions, /subscriptions/<id>/verify and /subscriptions/<id>/cancel;
    ``signed_in()`` is the buyer's email from the site's cookie ("" when signed out)."""

    @app.post("/subscriptions")
    def subscribe() -> tuple[Response, int]:
        email, key = signed_in(), request.form.get("key", "")
        if not email or not FORM_KEY.match(key):
            return jsonify({"error": "sign in to subscribe"}), 400
        try:
            plan = memberships_api.membership_plan(config)
            if plan is None:
                return jsonify({"error": "the membership is not on sale yet"}), 409
            answer = memberships_api.subscribe(config, email, plan["id"], f"demo-sub-{key}")
        except ServiceUnavailable as error:
            return jsonify({"error": str(error)}), 503
        return jsonify(answer.body), answer.status

    @app.post("/subscriptions/<subscription_id>/verify")
    def verify(subscription_id: str) -> tuple[Response, int]:
        result = request.get_json(silent=True)
        if not signed_in() or not isinstance(result, dict):
            return jsonify({"error": "sign in and send Checkout's result"}), 400
        try:
            answer = memberships_api.verify(config, subscription_id, result)
        except ServiceUnavailable as error:
            return jsonify({"error": str(error)}), 503
        return jsonify(answer.body), answer.status

    @app.post("/subscriptions/<subscription_id>/cancel")
    def cancel(subscription_id: str) -> BaseResponse | tuple[Response, int]:
        _refuse_other_origins()
        try:
            return _cancel(config, signed_in(), subscription_id)
        except ServiceUnavailable as error:
            return jsonify({"error": str(error)}), 503


def _cancel(
    config: StoreConfig, email: str, subscription_id: str
) -> BaseResponse | tuple[Response, int]:
    """Cancel at cycle end, only the signed-in buyer's own subscription."""
    found = memberships_api.subscription(config, subscription_id)
    if not email or found.status != 200 or found.body["customer"]["email"] != email:
        return jsonify({"error": "no such membership of yours"}), 404
    answer = memberships_api.cancel_at_cycle_end(config, subscription_id)
    if answer.status != 200:
        return jsonify(answer.body), answer.status
    return redirect("/", code=303)


def _refuse_other_origins() -> None:
    """A page on another site cannot make the buyer's browser cancel here (CSRF)."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != request.host_url.rstrip("/"):
        abort(403, "cross-origin form posts are refused")
