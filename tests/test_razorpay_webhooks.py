from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import Checkout, RazorpayWebhooks, SiteCredentials

COMPOSED = Path(__file__).resolve().parent / "fixtures" / "razorpay" / "composed"
PAYMENT_EVENTS = ("payment.authorized", "payment.captured", "order.paid")


def _sign(body: bytes, secret: str = "sandbox_webhook_secret") -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _paid_without_verify(checkout: Checkout, site: SiteCredentials) -> dict[str, Any]:
    """An order whose buyer paid and closed the tab: no verify call reaches us."""
    order = checkout.create_order(site)
    checkout.pay(order)
    return order


def test_webhooks_alone_pay_the_order_when_the_tab_is_closed(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = _paid_without_verify(checkout, new_site)

    answers = [webhooks.deliver(e) for e in webhooks.events_for(order["razorpay_order_id"])]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.get_json()["status"] for a in answers] == ["applied"] * 3
    assert db_rows("SELECT status, amount_paid FROM orders") == [
        {"status": "paid", "amount_paid": 49900}
    ]
    assert db_rows("SELECT status FROM payments") == [{"status": "captured"}]
    assert db_rows("SELECT source, granted_by FROM enrollments") == [
        {"source": "purchase", "granted_by": "webhook"}
    ]
    stored = db_rows("SELECT event_type, status, order_id FROM razorpay_events ORDER BY 1")
    assert stored == [
        {"event_type": e, "status": "applied", "order_id": order["id"]}
        for e in sorted(PAYMENT_EVENTS)
    ]


@pytest.mark.parametrize("event_name", PAYMENT_EVENTS)
def test_each_payment_event_type_is_applied_on_its_own(
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    db_rows: Any,
    event_name: str,
) -> None:
    order = _paid_without_verify(checkout, new_site)

    answer = webhooks.deliver(webhooks.event(order["razorpay_order_id"], event_name))

    assert answer.get_json()["status"] == "applied"
    expected = "authorized" if event_name == "payment.authorized" else "captured"
    assert db_rows("SELECT status FROM payments") == [{"status": expected}]
    paid = event_name != "payment.authorized"
    assert db_rows("SELECT status FROM orders") == [{"status": "paid" if paid else "attempted"}]
    assert len(db_rows("SELECT id FROM enrollments")) == (1 if paid else 0)


