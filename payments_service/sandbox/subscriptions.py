"""Razorpay Plans and Subscriptions in the sandbox: where their routes join the app.

The modules: plans.py (plans and cycle arithmetic), subscription_entities.py (subscription
and invoice shapes), subscription_book.py (where they are kept, on the sandbox clock),
subscription_changes.py (create and update rules), subscription_actions.py (cancel, pause,
resume), charges.py (orders, invoices and payments of charges), billing.py (what the clock
does), subscription_api.py (``/v1``) and subscription_control.py (``/_sandbox`` and the
Checkout page).
"""

from __future__ import annotations

from flask import Flask

from .subscription_api import subscription_api
from .subscription_control import subscription_control


def register_subscriptions(app: Flask) -> None:
    """Add the Plans/Subscriptions API, their sandbox controls and their Checkout page."""
    app.register_blueprint(subscription_api)
    app.register_blueprint(subscription_control)
