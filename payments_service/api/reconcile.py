"""POST /v1/reconcile: an admin syncs a time window from Razorpay."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from marshmallow import Schema, fields

from ..reconcile import reconcile_window
from .fields import load_json, services
from .security import current_admin

bp = Blueprint("reconcile", __name__, url_prefix="/v1/reconcile")


class ReconcileSchema(Schema):
    from_ = fields.AwareDateTime(data_key="from", required=True)
    to = fields.AwareDateTime(required=True)


# Built once: a marshmallow schema is reusable and building one costs more than loading.
RECONCILE = ReconcileSchema()


@bp.post("")
def reconcile() -> dict[str, Any]:
    """Apply every Razorpay payment created in the window; report what changed."""
    current_admin()
    body = load_json(RECONCILE)
    found = services()
    report = reconcile_window(
        found.db,
        found.gateway,
        body["from_"],
        body["to"],
        during_pending=found.settings.subscription_access_during_pending,
    )
    services().metrics.record_reconcile(report.counts())
    return report.as_dict()
