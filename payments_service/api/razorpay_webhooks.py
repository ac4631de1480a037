"""POST /v1/webhooks/razorpay: raw body in, verified, recorded, applied, 2xx fast."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from ..razorpay_events import EventContext, receive_webhook
from .fields import services

bp = Blueprint("razorpay_webhooks", __name__, url_prefix="/v1/webhooks")


@bp.post("/razorpay")
def receive() -> dict[str, Any]:
    """Receive one Razorpay webhook delivery (verified by X-Razorpay-Signature)."""
    raw_body = request.get_data(cache=True)  # the exact bytes Razorpay signed; parse nothing first
    receipt = receive_webhook(
        EventContext.of(services()),
        raw_body,
        request.headers.get("X-Razorpay-Signature", ""),
        request.headers.get("X-Razorpay-Event-Id"),
    )
    event = receipt.event
    return {"id": event.id, "status": event.status, "duplicate": receipt.is_duplicate}
