"""Razorpay API v1 routes of Plans, Subscriptions and their invoices (HTTP Basic auth, the
same latency and chaos as every ``/v1`` route).

Every route first runs what the sandbox clock has made due (billing.run_due), so that an
answer never shows a subscription whose renewal or expiry should already have happened.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, request

from .api import delay_and_authenticate
from .billing import run_due
from .errors import invalid_request
from .extension import current_sandbox
from .plans import create_plan
from .state import Transaction
from .subscription_actions import (
    NO_SCHEDULED_CHANGES,
    cancel_subscription,
    drop_scheduled_changes,
    edit,
    pause,
    resume,
)
from .subscription_book import SubscriptionBook
from .subscription_changes import create_subscription, preview
from .validation import collection, json_body, parse_page

Json = dict[str, Any]

subscription_api = Blueprint("razorpay_subscriptions", __name__, url_prefix="/v1")
subscription_api.before_request(delay_and_authenticate)


@contextmanager
def billing() -> Iterator[tuple[Transaction, SubscriptionBook]]:
    """A sandbox transaction with the subscriptions caught up with the clock."""
    with current_sandbox().state.transaction() as transaction:
        book = transaction.state.subscriptions
        run_due(transaction, book)
        yield transaction, book


@subscription_api.post("/plans")
def plan_create() -> Json:
    """Create a plan."""
    body = json_body()
    with billing() as (_, book):
        plan = create_plan(body, book.now())
        book.plans[plan.id] = plan
        return plan.to_json()


@subscription_api.get("/plans")
def plan_list() -> Json:
    """List plans, newest first."""
    page = parse_page(request.args)
    with billing() as (_, book):
        return collection([plan.to_json() for plan in page.select(list(book.plans.values()))])


@subscription_api.get("/plans/<plan_id>")
def plan_fetch(plan_id: str) -> Json:
    """Fetch a plan."""
    with billing() as (_, book):
        return book.plan(plan_id).to_json()


@subscription_api.post("/subscriptions")
def subscription_create() -> Json:
    """Create a subscription (``created``, awaiting the customer's authentication)."""
    body = json_body()
    page_url = f"{request.url_root}checkout/subscription"
    with billing() as (_, book):
        sub = create_subscription(book, body, book.now(), page_url)
        book.subscriptions[sub.id] = sub
        return sub.to_json()


@subscription_api.get("/subscriptions")
def subscription_list() -> Json:
    """List subscriptions, newest first, optionally of one plan."""
    page = parse_page(request.args, filters=("plan_id",))
    plan_id = request.args.get("plan_id")
    with billing() as (_, book):
        subs = [sub for sub in book.subscriptions.values() if plan_id in (None, sub.plan_id)]
        return collection([sub.to_json() for sub in page.select(subs)])


@subscription_api.get("/subscriptions/<sub_id>")
def subscription_fetch(sub_id: str) -> Json:
    """Fetch a subscription."""
    with billing() as (_, book):
        return book.subscription(sub_id).to_json()


@subscription_api.patch("/subscriptions/<sub_id>")
def subscription_update(sub_id: str) -> Json:
    """Update a subscription now or at the cycle end (the SDK's ``subscription.edit``)."""
    body = json_body()
    with billing() as (transaction, book):
        sub = book.subscription(sub_id)
        edit(transaction, book, sub, body)
        return sub.to_json()


@subscription_api.get("/subscriptions/<sub_id>/retrieve_scheduled_changes")
def subscription_pending_update(sub_id: str) -> Json:
    """The subscription as it will look once the update scheduled for the cycle end applies."""
    with billing() as (_, book):
        sub = book.subscription(sub_id)
        if sub.scheduled_changes is None:
            raise invalid_request(NO_SCHEDULED_CHANGES)
        return preview(book, sub).to_json()


@subscription_api.post("/subscriptions/<sub_id>/cancel_scheduled_changes")
def subscription_cancel_update(sub_id: str) -> Json:
    """Drop the update scheduled for the cycle end."""
    json_body()
    with billing() as (transaction, book):
        sub = book.subscription(sub_id)
        drop_scheduled_changes(transaction, book, sub)
        return sub.to_json()


@subscription_api.post("/subscriptions/<sub_id>/cancel")
def subscription_cancel(sub_id: str) -> Json:
    """Cancel now, or at the end of the current cycle with ``cancel_at_cycle_end``."""
    body = json_body()
    with billing() as (transaction, book):
        sub = book.subscription(sub_id)
        cancel_subscription(transaction, book, sub, body)
        return sub.to_json()


@subscription_api.post("/subscriptions/<sub_id>/pause")
def subscription_pause(sub_id: str) -> Json:
    """Pause now (``pause_at: now``)."""
    body = json_body()
    with billing() as (transaction, book):
        sub = book.subscription(sub_id)
        pause(transaction, book, sub, body)
        return sub.to_json()


@subscription_api.post("/subscriptions/<sub_id>/resume")
def subscription_resume(sub_id: str) -> Json:
    """Resume now (``resume_at: now``)."""
    body = json_body()
    with billing() as (transaction, book):
        sub = book.subscription(sub_id)
        resume(transaction, book, sub, body)
        return sub.to_json()


@subscription_api.get("/invoices")
def invoice_list() -> Json:
    """List invoices, newest first, optionally of one subscription."""
    page = parse_page(request.args, filters=("subscription_id",))
    sub_id = request.args.get("subscription_id")
    with billing() as (_, book):
        bills = [bill for bill in book.invoices.values() if sub_id in (None, bill.subscription_id)]
        return collection([bill.to_json() for bill in page.select(bills)])


@subscription_api.get("/invoices/<invoice_id>")
def invoice_fetch(invoice_id: str) -> Json:
    """Fetch an invoice."""
    with billing() as (_, book):
        return book.invoice(invoice_id).to_json()
