"""The contract: openapi.yaml as written, and Swagger UI for it at /docs (served offline
from flask-swagger-ui's bundled assets; no CDN)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response
from flask_swagger_ui import get_swaggerui_blueprint

bp = Blueprint("docs", __name__)

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"


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
