"""The contract: openapi.yaml served as written."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response

bp = Blueprint("docs", __name__)

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"


@bp.get("/openapi.yaml")
def openapi() -> Response:
    """The OpenAPI document of this service."""
    return Response(OPENAPI_PATH.read_bytes(), mimetype="application/yaml")
