"""payments_service: one Razorpay payment backend shared by every site of a merchant.

gunicorn runs ``payments_service:create_app()``.
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
