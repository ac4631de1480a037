"""The storefront: a course catalogue, sign-in by email, buy buttons, and access.

What a buyer owns is asked of the service (GET /v1/enrollments with the site's own token)
on every page load, so every site shows a purchase made on any of them, and a restart of
the site changes nothing on screen. The service's signed callbacks are still verified over
the raw body and kept for the admin page, as a real site would log them.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, current_app, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from . import service
from .admin import add_admin_pages
from .catalogue import CATALOGUE, MEMBERSHIP, product
from .links import add_return_page, new_form_key
from .membership import add_membership_routes, membership_view
from .notifications import Inbox, is_signed
from .service import ServiceUnavailable, StoreConfig


def email_cookie(config: StoreConfig) -> str:
    """The site's own sign-in cookie: browsers send every 127.0.0.1 cookie to every port,
    so one name per site keeps a sign-in on one demo site from signing in on the other."""
    return f"demo_email_{config.site_id}"


def rupees(paise: int, currency: str = "INR") -> str:
    """Integer paise as the page shows them: ₹499.00 (another currency by its code)."""
    sign = "₹" if currency == "INR" else f"{currency} "
    return f"{sign}{paise // 100}.{paise % 100:02d}"


def create_app(config: StoreConfig) -> Flask:
    """Build the storefront app for one demo site."""
    app = Flask(__name__)
    app.add_template_filter(rupees)
    inbox = Inbox()
    app.extensions["store"] = config
    app.extensions["notification_inbox"] = inbox
    app.get("/")(home)
    app.post("/sign-in")(sign_in)
    app.post("/sign-out")(sign_out)
    app.post("/orders")(create_order)
    app.post("/payments/callback")(callback)
    add_return_page(app, config)
    add_membership_routes(app, config, _signed_in_email)
    if config.has_admin_page:
        add_admin_pages(app, config, inbox)
    return app


def _store() -> StoreConfig:
    config: StoreConfig = current_app.extensions["store"]
    return config


def _signed_in_email() -> str:
    return request.cookies.get(email_cookie(_store()), "")


def home() -> tuple[str, int]:
    config = _store()
    email = _signed_in_email()
    owned: dict[str, Any] = {}
    membership: dict[str, Any] = {}
    problem = ""
    if email:
        try:
            owned = service.owned_courses(config, email)
            membership = membership_view(config, email)
        except ServiceUnavailable as error:
            problem = str(error)
    page = render_template(
        "store.html",
        store=config,
        email=email,
        owned=owned,
        problem=problem,
        catalogue=CATALOGUE,
        offer=MEMBERSHIP,
        membership=membership,
        member=MEMBERSHIP["sku"] in owned,
        form_key=new_form_key(),
    )
    return page, 503 if problem else 200


def sign_in() -> BaseResponse:
    response = redirect("/", code=303)
    email = request.form.get("email", "").strip().lower()
    if email:
        response.set_cookie(email_cookie(_store()), email, httponly=True, samesite="Lax")
    return response


def sign_out() -> BaseResponse:
    response = redirect("/", code=303)
    response.delete_cookie(email_cookie(_store()), httponly=True, samesite="Lax")
    return response


def create_order() -> tuple[Response, int]:
    config = _store()
    email = request.cookies.get(email_cookie(config), "")
    chosen = product(request.form.get("sku"))
    if not email or chosen is None:
        return jsonify({"error": "sign in and choose a course"}), 400
    try:
        answer = service.create_order(config, email, chosen)
    except ServiceUnavailable as error:
        return jsonify({"error": str(error)}), 503
    return jsonify(answer.body), answer.status


def callback() -> tuple[dict[str, str], int]:
    raw = request.get_data()
    signature = request.headers.get("X-Payments-Signature", "")
    if not is_signed(_store().callback_secret, raw, signature):
        return {"error": "bad signature"}, 400
    inbox: Inbox = current_app.extensions["notification_inbox"]
    inbox.accept(json.loads(raw))
    return {"status": "ok"}, 200
