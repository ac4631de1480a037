"""`make bench`'s side by side with the seller's Express backend (bench/peer_stack.py): both
services start against one fake Razorpay, answer what the bench sends them, and stop with
nothing left behind."""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import psycopg
import requests

from bench.load import Request
from bench.peer_inputs import create_order_requests, verify_requests, webhook_requests
from bench.peer_stack import KEY_ID, KEY_SECRET, PeerStack, running_peers


def _send(base_url: str, request: Request) -> requests.Response:
    return requests.request(
        request.method,
        base_url + request.path,
        headers=dict(request.headers),
        data=request.body.encode(),
        timeout=30,
    )


def _databases(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


def test_the_peer_and_our_api_create_verify_refund_and_take_webhooks_on_one_fake(
    dsn: str, tmp_path: Path
) -> None:
    databases_before = _databases(dsn)
    with running_peers(dsn, tmp_path / "logs") as stack:
        started = _processes(stack)
        peer_order, our_order = create_order_requests(stack)
        peer_answer = _send(stack.peer, peer_order)
        assert peer_answer.status_code == 200, peer_answer.text
        assert peer_answer.json()["order"]["amount"] == 49900
        our_answer = _send(stack.ours, our_order)
        assert our_answer.status_code == 201, our_answer.text
        assert our_answer.json()["razorpay_order_id"].startswith("order_")

        [peer_verify] = verify_requests(stack, True, 1)
        assert _send(stack.peer, peer_verify).json()["success"] is True
        [our_verify] = verify_requests(stack, False, 1)
        verified = _send(stack.ours, our_verify)
        assert verified.status_code == 200, verified.text
        assert verified.json()["order"]["status"] == "paid"
        _refund_through_the_fake(stack, json.loads(our_verify.body)["razorpay_payment_id"])

        [peer_event] = webhook_requests(stack, True, 1)
        assert _send(stack.peer, peer_event).json() == {"status": "ok"}
        [our_event] = webhook_requests(stack, False, 1)
        received = _send(stack.ours, our_event)
        assert received.status_code == 200, received.text
        assert received.json()["status"] == "applied"
    assert [pid for pid in started if psutil.pid_exists(pid)] == []
    assert _databases(dsn) == databases_before


def _processes(stack: PeerStack) -> list[int]:
    """The fake, the peer, our gunicorn master and its workers."""
    workers = [child.pid for child in psutil.Process(stack.ours_pid).children(recursive=True)]
    return [stack.fake_pid, stack.peer_pid, stack.ours_pid, *workers]


def _refund_through_the_fake(stack: PeerStack, payment_id: str) -> None:
    """Our refund reaches the fake, which keeps it once per X-Refund-Idempotency key, as
    Razorpay does, and lists it as our recovery path reads it."""
    auth = {"Authorization": f"Bearer {stack.site_token}"}
    refund = requests.post(
        f"{stack.ours}/v1/refunds",
        json={"payment_id": payment_id, "amount": 100},
        headers=auth,
        timeout=30,
    )
    assert refund.status_code == 201, refund.text
    assert refund.json()["status"] == "processed"
    at_razorpay = requests.get(
        f"{stack.fake}/v1/payments/{payment_id}/refunds", auth=(KEY_ID, KEY_SECRET), timeout=10
    ).json()
    assert [item["id"] for item in at_razorpay["items"]] == [refund.json()["razorpay_refund_id"]]
    again = requests.post(
        f"{stack.fake}/v1/payments/{payment_id}/refund",
        json={"amount": 100},
        headers={"X-Refund-Idempotency": refund.json()["id"]},
        auth=(KEY_ID, KEY_SECRET),
        timeout=10,
    )
    assert again.json()["id"] == refund.json()["razorpay_refund_id"]
