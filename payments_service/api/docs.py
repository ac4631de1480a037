"""The contract: openapi.yaml as written, Swagger UI for it at /docs (served offline from
flask-swagger-ui's bundled assets; no CDN), and `GET /` pointing to both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response
from flask_swagger_ui import get_swaggerui_blueprint

bp = Blueprint("docs", __name__)

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"


@bp.get("/")
def index() -> dict[str, Any]:
    """Where to start: the docs, the contract and the health checks (answers a browser or
    curl at the bare address instead of a 404)."""
    return {
        "service": "payments_service",
        "docs": "/docs/",
        "openapi": "/openapi.yaml",
        "health": "/healthz",
        "readiness": "/readyz",
    }


@bp.get("/openapi.yaml")
def openapi() -> Response:
    """The OpenAPI document of this service."""
    return Response(OPENAPI_PATH.read_bytes(), mimetype="application/yaml")


def register_swagger_ui(app: Flask) -> None:
    """Mount Swagger UI at /docs; "Authorize" keeps a pasted bearer token across reloads."""
    ui = get_swaggerui_blueprint(
        "/docs",
        "/openapi.yaml",
        config={"app_name": "payments_service API", "persistAuthorization": True},
    )
    app.register_blueprint(ui)
