"""Subscriptions: memberships sold by any site on a plan an admin defined, billed by
Razorpay, with access that follows the billing and every charge an order and payment of
ours (so refunds and the money trail treat it like any purchase)."""

from __future__ import annotations

from .apply import apply_report_in, our_subscription
from .create import CreateContext, SubscriptionRequest, checkout_options, create_subscription
from .manage import (
    Action,
    SubscriptionView,
    cancel,
    list_subscriptions,
    pause,
    resume,
    view_of,
    visible,
)
from .plans import PlanRequest, create_plan, get_plan, list_plans
from .sync import heal_subscriptions, reconcile_subscription_payment
from .verify import SubscriptionCheckout, verify_checkout

__all__ = [
    "Action",
    "CreateContext",
    "PlanRequest",
    "SubscriptionCheckout",
    "SubscriptionRequest",
    "SubscriptionView",
    "apply_report_in",
    "cancel",
    "checkout_options",
    "create_plan",
    "create_subscription",
    "get_plan",
    "heal_subscriptions",
    "list_plans",
    "list_subscriptions",
    "our_subscription",
    "pause",
    "reconcile_subscription_payment",
    "resume",
    "verify_checkout",
    "view_of",
    "visible",
]
