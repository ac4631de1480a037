"""The storefront: a course catalogue, buy buttons, and access learnt from notifications.

Like a real site, it keeps its own record of who owns what, fed by the service's signed
callbacks (verified over the raw body), and can also ask the service directly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from flask import Flask, Response, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

CATALOGUE = [
    {"sku": "python-101", "name": "Python 101", "amount": 49900},
    {"sku": "data-201", "name": "Data Analysis 201", "amount": 99900},
]
EMAIL_COOKIE = "demo_email"


@dataclass(frozen=True)
class StoreConfig:
    """One demo site: who it is, its JWT secret, and where the service and Checkout live."""

    site_id: str
    title: str
    jwt_secret: str
    audience: str
    api_url: str
    checkout_script_url: str
    callback_secret: str = ""
    accent: str = "#2563eb"


@dataclass
class AccessBook:
    """The site's own record of access, as its notifications told it (email -> SKUs)."""

    skus: dict[str, set[str]] = field(default_factory=dict)
    seen_events: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def apply(self, event: dict[str, Any]) -> None:
        """Apply one enrollment event, once per event id."""
        with self.lock:
            if event["id"] in self.seen_events:
                return
            self.seen_events.add(event["id"])
            enrollment = event["data"]["enrollment"]
            owned = self.skus.setdefault(enrollment["customer_email"], set())
            if event["type"] == "enrollment.granted":
                owned.add(enrollment["sku"])
            else:
                owned.discard(enrollment["sku"])

    def owned_by(self, email: str) -> set[str]:
        """SKUs this site believes the customer owns."""
        with self.lock:
            return set(self.skus.get(email, set()))


def create_app(config: StoreConfig) -> Flask:
    """Build the storefront app for one demo site."""
    app = Flask(__name__)
    book = AccessBook()
    app.extensions["store"] = config
    app.extensions["access_book"] = book

    @app.get("/")
    def home() -> str:
        email = request.cookies.get(EMAIL_COOKIE, "")
        owned = book.owned_by(email) if email else set()
        confirmed = _owned_skus(config, email) if email else set()
        return render_template(
            "store.html",
            store=config,
            email=email,
            owned=owned,
            confirmed=confirmed,
            catalogue=CATALOGUE,
        )

    @app.post("/sign-in")
    def sign_in() -> BaseResponse:
        response = redirect("/")
        response.set_cookie(
            EMAIL_COOKIE, request.form.get("email", "").strip().lower(), samesite="Lax"
        )
        return response

    @app.post("/orders")
    def create_order() -> tuple[Response, int]:
        email = request.cookies.get(EMAIL_COOKIE, "")
        product = next((p for p in CATALOGUE if p["sku"] == request.form.get("sku")), None)
        if not email or product is None:
            return jsonify({"error": "sign in and choose a course"}), 400
        answer = requests.post(
            f"{config.api_url}/v1/orders",
            json={
                "amount": product["amount"],
                "currency": "INR",
                "product": {"sku": product["sku"], "name": product["name"]},
                "customer": {"email": email},
            },
            headers=_auth(config),
            timeout=15,
        )
        return jsonify(answer.json()), answer.status_code

    @app.post("/payments/callback")
    def callback() -> tuple[dict[str, str], int]:
        raw = request.get_data()
        signature = request.headers.get("X-Payments-Signature", "")
        if not _is_signed(config.callback_secret, raw, signature):
            return {"error": "bad signature"}, 400
        event = json.loads(raw)
        if event["type"].startswith("enrollment."):
            book.apply(event)
        return {"status": "ok"}, 200

    return app


def _is_signed(secret: str, raw: bytes, header: str, max_age: int = 300) -> bool:
    """The recipe every site follows: t=<unix>,v1=<HMAC-SHA256(secret, "<t>.<raw body>")>;
    during a secret rotation the header carries several v1 values, and one must match."""
    pairs = [item.split("=", 1) for item in header.split(",") if "=" in item]
    stamps = [value for key, value in pairs if key == "t"]
    signatures = [value for key, value in pairs if key == "v1"]
    if not secret or len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        return False
    if abs(time.time() - int(stamps[0])) > max_age:
        return False
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + raw, hashlib.sha256)
    return any(hmac.compare_digest(expected.hexdigest(), given) for given in signatures)


def _auth(config: StoreConfig) -> dict[str, str]:
    now = int(time.time())
    token = jwt.encode(
        {"iss": config.site_id, "aud": config.audience, "iat": now, "exp": now + 300},
        config.jwt_secret,
        algorithm="HS256",
    )
    return {"Authorization": f"Bearer {token}"}


def _owned_skus(config: StoreConfig, email: str) -> set[str]:
    answer = requests.get(
        f"{config.api_url}/v1/enrollments",
        params={"customer_email": email},
        headers=_auth(config),
        timeout=10,
    )
    if answer.status_code != 200:
        return set()
    items: list[dict[str, Any]] = answer.json()["items"]
    return {item["sku"] for item in items}
