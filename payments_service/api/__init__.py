"""HTTP exposure of the service: one blueprint per resource."""

from __future__ import annotations

from flask import Flask

from . import (
    checkout,
    customers,
    docs,
    enrollments,
    health,
    notifications,
    orders,
    payment_links,
    payments,
    plans,
    razorpay_webhooks,
    reconcile,
    refunds,
    subscriptions,
    webhook_events,
)


def register_blueprints(app: Flask) -> None:
    """Mount every blueprint on the app."""
    for module in (
        orders,
        payment_links,
        plans,
        subscriptions,
        checkout,
        payments,
        refunds,
        enrollments,
        customers,
        razorpay_webhooks,
        webhook_events,
        notifications,
        reconcile,
        health,
        docs,
    ):
        app.register_blueprint(module.bp)
