"""How request handlers reach the sandbox instance that belongs to the current app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from .config import SandboxConfig
from .state import SandboxState
from .webhooks import WebhookDispatcher

EXTENSION_KEY = "razorpay_sandbox"


@dataclass(frozen=True)
class Sandbox:
    """One sandbox instance: its settings, its entities and its webhook dispatcher."""

    config: SandboxConfig
    state: SandboxState
    webhooks: WebhookDispatcher


def current_sandbox() -> Sandbox:
    """Return the sandbox instance of the app handling the current request."""
    sandbox: Sandbox = current_app.extensions[EXTENSION_KEY]
    return sandbox
