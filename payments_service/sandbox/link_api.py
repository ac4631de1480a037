"""Razorpay API v1 payment-link routes (nested in the API blueprint, so behind its auth).

Every route first expires the links the sandbox clock has passed, so a fetch never shows a
link as payable after its ``expire_by``; a read that finds none due changes nothing (and so
writes no state file).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from .errors import invalid_request
from .extension import current_sandbox
from .link_flow import (
    cancel_link,
    create_link,
    edit_link,
    expire_due_links,
    find_links,
    has_due_links,
)
from .links import PaymentLink
from .validation import json_body, parse_page

Json = dict[str, Any]
MEDIUMS = ("sms", "email")

payment_links = Blueprint("payment_links", __name__, url_prefix="/payment_links")


def catch_up() -> None:
    """Expire the links the clock has passed, in a transaction only when there are some."""
    state = current_sandbox().state
    with state.reading():
        if not has_due_links(state):
            return
    with state.transaction() as transaction:
        expire_due_links(transaction)


def public_base_url() -> str:
    """Where people reach this sandbox: the base of the short URLs it hands out."""
    configured = current_sandbox().config.public_url
    return configured or request.host_url


@payment_links.post("")
@payment_links.post("/")
def link_create() -> Json:
    """Create a payment link."""
    body = json_body()
    with current_sandbox().state.transaction() as transaction:
        expire_due_links(transaction)
        return create_link(transaction, body, public_base_url()).to_json()


@payment_links.get("")
@payment_links.get("/")
def link_list() -> Json:
    """List links, newest first, as ``{"payment_links": [...]}`` (not a collection)."""
    page = parse_page(request.args, filters=("reference_id", "payment_id"))
    catch_up()
    with current_sandbox().state.reading() as state:
        links = page.select(find_links(state, request.args))
        return {"payment_links": [link.to_json() for link in links]}


@payment_links.get("/<link_id>")
def link_fetch(link_id: str) -> Json:
    """Fetch a link, with its captured payments."""
    catch_up()
    with current_sandbox().state.reading() as state:
        return state.payment_link(link_id).to_json()


@payment_links.patch("/<link_id>")
def link_edit(link_id: str) -> Json:
    """Update a created or partially paid link."""
    body = json_body()
    with current_sandbox().state.transaction() as transaction:
        expire_due_links(transaction)
        link = transaction.state.payment_link(link_id)
        edit_link(transaction, link, body)
        return link.to_json()


@payment_links.post("/<link_id>/cancel")
def link_cancel(link_id: str) -> Json:
    """Cancel a created link."""
    with current_sandbox().state.transaction() as transaction:
        expire_due_links(transaction)
        link = transaction.state.payment_link(link_id)
        cancel_link(transaction, link)
        return link.to_json()


@payment_links.post("/<link_id>/notify_by/<medium>")
def link_notify(link_id: str, medium: str) -> Json:
    """Resend the link by SMS or e-mail (the sandbox sends nothing and says it did)."""
    catch_up()
    with current_sandbox().state.reading() as state:
        link: PaymentLink = state.payment_link(link_id)
        if medium not in MEDIUMS:
            raise invalid_request("not a valid notification medium", field="medium")
        if not link.is_payable:
            raise invalid_request(f"invalid input [id] = [{link.id}]")
    return {"success": True}
