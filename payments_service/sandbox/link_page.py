"""The hosted payment-link page at a link's ``short_url`` (``/i/<code>``).

Plain HTML forms, no JavaScript: opening the page makes the link's order; "Pay (success)"
captures a payment of the amount in the form (the whole amount due unless partial payments
are allowed) and redirects (303) to ``callback_url`` with the signed query, or shows a
receipt when there is none; "Fail payment" records a failed payment and shows the page again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, redirect, render_template, request
from werkzeug.wrappers import Response

from .checkout import format_amount
from .errors import RazorpayError
from .extension import current_sandbox
from .link_flow import (
    callback_params,
    expire_due_links,
    has_due_links,
    link_by_code,
    open_link,
    pay_link,
)
from .links import PaymentLink
from .payments import METHODS, Attempt

RUPEES_PATTERN = re.compile(r"^\s*(\d{1,12})(?:\.(\d{1,2}))?\s*$")

link_page = Blueprint("sandbox_link_page", __name__)

Page = tuple[str, int]


@dataclass(frozen=True)
class LinkView:
    """What the hosted page shows about a link."""

    link_id: str
    merchant_name: str
    description: str
    amount_text: str
    due_text: str
    due_input: str
    minimum_text: str
    accept_partial: bool
    status: str
    is_payable: bool
    order_id: str | None


def _view(link: PaymentLink) -> LinkView:
    """The page's view of ``link`` as it is now."""
    due = link.amount_due
    return LinkView(
        link_id=link.id,
        merchant_name=link.merchant_name,
        description=link.description,
        amount_text=format_amount(link.amount, link.currency),
        due_text=format_amount(due, link.currency),
        due_input=f"{due // 100}.{due % 100:02d}",
        minimum_text=format_amount(link.minimum_payment(), link.currency),
        accept_partial=link.accept_partial,
        status=link.status,
        is_payable=link.is_payable,
        order_id=link.order_id,
    )


def _render(view: LinkView, status: int = 200, **context: object) -> Page:
    """The page for ``view`` with an optional message, receipt or error."""
    return render_template("link.html", view=view, methods=METHODS, **context), status


@link_page.get("/i/<code>")
def show(code: str) -> Page:
    """Show the link; the first opening of a payable link makes its order."""
    state = current_sandbox().state
    with state.reading():
        link = link_by_code(state, code)
        changes = link is not None and (
            has_due_links(state) or (link.is_payable and link.order_id is None)
        )
    if link is not None and changes:
        with state.transaction() as transaction:
            expire_due_links(transaction)
            if link.is_payable:
                open_link(transaction, link)
    if link is None:
        return render_template("link.html", missing=True), 404
    with state.reading():
        return _render(_view(link))


@link_page.post("/i/<code>")
def pay(code: str) -> Page | Response:
    """Pay (or fail to pay) the amount in the form, as the customer."""
    form = request.form
    sandbox = current_sandbox()
    with sandbox.state.transaction() as transaction:
        expire_due_links(transaction)
        link = link_by_code(transaction.state, code)
        if link is None:
            return render_template("link.html", missing=True), 404
        view_before = _view(link)
        amount = _amount(form.get("amount"), link)
        if amount is None:
            return _render(view_before, 400, error="Enter the amount in rupees, e.g. 499.00")
        try:
            payment = pay_link(transaction, link, _attempt(form), amount)
        except RazorpayError as exc:
            return _render(view_before, 400, error=exc.description)
        view = _view(link)
        params = callback_params(link, payment, sandbox.config.key_secret)
        callback_url = link.callback_url
    if payment.error is not None:
        message = f"{payment.error.description}. You can try again."
        return _render(view, error=message, failed_payment_id=payment.id)
    if callback_url:
        return redirect(with_query(callback_url, params), code=303)
    return _render(view, paid_payment_id=payment.id)


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` appended to the query it already has."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _amount(text: str | None, link: PaymentLink) -> int | None:
    """The amount in the form, in rupees with up to two decimals, as paise; the whole
    amount due when the form has none (links without partial payments)."""
    if not text or not link.accept_partial:
        return link.amount_due
    match = RUPEES_PATTERN.match(text)
    if match is None:
        return None
    rupees, paise = match.group(1), (match.group(2) or "0").ljust(2, "0")
    return int(rupees) * 100 + int(paise)


def _attempt(fields: Mapping[str, str]) -> Attempt:
    """The customer's choices in the form: outcome, method, e-mail and phone."""
    defaults = Attempt(succeeds=True)
    method = fields.get("method", "card")
    return Attempt(
        succeeds=fields.get("outcome", "success") != "failure",
        method=method if method in METHODS else "card",
        email=fields.get("email") or defaults.email,
        contact=fields.get("contact") or defaults.contact,
        customer_name=fields.get("name", ""),
    )
