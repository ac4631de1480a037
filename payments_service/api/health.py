"""/healthz (the process answers) and /readyz (database reachable, schema current)."""

from __future__ import annotations

import logging
from typing import Any

import psycopg2
from flask import Blueprint

from ..migrations import pending_migrations
from .fields import services

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    """Liveness: the process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    """Readiness: the database answers and every migration is applied."""
    try:
        pending = pending_migrations(services().db)
    except psycopg2.Error as exc:
        log.warning("readiness: database unreachable (%s)", type(exc).__name__)
        return {"status": "unavailable", "database": "unreachable"}, 503
    if pending:
        return {"status": "unavailable", "database": "ok", "pending_migrations": pending}, 503
    return {"status": "ok", "database": "ok", "pending_migrations": []}, 200
