"""/admin: recent orders with their ord_ ids and a Refund button, and a form that makes a
payment link for a customer (see links.py). Local development only.

It holds admin power (it mints admin tokens with the service's admin secret, which only
`make run` and the tests give it), so it exists only when the process was given that
secret, listens on 127.0.0.1 like the rest of the demo, and refuses form posts coming
from any other origin. A real merchant site has no such page.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from flask import Flask, abort, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from . import links, service
from .catalogue import CATALOGUE
from .notifications import Inbox
from .service import ServiceUnavailable, StoreConfig


def add_admin_pages(app: Flask, config: StoreConfig, inbox: Inbox) -> None:
    """Add GET /admin, POST /admin/refunds and POST /admin/payment-links to the app."""

    @app.get("/admin")
    def admin() -> tuple[str, int]:
        return _admin_page(config, inbox, _refund_notice(request.args), "")

    @app.post("/admin/payment-links")
    def create_link() -> BaseResponse | tuple[str, int]:
        _refuse_other_origins()
        try:
            made = links.create_from_form(config)
        except ServiceUnavailable as error:
            return _admin_page(config, inbox, "", str(error), status=503)
        if isinstance(made, tuple):
            return _admin_page(config, inbox, "", made[0], status=made[1])
        return made

    @app.post("/admin/refunds")
    def refund() -> BaseResponse | tuple[str, int]:
        _refuse_other_origins()
        order_id = request.form.get("order_id", "")
        try:
            answer = service.refund_order(config, order_id)
        except ServiceUnavailable as error:
            return _admin_page(config, inbox, "", str(error), status=503)
        if answer.status in (200, 201):
            body = answer.body
            done = {
                "order": order_id,
                "refund": body["id"],
                "status": body["status"],
                "revoked": "yes" if body["revoked_access"] else "no",
            }
            return redirect(f"/admin?{urlencode(done)}", code=303)
        return _admin_page(config, inbox, "", f"{order_id}: {answer.detail}", answer.status)


def _refund_notice(args: Mapping[str, str]) -> str:
    """The line shown after a refund (from the redirect's query, so a reload repeats nothing)."""
    if not args.get("refund"):
        return ""
    revoked = (
        "the access it granted is revoked on every site"
        if args.get("revoked") == "yes"
        else "no access was revoked"
    )
    return f"Refund {args['refund']} of {args.get('order')}: {args.get('status')}; {revoked}."


def _admin_page(
    config: StoreConfig, inbox: Inbox, notice: str, problem: str, status: int = 200
) -> tuple[str, int]:
    orders, link = [], None
    try:
        link = links.shown_link(config, request.args.get("link", ""))
        orders = service.recent_orders(config)
    except ServiceUnavailable as error:
        problem, status = problem or str(error), 503
    page = render_template(
        "admin.html",
        store=config,
        orders=orders,
        link=link,
        catalogue=CATALOGUE,
        form_key=links.new_form_key(),
        notice=notice,
        problem=problem,
        notifications=inbox.newest_first(),
    )
    return page, status


def _refuse_other_origins() -> None:
    """A page on another site cannot make the buyer's browser refund here (CSRF)."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != request.host_url.rstrip("/"):
        abort(403, "cross-origin form posts are refused")
