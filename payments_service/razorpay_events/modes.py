"""Events about a record we hold only in the other Razorpay mode: a test payment's event
reaching the service once it runs on live keys, or the reverse. Such an event is applied
to nothing and stored in the record's mode."""

from __future__ import annotations

from typing import Any

from ..db import Cursor
from ..db import razorpay_events as sql
from ..db.razorpay_events import RecordMode


def other_mode_record(cur: Cursor, envelope: dict[str, Any]) -> RecordMode | None:
    """The record of the other mode an event is about; None when the event is about a
    record of the cursor's mode, or about none of ours (its handler then says what it is)."""
    ids = _razorpay_ids(envelope)
    records = sql.modes_of_records(
        cur,
        razorpay_order_ids=ids["order"],
        payment_ids=ids["payment"],
        refund_ids=ids["refund"],
        link_ids=ids["payment_link"],
    )
    if not records or any(record.mode == cur.mode for record in records):
        return None
    return records[0]


def _razorpay_ids(envelope: dict[str, Any]) -> dict[str, list[str]]:
    """The Razorpay ids of the order, payment, refund and payment link an event names, by
    kind."""
    ids: dict[str, list[str]] = {"order": [], "payment": [], "refund": [], "payment_link": []}
    payload = envelope.get("payload")
    for name, fields in (
        ("order", (("id", "order"),)),
        ("payment", (("id", "payment"), ("order_id", "order"))),
        ("refund", (("id", "refund"), ("payment_id", "payment"))),
        ("payment_link", (("id", "payment_link"), ("order_id", "order"))),
    ):
        section = payload.get(name) if isinstance(payload, dict) else None
        entity = section.get("entity") if isinstance(section, dict) else None
        for field, kind in fields:
            value = entity.get(field) if isinstance(entity, dict) else None
            if isinstance(value, str):
                ids[kind].append(value)
    return ids
