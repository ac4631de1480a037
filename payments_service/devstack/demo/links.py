"""Payment links in the demo: the admin page makes one for a customer, and the buyer comes
back to /links/return after paying on the hosted page.

The link is made with the site's own token (as a seller's back office would), with a return
URL on this site. The return page never believes its query: it asks the service what the
order's status is, and what the buyer owns, before it says "paid".
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlencode

from flask import Flask, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from . import service
from .catalogue import product
from .service import ServiceUnavailable, StoreConfig

RETURN_PATH = "/links/return"
FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

Page = tuple[str, int]


def new_form_key() -> str:
    """A fresh key for one rendering of the link form: submitting that form twice (a double
    click, a reload of the POST) sends the same Idempotency-Key, so it makes one link."""
    return secrets.token_urlsafe(16)


def link_key(form_key: str) -> str:
    """The Idempotency-Key of the link made by one rendering of the admin page's form."""
    return f"demo-admin-link-{form_key}"


def create_from_form(config: StoreConfig) -> BaseResponse | tuple[str, int]:
    """POST /admin/payment-links: make the link, then show it on /admin (303), or the
    (problem, status) to show on the admin page instead."""
    chosen = product(request.form.get("sku"))
    email = request.form.get("email", "").strip().lower()
    name = request.form.get("name", "").strip()
    form_key = request.form.get("key", "")
    if chosen is None or not email or not FORM_KEY.match(form_key):
        return "choose a course and enter the customer's email", 400
    customer = {"email": email, **({"name": name} if name else {})}
    return_url = request.host_url.rstrip("/") + RETURN_PATH
    answer = service.create_payment_link(config, chosen, customer, return_url, link_key(form_key))
    if answer.status in (200, 201):
        return redirect(f"/admin?{urlencode({'link': answer.body['id']})}", code=303)
    return f"payment link for {email}: {answer.detail}", answer.status


def shown_link(config: StoreConfig, link_id: str) -> dict[str, Any] | None:
    """The link named by /admin?link=…, as the service has it now (None without one).
    Raises ServiceUnavailable, also for a link the service does not know for this site."""
    if not link_id:
        return None
    answer = service.payment_link(config, link_id)
    if answer.status != 200:
        raise ServiceUnavailable(f"payment link {link_id}: {answer.detail}")
    return answer.body


def add_return_page(app: Flask, config: StoreConfig) -> None:
    """Add GET /links/return, where the service sends a buyer who paid a link."""

    @app.get(RETURN_PATH)
    def link_return() -> Page:
        return _return_page(config, request.args.get("order_id", ""))


def _return_page(config: StoreConfig, order_id: str) -> Page:
    if not order_id:
        return _render_return(config, problem="This page needs an order_id."), 400
    try:
        answer = service.order(config, order_id)
        if answer.status != 200:
            return _render_return(config, problem=f"Order {order_id}: {answer.detail}"), 404
        order = answer.body
        owned = service.owned_courses(config, order["customer"]["email"])
    except ServiceUnavailable as error:
        problem = f"Could not ask the payments service about order {order_id} ({error})."
        return _render_return(config, problem=problem), 503
    return _render_return(config, order=order, owned=owned), 200


def _render_return(
    config: StoreConfig,
    order: dict[str, Any] | None = None,
    owned: dict[str, Any] | None = None,
    problem: str = "",
) -> str:
    return render_template(
        "link_return.html", store=config, order=order, owned=owned or {}, problem=problem
    )
