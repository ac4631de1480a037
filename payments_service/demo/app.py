"""The storefront: a course catalogue, buy buttons, and "you own this" from the service."""

from __future__ import annotations

import time
from dataclasses import dataclass
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
    accent: str = "#2563eb"


def create_app(config: StoreConfig) -> Flask:
    """Build the storefront app for one demo site."""
    app = Flask(__name__)
    app.extensions["store"] = config

    @app.get("/")
    def home() -> str:
        email = request.cookies.get(EMAIL_COOKIE, "")
        owned = _owned_skus(config, email) if email else set()
        return render_template(
            "store.html", store=config, email=email, owned=owned, catalogue=CATALOGUE
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

    @app.get("/payments/callback")
    def callback_probe() -> dict[str, str]:
        return {"status": "ok"}

    return app


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