def test_payment_failed_is_recorded_with_its_reason(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.create_order(new_site)
    checkout.pay(order, outcome="failure", error_reason="card_declined")

    answer = webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.failed"))

    assert answer.get_json()["status"] == "applied"
    (payment,) = db_rows("SELECT status, error_code, error_reason FROM payments")
    assert payment["status"] == "failed" and payment["error_code"] == "BAD_REQUEST_ERROR"
    assert payment["error_reason"] == "card_declined"
    assert db_rows("SELECT status FROM orders") == [{"status": "attempted"}]
    assert db_rows("SELECT id FROM enrollments") == []


def test_every_arrival_order_of_verify_and_webhooks_ends_in_the_same_state(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    steps = ("verify", *PAYMENT_EVENTS)
    for number, permutation in enumerate(itertools.permutations(steps)):
        order = checkout.create_order(new_site, customer={"email": f"buyer{number}@example.com"})
        result = checkout.pay(order)
        for step in permutation:
            if step == "verify":
                response = checkout.verify(result)
            else:
                response = webhooks.deliver(webhooks.event(order["razorpay_order_id"], step))
            assert response.status_code == 200, (permutation, step, response.get_json())
        state = db_rows(
            "SELECT o.status, o.amount_paid, p.status AS payment_status, "
            "(SELECT count(*) FROM enrollments e WHERE e.order_id = o.id) AS enrollments "
            "FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.id = %s",
            order["id"],
        )
        assert state == [
            {"status": "paid", "amount_paid": 49900, "payment_status": "captured", "enrollments": 1}
        ], permutation
    assert len(db_rows("SELECT id FROM enrollments WHERE status = 'active'")) == 24


def test_each_event_delivered_three_times_applies_once(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = _paid_without_verify(checkout, new_site)
    events = webhooks.events_for(order["razorpay_order_id"])

    answers = [webhooks.deliver(event) for event in events for _ in range(3)]

    assert [a.get_json()["duplicate"] for a in answers] == [False, True, True] * 3
    assert len(db_rows("SELECT id FROM razorpay_events")) == 3
    assert db_rows("SELECT attempts FROM razorpay_events") == [{"attempts": 1}] * 3
    assert len(db_rows("SELECT id FROM enrollments")) == 1


def test_a_late_authorized_never_undoes_captured(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = _paid_without_verify(checkout, new_site)
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.captured"))
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.authorized"))

    assert db_rows("SELECT status FROM payments") == [{"status": "captured"}]
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]


def test_a_late_failure_of_another_attempt_does_not_unpay_the_order(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = checkout.create_order(new_site)
    checkout.pay(order, outcome="failure")
    checkout.pay(order)
    events = webhooks.events_for(order["razorpay_order_id"])
    failed = [e for e in events if e["event"] == "payment.failed"]
    others = [e for e in events if e["event"] != "payment.failed"]

    for event in others + failed:
        assert webhooks.deliver(event).status_code == 200

    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
    assert sorted(r["status"] for r in db_rows("SELECT status FROM payments")) == [
        "captured",
        "failed",
    ]
    assert len(db_rows("SELECT id FROM enrollments")) == 1


def test_events_of_orders_we_did_not_create_are_stored_as_unmatched_and_acknowledged(
    webhooks: RazorpayWebhooks, admin_headers: dict[str, str], client: Any, db_rows: Any
) -> None:
    signatures = json.loads((COMPOSED / "lifecycle.signatures.sample.json").read_text())
    for delivery in signatures["deliveries"][:4]:
        body = (COMPOSED.parent / delivery["file"]).read_bytes()
        headers = delivery["headers"]
        answer = webhooks.post(
            body, headers["X-Razorpay-Signature"], headers["X-Razorpay-Event-Id"]
        )
        assert answer.status_code == 200
        assert answer.get_json()["status"] == "unmatched"

    assert db_rows("SELECT id FROM orders") == []
    listed = client.get("/v1/webhook-events?status=unmatched", headers=admin_headers).get_json()
    assert {e["id"] for e in listed["items"]} == {
        "SbxEvent000001",
        "SbxEvent000002",
        "SbxEvent000003",
        "SbxEvent000004",
    }
    assert listed["last_received_at"] is not None


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "missing"),
        ("0" * 64, "wrong"),
        ("not-hex", "garbage"),
        (_sign(b'{"event":"payment.captured"}', "another-secret"), "another secret"),
    ],
)
def test_unsigned_or_wrongly_signed_deliveries_are_403_and_stored_nowhere(
    webhooks: RazorpayWebhooks, db_rows: Any, signature: str | None, reason: str
) -> None:
    answer = webhooks.post(b'{"event":"payment.captured"}', signature, "evt_forged0000001")
    assert answer.status_code == 403, reason
    assert answer.get_json()["code"] == "invalid_signature"
    assert db_rows("SELECT id FROM razorpay_events") == []


def test_a_reserialised_body_does_not_verify(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = _paid_without_verify(checkout, new_site)
    event = webhooks.event(order["razorpay_order_id"], "payment.captured")
    reserialised = json.dumps(json.loads(event["body"]), indent=2).encode()

    answer = webhooks.post(reserialised, event["signature"], event["id"])

    assert answer.status_code == 403
    assert db_rows("SELECT id FROM razorpay_events") == []


def test_a_truncated_body_fails_its_signature(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials
) -> None:
    order = _paid_without_verify(checkout, new_site)
    event = webhooks.event(order["razorpay_order_id"], "payment.captured")
    answer = webhooks.post(event["body"].encode()[:-20], event["signature"], event["id"])
    assert answer.status_code == 403


def test_signed_bodies_that_are_not_events_are_400(
    webhooks: RazorpayWebhooks, db_rows: Any
) -> None:
    for body in (b"not json at all", b"[1, 2, 3]", b'{"no": "event"}'):
        answer = webhooks.post(body, _sign(body), "evt_notanevent0001")
        assert answer.status_code == 400
        assert answer.get_json()["code"] == "malformed_webhook"
    assert db_rows("SELECT id FROM razorpay_events") == []


def test_a_huge_body_is_413(webhooks: RazorpayWebhooks) -> None:
    body = b'{"event": "payment.captured", "pad": "' + b"x" * 100_000 + b'"}'
    answer = webhooks.post(body, _sign(body), "evt_huge0000000001")
    assert answer.status_code == 413


def test_a_signed_event_missing_its_entity_is_stored_as_failed_and_acknowledged(
    webhooks: RazorpayWebhooks, db_rows: Any
) -> None:
    body = json.dumps(
        {"entity": "event", "event": "payment.captured", "payload": {}, "created_at": 1700000000}
    ).encode()
    answer = webhooks.post(body, _sign(body), "evt_noentity000001")
    assert answer.status_code == 200
    assert answer.get_json()["status"] == "failed"
    (row,) = db_rows("SELECT status, detail FROM razorpay_events")
    assert row["status"] == "failed" and "payload.payment.entity" in row["detail"]


def test_unknown_event_types_are_stored_and_ignored(
    webhooks: RazorpayWebhooks, db_rows: Any
) -> None:
    body = json.dumps(
        {
            "entity": "event",
            "event": "settlement.processed",
            "payload": {},
            "created_at": 1700000000,
        }
    ).encode()
    answer = webhooks.post(body, _sign(body), "evt_settlement0001")
    assert answer.get_json()["status"] == "ignored"
    assert db_rows("SELECT event_type, status FROM razorpay_events") == [
        {"event_type": "settlement.processed", "status": "ignored"}
    ]


def test_events_of_another_razorpay_account_are_ignored(
    make_app: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    db_rows: Any,
) -> None:
    order = _paid_without_verify(checkout, new_site)
    event = webhooks.event(order["razorpay_order_id"], "payment.captured")
    strict = RazorpayWebhooks(
        make_app(razorpay_account_id="acc_SomeoneElse0001").test_client(), webhooks.sandbox
    )
    assert strict.deliver(event).get_json()["status"] == "ignored"
    assert db_rows("SELECT status FROM orders") == [{"status": "created"}]


def test_a_replayed_old_event_id_is_acknowledged_and_not_applied_again(
    checkout: Checkout, webhooks: RazorpayWebhooks, new_site: SiteCredentials, db_rows: Any
) -> None:
    order = _paid_without_verify(checkout, new_site)
    event = webhooks.event(order["razorpay_order_id"], "payment.authorized")
    webhooks.deliver(event)
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.captured"))

    replay = webhooks.deliver(event)

    assert replay.status_code == 200 and replay.get_json()["duplicate"] is True
    assert db_rows("SELECT status FROM payments") == [{"status": "captured"}]


def test_two_webhook_secrets_are_valid_while_rotating(
    make_app: Any, webhooks: RazorpayWebhooks, db_rows: Any
) -> None:
    rotating = make_app(razorpay_webhook_secrets=("new-secret", "sandbox_webhook_secret"))
    client = RazorpayWebhooks(rotating.test_client(), webhooks.sandbox)
    body = json.dumps(
        {
            "entity": "event",
            "event": "refund.speed_changed",
            "payload": {},
            "created_at": 1700000000,
        }
    ).encode()
    assert client.post(body, _sign(body, "new-secret"), "evt_rot_new000001").status_code == 200
    old = client.post(body, _sign(body, "sandbox_webhook_secret"), "evt_rot_old000001")
    assert old.status_code == 200
    gone = client.post(body, _sign(body, "retired-secret"), "evt_rot_gone00001")
    assert gone.status_code == 403
    assert len(db_rows("SELECT id FROM razorpay_events")) == 2


def test_manual_capture_mode_captures_on_payment_authorized(
    make_app: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    requests.patch(f"{sandbox.url}/_sandbox/config", json={"auto_capture": False}, timeout=5)
    order = _paid_without_verify(checkout, new_site)
    capturing = RazorpayWebhooks(make_app(capture_authorized_payments=True).test_client(), sandbox)

    answer = capturing.deliver(webhooks.event(order["razorpay_order_id"], "payment.authorized"))

    assert answer.get_json()["status"] == "applied"
    assert db_rows("SELECT status FROM payments") == [{"status": "captured"}]
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
    payment_id = db_rows("SELECT id FROM payments")[0]["id"]
    at_razorpay = requests.get(
        f"{sandbox.url}/v1/payments/{payment_id}",
        timeout=5,
        auth=(sandbox.config.key_id, sandbox.config.key_secret),
    ).json()
    assert at_razorpay["status"] == "captured"


def test_without_manual_capture_mode_authorized_payments_wait(
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    sandbox: Any,
    db_rows: Any,
) -> None:
    requests.patch(f"{sandbox.url}/_sandbox/config", json={"auto_capture": False}, timeout=5)
    order = _paid_without_verify(checkout, new_site)
    webhooks.deliver(webhooks.event(order["razorpay_order_id"], "payment.authorized"))
    assert db_rows("SELECT status FROM payments") == [{"status": "authorized"}]


def test_an_unmatched_event_can_be_reapplied_once_its_order_exists(
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    client: Any,
    dsn: str,
    db_rows: Any,
) -> None:
    import psycopg

    order = _paid_without_verify(checkout, new_site)
    event = webhooks.event(order["razorpay_order_id"], "payment.captured")
    with psycopg.connect(dsn) as conn:  # the order is unknown when the event arrives
        conn.execute("UPDATE orders SET razorpay_order_id = 'order_Hidden00000001'")
    assert webhooks.deliver(event).get_json()["status"] == "unmatched"
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE orders SET razorpay_order_id = %s", (order["razorpay_order_id"],))

    answer = client.post(f"/v1/webhook-events/{event['id']}/reapply", headers=admin_headers)

    assert answer.status_code == 200
    assert answer.get_json()["status"] == "applied" and answer.get_json()["attempts"] == 2
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]


def test_an_event_failing_half_way_keeps_none_of_its_writes_and_is_stored_as_failed(
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    admin_headers: dict[str, str],
    client: Any,
    dsn: str,
    db_rows: Any,
) -> None:
    import psycopg

    order = _paid_without_verify(checkout, new_site)
    event = webhooks.event(order["razorpay_order_id"], "payment.captured")
    # The grant is written after the payment and the order's new status: make it fail.
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'enrollments are down'; END $$;"
            " CREATE TRIGGER refuse BEFORE INSERT ON enrollments"
            " FOR EACH ROW EXECUTE FUNCTION refuse()"
        )

    answer = webhooks.deliver(event)

    assert answer.status_code == 200 and answer.get_json()["status"] == "failed"
    assert db_rows("SELECT status, amount_paid FROM orders") == [
        {"status": "created", "amount_paid": 0}
    ]
    assert db_rows("SELECT id FROM payments") == []
    assert db_rows("SELECT id FROM notifications") == []
    (stored,) = db_rows("SELECT status, detail, attempts FROM razorpay_events")
    assert stored == {
        "status": "failed",
        "detail": "internal error (RaiseException)",
        "attempts": 1,
    }
    with psycopg.connect(dsn) as conn:
        conn.execute("DROP TRIGGER refuse ON enrollments")

    again = client.post(f"/v1/webhook-events/{event['id']}/reapply", headers=admin_headers)

    assert again.get_json()["status"] == "applied" and again.get_json()["attempts"] == 2
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
    assert len(db_rows("SELECT id FROM enrollments")) == 1


def test_webhook_event_admin_endpoints_need_an_admin(
    client: Any, new_site: SiteCredentials
) -> None:
    assert client.get("/v1/webhook-events", headers=new_site.headers).status_code == 403
    assert client.post("/v1/webhook-events/x/reapply", headers=new_site.headers).status_code == 403
    assert client.get("/v1/webhook-events").status_code == 401


def test_reapplying_an_unknown_event_is_404(client: Any, admin_headers: dict[str, str]) -> None:
    answer = client.post("/v1/webhook-events/nope/reapply", headers=admin_headers)
    assert answer.status_code == 404


def test_fifty_concurrent_deliveries_and_a_verify_grant_one_enrollment(
    live_api: str,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    db_rows: Any,
) -> None:
    order = checkout.create_order(new_site)
    result = checkout.pay(order)
    event = webhooks.event(order["razorpay_order_id"], "payment.captured")
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": event["signature"],
        "X-Razorpay-Event-Id": event["id"],
    }
    statuses: list[int] = []

    def deliver() -> None:
        statuses.append(
            requests.post(
                f"{live_api}/v1/webhooks/razorpay",
                timeout=30,
                data=event["body"].encode(),
                headers=headers,
            ).status_code
        )

    def verify() -> None:
        statuses.append(
            requests.post(f"{live_api}/v1/payments/verify", json=result, timeout=30).status_code
        )

    threads = [threading.Thread(target=deliver) for _ in range(50)]
    threads.insert(25, threading.Thread(target=verify))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 51
    assert len(db_rows("SELECT id FROM enrollments")) == 1
    assert db_rows("SELECT status, attempts FROM razorpay_events") == [
        {"status": "applied", "attempts": 1}
    ]
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]


