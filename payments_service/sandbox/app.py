"""The sandbox app factory: wires config, state, webhooks, routes and error rendering."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, Response, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from .api import api
from .chaos import Chaos
from .checkout import checkout
from .config import SandboxConfig
from .control import control
from .errors import RazorpayError, route_not_found, server_error
from .extension import EXTENSION_KEY, Sandbox
from .link_control import link_control
from .link_page import link_page
from .persistence import keep_in_file
from .seeding import seeding
from .state import SandboxState
from .webhooks import WebhookDispatcher

logger = logging.getLogger(__name__)


class OrderedJSONProvider(DefaultJSONProvider):
    """Keeps entity keys in Razorpay's order instead of sorting them."""

    sort_keys = False


def create_app(config: SandboxConfig | None = None, state_file: Path | None = None) -> Flask:
    """Build a sandbox app with its own in-memory state; starts no threads or sockets.

    With ``state_file`` the state is loaded from that file and kept in it after every change
    (persistence.py); raises StateFileError when it cannot be read or written.
    """
    config = config or SandboxConfig()
    app = Flask(__name__, static_url_path="/_sandbox/static")
    app.json = OrderedJSONProvider(app)
    chaos = Chaos(config)
    webhooks = WebhookDispatcher(config, chaos)
    state = SandboxState(config, webhooks.publish)
    if state_file is not None:
        keep_in_file(state, state_file)
    app.extensions[EXTENSION_KEY] = Sandbox(config, state, webhooks, chaos)
    app.register_blueprint(api)
    app.register_blueprint(control)
    app.register_blueprint(seeding)
    app.register_blueprint(checkout)
    app.register_blueprint(link_control)
    app.register_blueprint(link_page)
    app.register_error_handler(RazorpayError, render_razorpay_error)
    app.register_error_handler(HTTPException, render_http_error)
    app.register_error_handler(Exception, render_unexpected_error)
    return app


def render_razorpay_error(error: RazorpayError) -> tuple[Response, int]:
    """Answer with Razorpay's error body and status."""
    return jsonify(error.to_json()), error.status


def render_http_error(error: HTTPException) -> tuple[Response, int]:
    """Answer routing errors with a JSON body, since the SDK parses every error response.

    Unknown URLs and wrong methods under ``/v1`` get Razorpay's 400; elsewhere the HTTP
    status is kept.
    """
    if isinstance(error, NotFound | MethodNotAllowed):
        status = 400 if request.path.startswith("/v1/") else error.code or 404
        return render_razorpay_error(route_not_found(status))
    status = error.code or 400
    return render_razorpay_error(RazorpayError(error.description or error.name, status=status))


def render_unexpected_error(error: Exception) -> tuple[Response, int]:
    """Log a bug in the sandbox and answer Razorpay's generic 500."""
    logger.exception("unhandled error in %s %s", request.method, request.path, exc_info=error)
    return render_razorpay_error(server_error())
