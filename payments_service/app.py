"""The application factory: the only place where things are wired together."""

from __future__ import annotations

import logging
import re
import time
import uuid

import click
from dotenv import load_dotenv
from flask import Flask, Response, current_app, g, request

from .api import register_blueprints
from .api.bounded_request import BoundedRequest
from .api.docs import register_swagger_ui
from .api.fields import refuse_nul_in_path
from .api.problems import register_error_handlers
from .api.security import init_jwt
from .auth_cache import EXTENSION_KEY as AUTH_CACHE_KEY
from .auth_cache import AuthCache
from .cli import register_commands, reported_as_cli_errors
from .db import Database
from .logs import configure_logging
from .metrics import Metrics
from .migrations import apply_migrations
from .razorpay_gateway import RazorpayGateway
from .services import EXTENSION_KEY, Services
from .settings import Settings
from .site_listener import SiteChangeListener

log = logging.getLogger(__name__)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def create_app(settings: Settings | None = None) -> Flask:
    """Build the API app from ``settings`` (default: the environment and .env)."""
    if settings is None:
        settings = _settings_from_environment()
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.request_class = BoundedRequest
    app.config.update(MAX_CONTENT_LENGTH=settings.max_request_bytes, JSON_SORT_KEYS=False)
    app.extensions[EXTENSION_KEY] = _build_services(settings)
    if settings.auth_cache:
        app.extensions[AUTH_CACHE_KEY] = _build_auth_cache(
            settings, app.extensions[EXTENSION_KEY].db
        )
    init_jwt(app)
    register_blueprints(app)
    register_swagger_ui(app)
    register_error_handlers(app)
    register_commands(app)
    app.before_request(_assign_request_id)
    app.before_request(refuse_nul_in_path)
    app.after_request(_echo_request_id)
    return app


def _settings_from_environment() -> Settings:
    load_dotenv()
    if click.get_current_context(silent=True) is None:  # gunicorn: the traceback stops the boot
        return Settings.from_env()
    with reported_as_cli_errors():  # `flask --app payments_service ...`: one line, exit 1
        return Settings.from_env()


def _build_services(settings: Settings) -> Services:
    dsn = settings.database_url
    if dsn is None:  # development: imported only here, production never loads the devstack
        from .devstack.embedded_db import start_embedded_postgres

        dsn = start_embedded_postgres(settings.data_dir)
        apply_migrations(
            dsn, mode=settings.mode
        )  # development only; production runs `flask db upgrade`
    if settings.is_sandbox:
        log.warning(
            "SANDBOX MODE: no Razorpay keys configured; payments go to the local sandbox at %s "
            "and no real money moves",
            settings.razorpay_api_base_url,
        )
    db = Database(dsn, settings.db_pool_max, settings.db_statement_timeout_ms, mode=settings.mode)
    metrics = Metrics()
    gateway = RazorpayGateway(
        settings.razorpay_key_id,
        settings.razorpay_key_secret,
        settings.razorpay_api_base_url,
        settings.razorpay_timeout_seconds,
        observe=metrics.record_razorpay_call,
        pool_size=settings.razorpay_pool_size,
    )
    return Services(settings, db, gateway, metrics)


def _build_auth_cache(settings: Settings, db: Database) -> AuthCache:
    """The per-process auth cache. Its listener starts with the first authenticated request,
    on MIGRATION_DATABASE_URL when set (the direct URL: a transaction-mode pooler does not
    deliver notifications), and ends when the app's pool is closed (``db.close()``: tests
    build many apps) or the cache is dropped."""
    listen_dsn = settings.migration_database_url or db.dsn

    def start(cache: AuthCache) -> SiteChangeListener:
        return SiteChangeListener(cache, listen_dsn, lambda: db.closed).start()

    return AuthCache(db.dsn, start)


def _assign_request_id() -> None:
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    g.started = time.perf_counter()


def _echo_request_id(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "")
    endpoint = request.url_rule.rule if request.url_rule else None
    seconds = time.perf_counter() - g.started if "started" in g else None
    metrics = current_app.extensions[EXTENSION_KEY].metrics
    metrics.record_request(endpoint, request.method, response.status_code, seconds)
    return response
