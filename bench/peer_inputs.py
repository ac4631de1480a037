"""What the side-by-side runs send, prepared beforehand as request files (bench/requests.lua).

Verify: paid orders that exist at the fake (its test-only /_test/checkout makes an order
with one captured payment) and in the service's database, inserted by SQL as each service's
create-order would have stored it (the peer's row: its INSERT's columns; ours: an unpaid
order of the bench site), so that measuring verify does not depend on create-order; each
body carries Checkout's signature, HMAC-SHA256(order_id|payment_id, key secret).

Webhooks: distinct signed payment.captured events in Razorpay's envelope, compact JSON (the
peer signs over JSON.stringify of the parsed body, which gives back the same bytes). Ours
refer to orders stored beforehand, so each event is applied (order paid, access granted);
the peer's handler stores nothing, so any signed event will do.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from contextlib import closing
from typing import Any

import psycopg2
import requests

from bench.load import Request
from bench.peer_stack import KEY_SECRET, WEBHOOK_SECRET, PeerStack
from bench.settings import JSON, ORDER_AMOUNT, ORDER_BODY
from payments_service.ids import new_id

PEER_ORDER_BODY = {"amount": ORDER_AMOUNT // 100, "courseId": 1, "userId": 1}  # rupees

_PEER_ORDERS = """
INSERT INTO orders (order_id, user_id, course_id, amount, currency, status)
SELECT o, 1 + (n %% 10), 1 + (n %% 5), %s::numeric, 'INR', 'created'
  FROM unnest(%s::text[]) WITH ORDINALITY AS t(o, n)
"""

_OUR_ORDERS = """
INSERT INTO orders (id, razorpay_order_id, site_id, amount, currency, product_sku,
                    product_name, customer_email, receipt, mode)
SELECT id, razorpay_order_id, %s, %s, 'INR', 'python-101', 'Python 101',
       'buyer-' || lower(id) || '@example.com', id, 'test'
  FROM unnest(%s::text[], %s::text[]) AS t(id, razorpay_order_id)
"""


def create_order_requests(stack: PeerStack) -> tuple[Request, Request]:
    """(the peer's, ours): the same order, 499.00 INR."""
    peer = Request("POST", "/api/create-order", JSON, json.dumps(PEER_ORDER_BODY))
    auth = {"Authorization": f"Bearer {stack.site_token}"}
    ours = Request("POST", "/v1/orders", {**JSON, **auth}, json.dumps(ORDER_BODY))
    return peer, ours


def verify_requests(stack: PeerStack, peer: bool, count: int) -> list[Request]:
    """``count`` Checkout results of orders paid at the fake and stored unpaid in the
    peer's (``peer``) or our database."""
    pairs = _checkout(stack.fake, count)
    order_ids = [order_id for order_id, _ in pairs]
    if peer:
        _insert(stack.peer_dsn, _PEER_ORDERS, (ORDER_AMOUNT / 100, order_ids))
    else:
        ids = [new_id("ord") for _ in order_ids]
        _insert(stack.ours_dsn, _OUR_ORDERS, (stack.site_id, ORDER_AMOUNT, ids, order_ids))
    path = "/api/verify-payment" if peer else "/v1/payments/verify"
    return [
        Request("POST", path, JSON, json.dumps(_checkout_result(order_id, payment_id)))
        for order_id, payment_id in pairs
    ]


def webhook_requests(stack: PeerStack, peer: bool, count: int) -> list[Request]:
    """``count`` distinct signed payment.captured deliveries; ours about orders stored
    (unpaid) beforehand."""
    order_ids = [new_id("order") for _ in range(count)]
    if not peer:
        ids = [new_id("ord") for _ in order_ids]
        _insert(stack.ours_dsn, _OUR_ORDERS, (stack.site_id, ORDER_AMOUNT, ids, order_ids))
    path = "/api/razorpay-webhook" if peer else "/v1/webhooks/razorpay"
    created_at = int(time.time())
    deliveries = []
    for n, order_id in enumerate(order_ids):
        body = json.dumps(_captured_event(order_id, n, created_at), separators=(",", ":"))
        signature = hmac.new(WEBHOOK_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
        headers = {**JSON, "X-Razorpay-Signature": signature, "X-Razorpay-Event-Id": new_id("evt")}
        deliveries.append(Request("POST", path, headers, body))
    return deliveries


def _checkout(fake: str, count: int) -> list[tuple[str, str]]:
    answer = requests.post(
        f"{fake}/_test/checkout", json={"count": count, "amount": ORDER_AMOUNT}, timeout=120
    )
    answer.raise_for_status()
    return [(str(order_id), str(payment_id)) for order_id, payment_id, _ in answer.json()]


def _checkout_result(order_id: str, payment_id: str) -> dict[str, str]:
    message = f"{order_id}|{payment_id}".encode()
    signature = hmac.new(KEY_SECRET.encode(), message, hashlib.sha256).hexdigest()
    return {
        "razorpay_order_id": order_id,
        "razorpay_payment_id": payment_id,
        "razorpay_signature": signature,
    }


def _insert(dsn: str, statement: str, params: Sequence[Any]) -> None:
    with closing(psycopg2.connect(dsn)) as conn, conn, conn.cursor() as cur:
        cur.execute(statement, params)


def _captured_event(order_id: str, n: int, created_at: int) -> dict[str, Any]:
    """A payment.captured event as Razorpay sends it (a UPI payment of ``order_id``)."""
    payment = {
        "id": new_id("pay"),
        "entity": "payment",
        "amount": ORDER_AMOUNT,
        "currency": "INR",
        "status": "captured",
        "order_id": order_id,
        "invoice_id": None,
        "international": False,
        "method": "upi",
        "amount_refunded": 0,
        "refund_status": None,
        "captured": True,
        "description": "Course purchase",
        "card_id": None,
        "bank": None,
        "wallet": None,
        "vpa": "buyer@okbank",
        "email": "buyer@example.com",
        "contact": "+919000090000",
        "notes": {"courseId": 1 + n % 5, "userId": 1 + n % 10},
        "fee": 998,
        "tax": 152,
        "error_code": None,
        "error_description": None,
        "error_source": None,
        "error_step": None,
        "error_reason": None,
        "acquirer_data": {"rrn": str(400000000000 + n), "upi_transaction_id": new_id("upi")},
        "created_at": created_at,
    }
    return {
        "entity": "event",
        "account_id": "acc_PeerBench00001",
        "event": "payment.captured",
        "contains": ["payment"],
        "payload": {"payment": {"entity": payment}},
        "created_at": created_at,
    }
