"""How request handlers reach the sandbox instance that belongs to the current app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from .chaos import Chaos
from .config import SandboxConfig
from .state import SandboxState
from .webhooks import WebhookDispatcher

EXTENSION_KEY = "razorpay_sandbox"


@dataclass(frozen=True)
class Sandbox:
    """One sandbox instance: its settings, entities, webhook dispatcher and random choices."""

    config: SandboxConfig
    state: SandboxState
    webhooks: WebhookDispatcher
    chaos: Chaos


def current_sandbox() -> Sandbox:
    """Return the sandbox instance of the app handling the current request."""
    sandbox: Sandbox = current_app.extensions[EXTENSION_KEY]
    return sandbox
