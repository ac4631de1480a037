"""Refunds: asked for (create.py), settled from what Razorpay says (settle.py), and those
the worker makes of duplicate payments (duplicates.py)."""

from __future__ import annotations

from .create import RefundRequest, create_refund, get_refund, list_refunds
from .duplicates import REQUESTER, decide_refunds, refund_reserved
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
    "REQUESTER",
    "RefundRequest",
    "apply_refund",
    "apply_refund_in",
    "create_refund",
    "decide_refunds",
    "find_at_razorpay",
    "get_refund",
    "list_refunds",
    "refund_reserved",
    "refund_state",
    "resolve_requested_refunds",
]
