"""payments_service: one Razorpay payment backend shared by every site of a merchant.

gunicorn runs ``payments_service:create_app()`` and ``flask --app payments_service`` finds
``create_app`` here too; it is imported on first use, so importing a subpackage (the sandbox,
the devstack) loads nothing of the service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
