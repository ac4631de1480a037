"""/healthz (the process answers) and /readyz (database reachable, schema current, and the
Razorpay mode the service runs in)."""

from __future__ import annotations

import logging
from typing import Any

import psycopg2
from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST

from ..errors import DatabaseUnavailable
from ..migrations import pending_migrations
from ..razorpay_events import last_webhook_at
from .fields import services

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    """Liveness: the process is up."""
    return {"status": "ok"}


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics: traffic, Razorpay calls, webhooks, notifications."""
    body = services().metrics.exposition(services().db)
    return Response(body, content_type=CONTENT_TYPE_LATEST)


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Readiness: the database answers and every migration is applied."""
    retry = {"Retry-After": "5"}
    mode = services().settings.mode
    try:
        pending = pending_migrations(services().db)
        last_webhook = last_webhook_at(services().db) if not pending else None
    except DatabaseUnavailable as exc:
        log.warning("readiness: database unreachable (%s)", exc.reason)
        return {"status": "unavailable", "mode": mode, "database": "unreachable"}, 503, retry
    except psycopg2.Error as exc:
        log.warning("readiness: database unreachable (%s)", type(exc).__name__)
        return {"status": "unavailable", "mode": mode, "database": "unreachable"}, 503, retry
    if pending:
        body = {
            "status": "unavailable",
            "mode": mode,
            "database": "ok",
            "pending_migrations": pending,
        }
        return body, 503, retry
    # Informational: a webhook Razorpay disabled shows as silence here long before
    # customers notice; readiness does not depend on it.
    return (
        {
            "status": "ok",
            "mode": mode,
            "database": "ok",
            "pending_migrations": [],
            "last_webhook_received_at": last_webhook.isoformat() if last_webhook else None,
        },
        200,
        {},
    )
