"""Refunds: asked for (create.py), settled from what Razorpay says (settle.py)."""

from __future__ import annotations

from .create import RefundRequest, create_refund, get_refund, list_refunds
from .settle import (
    ATTENTION_DUPLICATE_REFUND_FAILED,
    ATTENTION_FAILED_AFTER_REVOKE,
    FOREIGN_REQUESTER,
    REFUND_STATUS_RANK,
    apply_refund,
    apply_refund_in,
    find_at_razorpay,
    refund_state,
    resolve_requested_refunds,
)

__all__ = [
    "ATTENTION_DUPLICATE_REFUND_FAILED",
    "ATTENTION_FAILED_AFTER_REVOKE",
    "FOREIGN_REQUESTER",
    "REFUND_STATUS_RANK",
    "RefundRequest",
    "apply_refund",
    "apply_refund_in",
    "create_refund",
    "find_at_razorpay",
    "get_refund",
    "list_refunds",
    "refund_state",
    "resolve_requested_refunds",
]