def test_an_event_stored_but_never_applied_is_applied_by_the_worker(
    app: Any,
    checkout: Checkout,
    webhooks: RazorpayWebhooks,
    new_site: SiteCredentials,
    dsn: str,
    db_rows: Any,
) -> None:
    import psycopg

    from payments_service.worker import run_pass

    order = _paid_without_verify(checkout, new_site)
    event = webhooks.event(order["razorpay_order_id"], "payment.captured")
    with psycopg.connect(dsn) as conn:  # as if the process died right after storing it
        conn.execute(
            "INSERT INTO razorpay_events (id, event_type, payload, received_at) "
            "VALUES (%s, 'payment.captured', %s, now() - interval '5 minutes')",
            (event["id"], event["body"]),
        )

    report = run_pass(app.extensions["payments_service"], requests.Session())

    assert report.events_retried == 1
    assert db_rows("SELECT status FROM razorpay_events") == [{"status": "applied"}]
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
    assert run_pass(app.extensions["payments_service"], requests.Session()).events_retried == 0


def test_odd_but_signed_envelopes_never_cause_a_5xx(
    webhooks: RazorpayWebhooks, db_rows: Any
) -> None:
    far_future = json.dumps(
        {
            "event": "payment.captured",
            "created_at": 10**20,
            "account_id": ["not", "a", "string"],
            "payload": {},
        }
    ).encode()
    answer = webhooks.post(far_future, _sign(far_future), "evt_farfuture00001")
    assert answer.status_code == 200
    assert db_rows("SELECT razorpay_created_at, account_id FROM razorpay_events") == [
        {"razorpay_created_at": None, "account_id": None}
    ]

    with_nul = b'{"event": "payment.captured", "note": "a\\u0000b"}'
    answer = webhooks.post(with_nul, _sign(with_nul), "evt_nulchar000001")
    assert answer.status_code == 400 and answer.get_json()["code"] == "malformed_webhook"
