"""Payment links: a Razorpay hosted page that sells one product to one customer, with no
site code. Each link has an order of ours (its reference_id); whatever tells us of its
payment (the buyer's redirect, a webhook, reconciliation) goes through the same payment
state machine as Checkout verify."""

from __future__ import annotations

from .apply import end_link_in, link_for_payment, pay_link_in
from .callback import LinkCallback, complete_callback
from .create import LinkRequest, create_link
from .manage import LinkView, cancel_link, get_link, list_links
from .sync import heal_open_links, reconcile_link_payment

__all__ = [
    "LinkCallback",
    "LinkRequest",
    "LinkView",
    "cancel_link",
    "complete_callback",
    "create_link",
    "end_link_in",
    "get_link",
    "heal_open_links",
    "link_for_payment",
    "list_links",
    "pay_link_in",
    "reconcile_link_payment",
]
