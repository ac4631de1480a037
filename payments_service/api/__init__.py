"""HTTP exposure of the service: one blueprint per resource."""

from __future__ import annotations

from flask import Flask

from . import checkout, docs, enrollments, health, orders


def register_blueprints(app: Flask) -> None:
    """Mount every blueprint on the app."""
    for module in (orders, checkout, enrollments, health, docs):
        app.register_blueprint(module.bp)
