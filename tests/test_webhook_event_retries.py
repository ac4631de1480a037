"""Stored webhook events applied again: by an admin once their order exists, by the worker
when never applied, and a failure half-way keeps none of its writes."""

from __future__ import annotations

from typing import Any

import requests

from tests.actions import Checkout, RazorpayWebhooks, SiteCredentials
from tests.test_razorpay_webhooks import _paid_without_verify


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
            "INSERT INTO razorpay_events (id, event_type, payload, received_at, mode) "
            "VALUES (%s, 'payment.captured', %s, now() - interval '5 minutes', 'test')",
            (event["id"], event["body"]),
        )

    report = run_pass(app.extensions["payments_service"], requests.Session())

    assert report.events_retried == 1
    assert db_rows("SELECT status FROM razorpay_events") == [{"status": "applied"}]
    assert db_rows("SELECT status FROM orders") == [{"status": "paid"}]
    assert run_pass(app.extensions["payments_service"], requests.Session()).events_retried == 0
